package io.cnnlens.tests;

import io.cnnlens.jobs.cli.Cli;
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
        java.util.Map<String, java.util.Map<String, Double>> corr = new java.util.HashMap<>();
        for (Row r : rows) {
            double c = r.getAs("pixel_correlation");
            double err = r.getAs("feature_error");
            String layer = r.getAs("layer");
            corr.computeIfAbsent(r.getAs("path"), k -> new java.util.HashMap<>()).put(layer, c);
            // the reconstruction's features are close to the original's (relative squared error)
            assertTrue(err < 0.5, layer + " features matched: err " + err);
            if (layer.equals("conv1")) {
                assertTrue(c > 0.9, "conv1 keeps nearly everything: corr " + c + ", err " + err);
            } else {
                assertTrue(c > 0, "conv5 keeps something of the image: corr " + c + ", err " + err);
            }
        }
        double conv5 = corr.values().stream().mapToDouble(m -> m.get("conv5")).average().orElseThrow();
        assertTrue(conv5 > 0.2, "conv5 keeps the shape on average: corr " + conv5 + " " + corr);
        corr.forEach((path, byLayer) -> assertTrue(byLayer.get("conv1") > byLayer.get("conv5"),
                "the deeper layer keeps less of " + path + ": " + byLayer));
        assertTrue(Files.exists(tmp.resolve("pictures/invert/invert-grid.png")));
    }
}
