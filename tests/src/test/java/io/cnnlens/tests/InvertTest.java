package io.cnnlens.tests;

import io.cnnlens.jobs.Cli;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InvertTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void shallowLayersReconstructTheImageDeepOnesLess() {
        assertEquals(0, Cli.run("invert", "--out", tmp.toString(), "--sample", "2", "--layers", "conv1,conv5", "--master", "local[2]"));
        List<Row> rows = spark.read().parquet(tmp.resolve("invert").toString()).collectAsList();
        assertEquals(4, rows.size());
        for (Row r : rows) {
            double corr = r.getAs("pixel_correlation");
            double err = r.getAs("feature_error");
            if (r.<String>getAs("layer").equals("conv1")) {
                assertTrue(corr > 0.9 && err < 0.25, "conv1 keeps nearly everything: corr " + corr + ", err " + err);
            } else {
                assertTrue(corr > 0.2 && err < 0.5, "conv5 keeps the shape: corr " + corr + ", err " + err);
            }
        }
        assertTrue(Files.exists(tmp.resolve("pictures/invert/invert-grid.png")));
    }
}
