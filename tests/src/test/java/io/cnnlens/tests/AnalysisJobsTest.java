package io.cnnlens.tests;

import io.cnnlens.activation.ReceptiveField;
import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.embed.EmbedJob;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.neighbors.NeighborsJob;
import io.cnnlens.jobs.patches.PatchesJob;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** patches, neighbors and embed on the features of the bundled sample, checked against independent computations. */
class AnalysisJobsTest extends SparkTestBase {

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static Path features;

    @BeforeAll
    static void runFeatures() {
        features = shared.resolve("run");
        FeaturesJob.run(spark, FeaturesJobTest.settings(bundledSample(), features, "bundled"));
    }

    @Test
    void neighboursEqualBruteForceInBothSpaces() throws Exception {
        NeighborsJob.Summary s = NeighborsJob.run(spark, new NeighborsJob.Settings(features.toString(), tmp.toString(), "bundled",
                10, List.of(ExactKnn.Metric.L2, ExactKnn.Metric.COSINE), 0, 1, 0, 300, 700, 4, 50_000_000L, true));
        List<Row> feats = spark.read().parquet(features.resolve("features").toString()).select("path", "label", "fc7").collectAsList();
        int n = feats.size();
        assertEquals((long) n * 10 * 4, s.rows(), "k rows per query, space and metric");
        List<String> paths = new ArrayList<>();
        float[][] fc7 = new float[n][];
        float[][] pix = new float[n][];
        ImageDecoder decoder = new ImageDecoder(1_000_000);
        for (int i = 0; i < n; i++) {
            Row r = feats.get(i);
            paths.add(r.getString(0));
            fc7[i] = FeaturesJobTest.floats(r, "fc7");
            pix[i] = Preprocessor.pixelVector(decoder.decode(Files.readAllBytes(Path.of(URI.create(r.getString(0))))), 1, 28);
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(paths.get(i), i);
        }
        Map<String, List<Row>> got = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(s.table()).collectAsList()) {
            got.computeIfAbsent(r.<String>getAs("space") + "|" + r.getAs("metric") + "|" + r.getAs("query_path"), x -> new ArrayList<>()).add(r);
        }
        int checked = 0;
        int ties = 0;
        for (Map.Entry<String, List<Row>> e : got.entrySet()) {
            String[] key = e.getKey().split("\\|");
            float[][] space = key[0].equals("fc7") ? fc7 : pix;
            boolean cosine = key[1].equals("cosine");
            int q = index.get(key[2]);
            double[] d = new double[n];
            for (int j = 0; j < n; j++) {
                d[j] = distance(space[q], space[j], cosine);
            }
            Integer[] order = IntStream.range(0, n).filter(j -> j != q).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(j -> d[j])).toArray(Integer[]::new);
            List<Row> rows = e.getValue();
            rows.sort(Comparator.comparingInt(r -> r.<Integer>getAs("rank")));
            assertEquals(10, rows.size());
            for (int rank = 0; rank < 10; rank++) {
                Row r = rows.get(rank);
                double expect = d[order[rank]];
                assertEquals(expect, r.<Float>getAs("distance"), 1e-5 * Math.max(1, expect), e.getKey() + " rank " + rank);
                int nb = index.get(r.<String>getAs("neighbor_path"));
                if (nb != order[rank]) { // only a tie may swap neighbours
                    assertEquals(expect, d[nb], 1e-6 * Math.max(1, expect), e.getKey() + " rank " + rank + " is not a tie");
                    ties++;
                }
                checked++;
            }
        }
        System.out.printf("neighbors: %d (query, rank) pairs equal brute force, %d of them ties broken differently%n", checked, ties);
        Map<String, NeighborsJob.Agreement> a = new HashMap<>();
        s.agreement().forEach(x -> a.put(x.space() + "|" + x.metric(), x));
        assertEquals(4, a.size());
        a.values().forEach(x -> System.out.printf("neighbors: %s %s label agreement %.4f, kNN-10 accuracy %.4f%n",
                x.space(), x.metric(), x.labelAgreement(), x.knnAccuracy()));
        assertTrue(a.get("fc7|l2").knnAccuracy() > a.get("pixels|l2").knnAccuracy() + 0.05,
                "FC7 space groups classes better than pixel space");
        assertTrue(Files.size(local(s.picture())) > 10_000);
    }

    @Test
    void patchesAreTheTopActivationsOfTheFeaturesTablesConvMax() throws Exception {
        int k = 5;
        PatchesJob.Summary s = PatchesJob.run(spark, new PatchesJob.Settings(features.toString(), tmp.toString(), "bundled",
                "conv5", null, k, 0, 50_000_000L, 3));
        List<Row> feats = spark.read().parquet(features.resolve("features").toString()).dropDuplicates("image_id")
                .select("image_id", "conv_layer", "conv_max").collectAsList();
        assertEquals("conv5", feats.get(0).getString(1));
        int channels = FeaturesJobTest.floats(feats.get(0), "conv_max").length;
        assertEquals((long) channels * k, s.rows());
        assertEquals(feats.size(), s.scanned());
        ModelSpec spec = ModelSpec.load(bundledSpec());
        ReceptiveField.Field field = ReceptiveField.parse(spec.geometry()).of("conv5");
        Dataset<Row> table = spark.read().parquet(s.table());
        for (int c = 0; c < channels; c++) {
            int ch = c;
            // independent: the features job's per-channel spatial max, sorted over all images
            List<float[]> expect = new ArrayList<>();
            for (Row r : feats) {
                expect.add(new float[] {FeaturesJobTest.floats(r, "conv_max")[ch]});
            }
            expect.sort((x, y) -> Float.compare(y[0], x[0]));
            List<Row> got = table.filter(col("channel").equalTo(c)).orderBy("rank").collectAsList();
            assertEquals(k, got.size());
            for (int r = 0; r < k; r++) {
                Row row = got.get(r);
                assertEquals(r, row.<Integer>getAs("rank"));
                assertEquals(expect.get(r)[0], row.<Float>getAs("activation"), 1e-4f, "channel " + c + " rank " + r);
                Row box = row.getAs("box");
                int[] b = field.clippedBox(row.<Integer>getAs("unit_y"), row.<Integer>getAs("unit_x"), 28, 28);
                assertEquals(List.of(b[0], b[1], b[2], b[3]), List.of(box.getInt(0), box.getInt(1), box.getInt(2), box.getInt(3)));
                BufferedImage patch = ImageIO.read(new ByteArrayInputStream(row.getAs("patch")));
                assertEquals(b[2] - b[0], patch.getWidth());
                assertEquals(b[3] - b[1], patch.getHeight());
            }
        }
        BufferedImage grid = ImageIO.read(local(s.picture()).toFile());
        assertTrue(grid.getHeight() > channels * 40, "one row per channel");
    }

    @Test
    void embedMapsKeepNeighbourhoods() throws Exception {
        EmbedJob.Settings d = EmbedJob.Settings.defaults(features.toString(), tmp.toString());
        EmbedJob.Settings s = new EmbedJob.Settings(d.features(), d.out(), "fc7", d.pcaSample(), 50, 800, 30, 600,
                d.placePerplexity(), d.placeIterations(), 2000, 10, 7, 20, 24, d.maxPixels());
        EmbedJob.Summary r = EmbedJob.run(spark, s);
        assertEquals(4000, r.rows());
        Dataset<Row> t = spark.read().parquet(r.table());
        assertEquals(2000, t.filter(col("method").equalTo("tsne")).select("path").distinct().count());
        assertEquals(2000, t.filter(col("method").equalTo("pca")).count());
        EmbedJob.Quality q = r.quality();
        System.out.printf("embed on the sample (t-SNE fitted on 800, 1200 placed): kNN-10 fc7 %.4f, PCA %.4f, t-SNE %.4f; "
                + "trustworthiness PCA %.4f, t-SNE %.4f%n", q.knnFeatures(), q.knnPca(), q.knnTsne(), q.trustPca(), q.trustTsne());
        assertTrue(q.knnTsne() > q.knnFeatures() - 0.03, "t-SNE keeps the classes apart: " + q.knnTsne());
        assertTrue(q.trustTsne() > 0.98, "t-SNE trustworthiness " + q.trustTsne());
        assertTrue(q.trustTsne() > q.trustPca() && q.knnTsne() > q.knnPca());
        for (String p : List.of("pca.png", "tsne.png", "tsne-mosaic.png")) {
            assertTrue(Files.size(local(r.pictures()).resolve(p)) > 10_000, p);
        }
    }

    @Test
    void degenerateInputsGiveClearMessages() {
        Dataset<Row> all = spark.read().parquet(features.resolve("features").toString());
        Path empty = tmp.resolve("empty");
        all.limit(0).write().mode(SaveMode.Overwrite).parquet(empty.resolve("features").toString());
        Path one = tmp.resolve("one");
        all.limit(1).write().mode(SaveMode.Overwrite).parquet(one.resolve("features").toString());
        String out = tmp.resolve("out").toString();

        assertMessage("has no rows", () -> PatchesJob.run(spark, patches(empty, out, "conv5", null)));
        assertMessage("has 0 image(s)", () -> NeighborsJob.run(spark, neighbors(empty, out, 10)));
        assertMessage("has 0 image(s)", () -> EmbedJob.run(spark, EmbedJob.Settings.defaults(empty.toString(), out)));
        assertMessage("has 1 image(s); neighbours need at least 2", () -> NeighborsJob.run(spark, neighbors(one, out, 10)));
        assertMessage("a map needs at least 4", () -> EmbedJob.run(spark, EmbedJob.Settings.defaults(one.toString(), out)));
        assertMessage("use --k between 1 and 1999", () -> NeighborsJob.run(spark, neighbors(features, out, 2000)));
        assertMessage("is not in the model's layers.geometry", () -> PatchesJob.run(spark, patches(features, out, "conv9", null)));
        assertMessage("there is no channel 64", () -> PatchesJob.run(spark, patches(features, out, "conv5", new int[] {3, 64})));
        assertMessage("no features table at", () -> NeighborsJob.run(spark, neighbors(tmp.resolve("missing"), out, 10)));
        // one image: every channel gets its one patch, and the summary says why there are not 9
        PatchesJob.Summary single = PatchesJob.run(spark, patches(one, out, "conv5", new int[] {0, 1}));
        assertEquals(2, single.rows());
        assertTrue(single.note().contains("each channel has 1 patch(es) instead of 9"), single.note());
        // nothing half-written by the failures
        assertTrue(!Files.exists(Path.of(out, "neighbors")) && !Files.exists(Path.of(out, "embed")));
    }

    private static PatchesJob.Settings patches(Path f, String out, String layer, int[] channels) {
        return new PatchesJob.Settings(f.toString(), out, "bundled", layer, channels, 9, 0, 50_000_000L, 0);
    }

    private static NeighborsJob.Settings neighbors(Path f, String out, int k) {
        return new NeighborsJob.Settings(f.toString(), out, "bundled", k, List.of(ExactKnn.Metric.L2), 0, 1, 0, 1024, 8192,
                4, 50_000_000L, true);
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "expected '" + part + "' in: " + ex.getMessage());
    }

    private static Path local(String p) {
        return p.startsWith("file:") ? Path.of(URI.create(p)) : Path.of(p);
    }

    private static double distance(float[] a, float[] b, boolean cosine) {
        double s = 0;
        double na = 0;
        double nb = 0;
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            s += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
            dot += (double) a[i] * b[i];
        }
        if (!cosine) {
            return Math.sqrt(s);
        }
        return na == 0 || nb == 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
    }
}
