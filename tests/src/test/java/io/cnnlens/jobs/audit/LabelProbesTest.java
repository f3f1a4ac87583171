package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kept label probes score as MLlib's own fitted models do: {@link LabelProbes#score} with
 * the weights a fit recorded gives each row the probabilities the fit's {@code transform} gave it
 * (the probe of its fold), also after a round trip through {@code probes.json}.
 */
class LabelProbesTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("label-probes")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Three Gaussian blobs in 8 dimensions, some overlap, so that the probabilities are not all 0 or 1. */
    static Dataset<Row> blobs(int from, int n, long seed) {
        Random rnd = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            int c = i % 3;
            List<Float> x = new ArrayList<>();
            for (int j = 0; j < 8; j++) {
                x.add((float) ((j == c ? 2.0 : 0.0) + rnd.nextGaussian()));
            }
            rows.add(RowFactory.create("img-" + i + ".png", "id-" + i, c, x));
        }
        return spark.createDataFrame(rows, ROWS);
    }

    static final StructType ROWS = new StructType().add("path", DataTypes.StringType).add("image_id", DataTypes.StringType)
            .add("label_index", DataTypes.IntegerType).add("fc7", DataTypes.createArrayType(DataTypes.FloatType));

    /**
     * Copies of one file at several paths (same content, so same {@code image_id} and fc7) fall in
     * one fold: the probe that scores a copy never trained on its twin, label included. The twins get
     * the same probabilities to the last bit; with folds by path, only the copies whose two paths
     * happened to fall in one fold (one in K) did.
     */
    @Test
    void copiesOfOneContentShareAFold() {
        Dataset<Row> d = blobs(0, 300, 6);
        List<Row> copies = new ArrayList<>();
        for (Row r : d.limit(60).collectAsList()) {
            // half of the copies carry another label, as a copy filed under another class would
            int label = copies.size() % 2 == 0 ? r.getInt(2) : (r.getInt(2) + 1) % 3;
            copies.add(RowFactory.create("copy-of-" + r.getString(0), r.getString(1), label, r.getList(3)));
        }
        Dataset<Row> all = d.unionByName(spark.createDataFrame(copies, ROWS));
        Map<String, double[]> p = byPath(LabelProbes.fit(all, List.of("a", "b", "c"), 5, 12, "a1", 1).rows());
        assertEquals(360, p.size());
        for (Row c : copies) {
            String original = c.getString(0).substring("copy-of-".length());
            assertArrayEquals(p.get(original), p.get(c.getString(0)), 0, c.getString(0) + " and " + original + ": scored by one probe");
        }
    }

    static Map<String, double[]> byPath(Dataset<Row> scored) {
        Map<String, double[]> m = new HashMap<>();
        for (Row r : scored.collectAsList()) {
            List<Double> p = r.getList(2);
            m.put(r.getString(0), p.stream().mapToDouble(Double::doubleValue).toArray());
        }
        return m;
    }

    @Test
    void keptProbesScoreEveryRowAsItsFoldsFittedModelDid() throws Exception {
        Dataset<Row> d = blobs(0, 240, 3);
        List<String> classes = List.of("a", "b", "c");
        LabelProbes.Scored fit = LabelProbes.fit(d, classes, 3, 12, "a1", 4);
        Map<String, double[]> fitted = byPath(fit.rows());
        assertEquals(240, fitted.size(), "every row scored once, by the probe of its fold");

        LabelProbes.Fitted kept = LabelProbes.Fitted.of(new ObjectMapper().readTree(fit.probes().json()));
        assertEquals("a1", kept.run());
        assertEquals(4, kept.featuresVersion());
        assertTrue(kept.fits(classes, 3, 12, 8));
        assertFalse(kept.fits(classes, 5, 12, 8), "other folds");
        assertFalse(kept.fits(List.of("a", "b"), 3, 12, 8), "other classes");
        assertFalse(kept.fits(classes, 3, 13, 8), "other seed: other folds");
        // probes.json of an audit that folded by path (before folds by content): its folds are not these
        com.fasterxml.jackson.databind.node.ObjectNode byPath = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper()
                .readTree(fit.probes().json());
        byPath.remove("folded_by");
        assertFalse(LabelProbes.Fitted.of(byPath).fits(classes, 3, 12, 8), "probes folded by path");

        Map<String, double[]> rescored = byPath(LabelProbes.score(d, kept));
        assertEquals(fitted.keySet(), rescored.keySet());
        double worst = 0;
        int uncertain = 0;
        for (Map.Entry<String, double[]> e : fitted.entrySet()) {
            double[] a = e.getValue();
            double[] b = rescored.get(e.getKey());
            assertEquals(3, b.length);
            for (int c = 0; c < 3; c++) {
                worst = Math.max(worst, Math.abs(a[c] - b[c]));
            }
            uncertain += java.util.Arrays.stream(a).max().orElseThrow() < 0.9 ? 1 : 0;
        }
        assertTrue(worst < 1e-9, "kept probes against MLlib's transform: max |diff| " + worst);
        assertTrue(uncertain > 10, "the blobs overlap, so the comparison covers probabilities far from 0 and 1: " + uncertain);

        // a row added since the fit is scored too (by the probe of its fold, which never saw it)
        Dataset<Row> grown = d.unionByName(blobs(240, 10, 4));
        Map<String, double[]> more = byPath(LabelProbes.score(grown, kept));
        assertEquals(250, more.size());
        assertArrayEquals(rescored.get("img-7.png"), more.get("img-7.png"), 0);
    }

    /**
     * A fit is a function of the images alone: the same rows in another order and other partitions
     * (as another write of the same features table gives them), under another folder, fit the same
     * probes to the last bit, so a refit of an unchanged collection flags the same label issues.
     */
    @Test
    void theSameRowsInAnotherOrderFitTheSameProbes() {
        Dataset<Row> d = blobs(0, 900, 5);
        List<String> classes = List.of("a", "b", "c");
        Dataset<Row> shuffled = d.withColumn("path", org.apache.spark.sql.functions.concat(org.apache.spark.sql.functions.lit("moved/"),
                org.apache.spark.sql.functions.col("path"))).orderBy(org.apache.spark.sql.functions.rand(7)).repartition(5);
        assertFalse(d.select("image_id").collectAsList().equals(shuffled.select("image_id").collectAsList()), "another order");
        LabelProbes.Scored one = LabelProbes.fit(d, classes, 3, 12, "a1", 1);
        LabelProbes.Scored two = LabelProbes.fit(shuffled, classes, 3, 12, "a1", 1);
        for (int f = 0; f < 3; f++) {
            for (int c = 0; c < 3; c++) {
                assertArrayEquals(one.probes().weights()[f][c], two.probes().weights()[f][c], 0, "fold " + f + ", class " + c);
            }
            assertArrayEquals(one.probes().intercepts()[f], two.probes().intercepts()[f], 0, "fold " + f);
        }
        Map<String, double[]> a = byPath(one.rows());
        Map<String, double[]> b = byPath(two.rows());
        assertEquals(a.size(), b.size());
        a.forEach((path, p) -> assertArrayEquals(p, b.get("moved/" + path), 0, path));
    }
}
