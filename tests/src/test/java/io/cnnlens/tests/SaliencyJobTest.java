package io.cnnlens.tests;

import ai.djl.Device;
import io.cnnlens.attribution.SaliencySettings;
import io.cnnlens.attribution.VanillaGradient;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.saliency.SaliencyJob;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SaliencyJobTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static SaliencyJob.Settings settings(Path images, Path out, String model, List<String> methods, String target) {
        return new SaliencyJob.Settings(images.toString(), out.toString(), model, ImageSource.Options.defaults(), methods, target,
                new SaliencySettings(4, 0.15, 8, 7, 3, null, 4, 4, 1, 64), 0, null, 8, 50_000_000L, 6, 3);
    }

    @Test
    void everyImageGetsItsMapsOrAnErrorRowAndMapsEqualADirectComputation() throws Exception {
        Map<String, String> expected = FeaturesJobTest.writeCorpus(tmp.resolve("corpus"), 2);
        SaliencyJob.Summary s = SaliencyJob.run(spark, settings(tmp.resolve("corpus"), tmp.resolve("out"), "bundled",
                List.of("gradient", "occlusion", "shapley"), "predicted"));
        long bad = expected.values().stream().filter(v -> !v.equals("ok")).count();
        assertEquals(expected.size(), s.inputs());
        assertEquals(bad, s.errors());
        assertEquals(s.inputs() - bad, s.images());
        assertEquals(3 * s.images(), s.rows());
        for (Row r : spark.read().parquet(s.errorsTable()).collectAsList()) {
            String name = Path.of(URI.create(r.getString(0))).getFileName().toString();
            assertEquals(expected.get(name), r.getString(1), name);
        }
        assertTrue(Files.size(Path.of(s.picture())) > 10_000);

        // the job's gradient maps equal the method run directly on the same images
        ModelSpec spec = ModelSpec.load(bundledSpec());
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(50_000_000L);
        int checked = 0;
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            for (Row r : spark.read().parquet(s.table()).filter("method = 'gradient'").limit(6).collectAsList()) {
                float[] in = pre.apply(d.decode(Files.readAllBytes(Path.of(URI.create(r.<String>getAs("path"))))));
                float[] direct = new VanillaGradient().maps(f, in, 1, new int[] {r.<Integer>getAs("target_index")})[0];
                List<Float> job = r.getList(r.fieldIndex("map"));
                float max = 0;
                for (float v : direct) {
                    max = Math.max(max, v);
                }
                for (int p = 0; p < direct.length; p++) {
                    assertEquals(direct[p], job.get(p), 1e-5f * max);
                }
                assertEquals(28, r.<Integer>getAs("height"));
                checked++;
            }
        }
        assertEquals(6, checked);
    }

    @Test
    void labelTargetsGiveErrorRowsForImagesWithoutAKnownLabel() throws Exception {
        Map<String, String> expected = FeaturesJobTest.writeCorpus(tmp.resolve("corpus"), 1);
        SaliencyJob.Summary s = SaliencyJob.run(spark, settings(tmp.resolve("corpus"), tmp.resolve("out"), "bundled",
                List.of("gradient"), "label"));
        Map<String, Long> stages = new HashMap<>();
        for (Row r : spark.read().parquet(s.errorsTable()).collectAsList()) {
            stages.merge(r.getString(1), 1L, Long::sum);
        }
        long oddOk = expected.entrySet().stream().filter(e -> e.getValue().equals("ok") && !e.getKey().startsWith("test-")).count();
        assertEquals(oddOk, stages.get("target"), "images in folder 'odd' or outside a class folder: " + stages);
        assertEquals(10, s.images(), "one labelled image per class");
        assertEquals(s.inputs(), s.images() + s.errors());
        for (Row r : spark.read().parquet(s.table()).collectAsList()) {
            assertEquals(r.<String>getAs("label"), r.<String>getAs("target"));
        }
    }

    @Test
    void badSettingsAreClearMessages() {
        Path images = bundledSample();
        Path out = tmp.resolve("out");
        assertMessage("unknown target 'boots'", () -> SaliencyJob.run(spark, settings(images, out, "bundled", List.of("gradient"), "boots")));
        assertMessage("unknown saliency method 'lime'", () -> SaliencyJob.run(spark, settings(images, out, "bundled", List.of("lime"), "predicted")));
        assertMessage("guided-backprop needs the network as an ordered list of stages",
                () -> SaliencyJob.run(spark, settings(images, out, resource("models/fashion-small/fashion-small.properties").toString(),
                        List.of("gradient", "guided-backprop"), "predicted")));
        assertTrue(!Files.exists(out.resolve("saliency")));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "expected '" + part + "' in: " + ex.getMessage());
    }
}
