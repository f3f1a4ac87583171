package io.cnnlens.jobs.spark;

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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bounded reads of a written table: the same answers as a distinct over its paths. */
class WrittenTableTest {

    static SparkSession spark;
    static final StructType SCHEMA = new StructType().add("path", DataTypes.StringType, false)
            .add("method", DataTypes.StringType, true).add("success", DataTypes.BooleanType, true);

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("written-table")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    /** {@code images} paths in shuffled order, each with one row per entry of {@code methods}, over 5 partitions. */
    static Dataset<Row> table(int images, List<String> methods, long seed) {
        List<Row> rows = new ArrayList<>();
        Random r = new Random(seed);
        for (int i = 0; i < images; i++) {
            String path = "file:/in/c" + r.nextInt(10) + "/img-" + r.nextInt(1_000_000) + "-" + i + ".png";
            for (String m : methods) {
                rows.add(RowFactory.create(path, m, r.nextBoolean()));
            }
        }
        Collections.shuffle(rows, r);
        return spark.createDataFrame(rows, SCHEMA).repartition(5);
    }

    @Test
    void theFirstPathsAreThoseOfADistinctOverAllPaths() {
        for (List<String> methods : List.of(List.of("gradient"), List.of("gradient", "smoothgrad", "occlusion"),
                List.of("fool", "fool", "pgd", "pgd-targeted", "pgd-targeted"))) {
            Dataset<Row> t = table(300, methods, methods.size());
            for (int k : new int[] {1, 16, 299, 300, 400}) {
                List<String> expected = new ArrayList<>();
                t.select("path").distinct().orderBy("path").limit(k).collectAsList().forEach(r -> expected.add(r.getString(0)));
                assertEquals(expected, WrittenTable.firstDistinct(t, "path", k, methods.size()), methods + ", k = " + k);
            }
        }
        assertEquals(List.of(), WrittenTable.firstDistinct(table(3, List.of("gradient"), 1), "path", 0, 1));
    }

    @Test
    void imagesAreCountedFromTheRowsOfEachMethod() {
        List<String> rowsOfAnImage = List.of("fool", "fool", "pgd", "pgd-targeted", "pgd-targeted");
        Dataset<Row> t = table(123, rowsOfAnImage, 7);
        WrittenTable.ImageCount c = WrittenTable.images(t, "method", rowsOfAnImage);
        assertEquals(t.select("path").distinct().count(), c.images());
        assertEquals(Map.of("fool", 246L, "pgd", 123L, "pgd-targeted", 246L), c.rows());
        // a missing row of one method: the counts do not agree
        Dataset<Row> missing = t.filter(col("method").notEqual("pgd").or(col("path").notEqual(t.first().getString(0))));
        assertEquals(-1, WrittenTable.images(missing, "method", rowsOfAnImage).images());
        assertEquals(-1, WrittenTable.images(t, "method", List.of("fool", "pgd", "pgd-targeted")).images());
    }

    @Test
    void conditionalCountsAreThoseOfAGrouping() {
        Dataset<Row> t = table(200, List.of("a", "b"), 3);
        long[] c = WrittenTable.countsWhere(t, List.of(col("method").equalTo("a"), col("method").equalTo("a").and(col("success")),
                col("method").equalTo("zzz")));
        assertArrayEquals(new long[] {200, t.filter(col("method").equalTo("a").and(col("success"))).count(), 0}, c);
        assertArrayEquals(new long[] {200, 200}, WrittenTable.countsOf(t, "method", List.of("b", "a")));
    }
}
