package io.cnnlens.tests;

import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.cli.Cli;
import io.cnnlens.jobs.synthesis.InvertJob;
import io.cnnlens.jobs.synthesis.InvertOptions;
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
        List<Row> rows = io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("invert").toString()).collectAsList();
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
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("invert_errors").toString()).count(), "no bad inputs in the sample");
    }

    @Test
    void badInputsAreErrorRowsAndSampleZeroTakesEveryImage() throws Exception {
        Path images = tmp.resolve("images");
        Files.createDirectories(images.resolve("bag"));
        try (var w = Files.list(bundledSample().resolve("bag"))) {
            Path good = w.filter(p -> p.toString().endsWith(".png")).sorted().findFirst().orElseThrow();
            Files.copy(good, images.resolve("bag").resolve(good.getFileName()));
        }
        Files.write(images.resolve("bag/empty.png"), new byte[0]);
        Files.writeString(images.resolve("bag/notes.txt"), "not an image\n");
        Path out = tmp.resolve("out");
        InvertJob.Summary s = InvertJob.run(spark, InvertOptions.of(OptionValues.defaults()
                .with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(InvertOptions.SAMPLE, 0).with(InvertOptions.LAYERS, List.of("conv1")).with(InvertOptions.ITERATIONS, 20)));
        assertEquals(3, s.inputs(), "--sample 0: every input");
        assertEquals(1, s.images());
        assertEquals(2, s.errors());
        assertEquals(s.inputs(), s.images() + s.errors(), "inputs = images + errors");
        assertEquals(1, io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("invert").toString()).count());
        List<Row> errors = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("invert_errors").toString()).orderBy("path").collectAsList();
        assertEquals(List.of("read", "decode"), errors.stream().map(r -> r.getString(1)).toList());
        assertTrue(errors.get(0).getString(0).endsWith("empty.png"), errors.toString());
    }
}
