package io.cnnlens.tests;

import ai.djl.Device;
import io.cnnlens.attribution.VanillaGradient;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.saliency.SaliencyJob;
import io.cnnlens.jobs.saliency.SaliencyOptions;
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

    static OptionValues values(Path images, Path out, String model, List<String> methods, String target) {
        return OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(SharedOptions.MODEL, model).with(SaliencyOptions.METHODS, methods).with(SaliencyOptions.TARGET, target)
                .with(SaliencyOptions.SMOOTHGRAD_SAMPLES, 4).with(SaliencyOptions.IG_STEPS, 8).with(SaliencyOptions.OCCLUSION_SIZE, 7)
                .with(SaliencyOptions.OCCLUSION_STRIDE, 3).with(SaliencyOptions.SHAPLEY_PERMUTATIONS, 4).with(SaliencyOptions.SAMPLE, 0)
                .with(SaliencyOptions.BATCH_SIZE, 8).with(SaliencyOptions.PICTURE_IMAGES, 6).with(SaliencyOptions.PARTITIONS, 3);
    }

    static SaliencyOptions settings(Path images, Path out, String model, List<String> methods, String target) {
        return SaliencyOptions.of(values(images, out, model, methods, target));
    }

    static final String TORCHSCRIPT = "models/fashion-small/fashion-small.properties";

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
        List<Row> errorRows = io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).collectAsList();
        assertEquals(s.errors(), errorRows.size(), "the errors table holds every error, once");
        for (Row r : errorRows) {
            String name = Path.of(URI.create(r.getString(0))).getFileName().toString();
            assertEquals(expected.get(name), r.getString(1), name);
        }
        assertEquals(s.rows(), io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).count());
        assertEquals(s.images(), io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).select("path").distinct().count());
        assertTrue(s.leftOut().isEmpty());
        assertTrue(Files.size(Path.of(s.picture())) > 10_000);

        // the job's gradient maps equal the method run directly on the same images
        ModelSpec spec = ModelSpec.load(bundledSpec());
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(50_000_000L);
        int checked = 0;
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            for (Row r : io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).filter("method = 'gradient'").limit(6).collectAsList()) {
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
        for (Row r : io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).collectAsList()) {
            stages.merge(r.getString(1), 1L, Long::sum);
        }
        long oddOk = expected.entrySet().stream().filter(e -> e.getValue().equals("ok") && !e.getKey().startsWith("test-")).count();
        assertEquals(oddOk, stages.get("target"), "images in folder 'odd' or outside a class folder: " + stages);
        assertEquals(10, s.images(), "one labelled image per class");
        assertEquals(s.inputs(), s.images() + s.errors());
        for (Row r : io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).collectAsList()) {
            assertEquals(r.<String>getAs("label"), r.<String>getAs("target"));
        }
    }

    @Test
    void badSettingsAreClearMessages() {
        Path images = bundledSample();
        Path out = tmp.resolve("out");
        assertMessage("unknown target 'boots'", () -> SaliencyJob.run(spark, settings(images, out, "bundled", List.of("gradient"), "boots")));
        assertMessage("unknown saliency method 'lime'", () -> SaliencyJob.run(spark, settings(images, out, "bundled", List.of("lime"), "predicted")));
        assertMessage("--sample must be 0 (all) or positive",
                () -> SaliencyOptions.of(values(images, out, "bundled", List.of("gradient"), "predicted").with(SaliencyOptions.SAMPLE, -1)));
        assertMessage("--path-pattern is not a regular expression",
                () -> SaliencyOptions.of(values(images, out, "bundled", List.of("gradient"), "predicted").with(SaliencyOptions.PATH_PATTERN, "(")));
        // a model without stages can run none of these: cannotRun says why, and the job refuses with the same reason
        SaliencyJob job = new SaliencyJob();
        SaliencyOptions guidedOnly = settings(images, out, resource(TORCHSCRIPT).toString(), List.of("guided-backprop"), "predicted");
        String reason = job.cannotRun(new JobContext(spark), guidedOnly).orElseThrow();
        assertTrue(reason.contains("guided-backprop needs the network as an ordered list of stages"), reason);
        assertMessage("guided-backprop needs the network as an ordered list of stages", () -> SaliencyJob.run(spark, guidedOnly));
        assertTrue(!Files.exists(out.resolve("saliency")));
    }

    @Test
    void methodsTheModelCannotRunAreLeftOutWithTheReason() {
        Path out = tmp.resolve("out");
        SaliencyJob job = new SaliencyJob();
        SaliencyOptions o = SaliencyOptions.of(values(bundledSample(), out, resource(TORCHSCRIPT).toString(),
                List.of("gradient", "guided-backprop"), "predicted").with(SaliencyOptions.SAMPLE, 4).with(SaliencyOptions.PARTITIONS, 0));
        assertTrue(job.cannotRun(new JobContext(spark), o).isEmpty(), "gradient can run");
        JobResult r = job.run(new JobContext(spark), o);
        assertTrue(r.summary().startsWith("saliency: inputs 4, images 4, rows 4, errors 0"), r.summary());
        assertTrue(r.notes().get(0).startsWith("saliency: guided-backprop left out: guided-backprop needs the network as an ordered list"),
                r.notes().toString());
        List<Row> methods = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("saliency").toString()).select("method").distinct().collectAsList();
        assertEquals(List.of("gradient"), methods.stream().map(x -> x.getString(0)).toList());
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("saliency_errors").toString()).count());
    }

    @Test
    void theDefaultsAskForEverySixMethodsAndRunGivesItsSample() {
        SaliencyJob job = new SaliencyJob();
        assertEquals(List.of("gradient", "guided-backprop", "smoothgrad", "integrated-gradients", "occlusion", "shapley"),
                job.options(OptionValues.defaults()).methods());
        assertEquals(64, job.options(OptionValues.defaults()).sample());
        assertEquals(16, job.options(job.inRun(OptionValues.defaults().with(SaliencyOptions.SAMPLE, 16))).sample());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "expected '" + part + "' in: " + ex.getMessage());
    }
}
