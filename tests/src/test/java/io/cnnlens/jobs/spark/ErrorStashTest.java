package io.cnnlens.jobs.spark;

import io.cnnlens.jobs.features.FeaturesSchema;

import io.cnnlens.features.ErrorRow;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The features job's error stash under failed, retried and speculative task attempts. */
class ErrorStashTest {

    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[1]").appName("error-stash")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    @Test
    void aRetriedPartitionIsStashedOnceAndAFailedAttemptLeavesNothing() throws Exception {
        String dir = tmp.resolve("stash").toString();
        Configuration conf = new Configuration();
        List<ErrorRow> partition0 = List.of(new ErrorRow("file:/a/x.png", "decode", "not an image: \"quoted\"\nsecond line"),
                new ErrorRow("file:/a/y.png", "read", "zero bytes"));
        // attempt 1 of partition 0 fails half-way: its temporary file goes, nothing is published
        try (ErrorStash.Writer failed = new ErrorStash.Writer(dir, conf, 0, 1)) {
            failed.add(partition0.get(0));
        }
        // attempt 2 succeeds; a speculative attempt 3 finishes too, with the same rows
        for (long attempt : new long[] {2, 3}) {
            try (ErrorStash.Writer w = new ErrorStash.Writer(dir, conf, 0, attempt)) {
                partition0.forEach(w::add);
                w.publish();
            }
        }
        // partition 1 has one error, partition 2 none (no file)
        try (ErrorStash.Writer w = new ErrorStash.Writer(dir, conf, 1, 4)) {
            w.add(new ErrorRow("file:/b/z.gif", "too-large", "70000 x 70000 pixels"));
            w.publish();
        }
        try (ErrorStash.Writer w = new ErrorStash.Writer(dir, conf, 2, 5)) {
            w.publish();
        }
        try (Stream<Path> files = Files.list(tmp.resolve("stash"))) {
            assertEquals(List.of("part-00000.json", "part-00001.json"),
                    files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList());
        }
        List<Row> rows = ErrorStash.read(spark, dir, FeaturesSchema.ERRORS_SCHEMA, conf).orderBy("path").collectAsList();
        assertEquals(3, rows.size());
        assertEquals("file:/a/x.png", rows.get(0).getString(0));
        assertEquals("not an image: \"quoted\"\nsecond line", rows.get(0).getString(2), "reasons survive JSON");
        assertEquals("read", rows.get(1).getString(1));
        assertEquals("too-large", rows.get(2).getString(1));
    }

    @Test
    void noStashIsAnEmptyTableWithTheErrorsSchema() {
        var t = ErrorStash.read(spark, tmp.resolve("never-written").toString(), FeaturesSchema.ERRORS_SCHEMA, new Configuration());
        assertEquals(0, t.count());
        assertTrue(List.of(t.columns()).containsAll(List.of("path", "stage", "reason")));
    }
}
