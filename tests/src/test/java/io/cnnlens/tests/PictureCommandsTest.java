package io.cnnlens.tests;

import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.cli.Cli;
import io.cnnlens.jobs.pictures.ActivationsJob;
import io.cnnlens.jobs.pictures.ActivationsOptions;
import io.cnnlens.jobs.pictures.FiltersJob;
import io.cnnlens.jobs.pictures.FiltersOptions;
import io.cnnlens.jobs.synthesis.InvertJob;
import io.cnnlens.jobs.synthesis.InvertOptions;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** filters and activations through the command line: pictures where they say, clear errors. */
class PictureCommandsTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void filtersAndActivationsPictures() throws Exception {
        String out = tmp.resolve("out").toString();
        assertEquals(0, Cli.run("filters", "--out", out));
        assertEquals(0, Cli.run("filters", "--out", out, "--layer", "conv2", "--max-filters", "4", "--max-inputs", "5"));
        BufferedImage first = ImageIO.read(tmp.resolve("out/pictures/filters/conv1/filters.png").toFile());
        BufferedImage second = ImageIO.read(tmp.resolve("out/pictures/filters/conv2/filters.png").toFile());
        assertTrue(first.getWidth() > 100 && second.getHeight() > 4 * 24, "both layers' pictures are kept");
        assertEquals(0, Cli.run("activations", "--out", out, "--layer", "conv2", "--sample", "3", "--master", "local[2]"));
        try (Stream<Path> files = Files.list(tmp.resolve("out/pictures/activations/conv2"))) {
            assertEquals(3, files.filter(p -> p.toString().endsWith(".png")).count());
        }
        PrintStream err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(1, Cli.run("filters", "--out", out, "--layer", "conv9"));
            assertEquals(1, Cli.run("activations", "--out", out, "--layer", "fc7", "--sample", "1", "--master", "local[2]"));
        } finally {
            System.setErr(err);
        }
        String msg = buf.toString();
        assertTrue(msg.contains("has no conv layer 'conv9'"), msg);
        assertTrue(msg.contains("layer fc7 is not a conv layer"), msg);
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out/activations_errors").toString()).count(), "no bad inputs in the sample");
    }

    @Test
    void activationsWriteBadInputsToTheirErrorsTableAndSampleZeroDrawsEveryImage() throws Exception {
        Path images = tmp.resolve("images");
        Map<String, String> expected = FeaturesJobTest.writeCorpus(images, 1);
        Path out = tmp.resolve("out");
        ActivationsJob.Summary s = ActivationsJob.run(spark, ActivationsOptions.of(OptionValues.defaults()
                .with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString()).with(ActivationsOptions.SAMPLE, 0)));
        long bad = expected.values().stream().filter(v -> !v.equals("ok")).count();
        assertEquals(expected.size(), s.inputs(), "--sample 0: every input");
        assertEquals(expected.size() - bad, s.pictures());
        assertEquals(bad, s.errors());
        assertEquals(s.inputs(), s.pictures() + s.errors(), "inputs = pictures + errors");
        assertEquals("conv1", s.layer());
        try (Stream<Path> files = Files.list(out.resolve("pictures/activations/conv1"))) {
            assertEquals(s.pictures(), files.filter(p -> p.toString().endsWith(".png")).count());
        }
        List<Row> errors = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("activations_errors").toString()).collectAsList();
        assertEquals(bad, errors.size());
        for (Row e : errors) {
            String name = Path.of(e.getString(0)).getFileName().toString();
            assertEquals(expected.get(name), e.getString(1), "stage of " + name + ": " + e.getString(2));
        }
        // --max-pixels and --max-bytes are the job's limits, not fixed ones
        ActivationsJob.Summary small = ActivationsJob.run(spark, ActivationsOptions.of(OptionValues.defaults()
                .with(SharedOptions.OUT, tmp.resolve("small").toString()).with(SharedOptions.MAX_PIXELS, 100L)
                .with(ActivationsOptions.SAMPLE, 2)));
        assertEquals(0, small.pictures());
        assertEquals(2, small.errors());
        assertTrue(io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("small/activations_errors").toString()).collectAsList().stream()
                .allMatch(r -> r.getString(1).equals("too-large")));
        assertEquals(2, ActivationsJob.run(spark, ActivationsOptions.of(OptionValues.defaults()
                .with(SharedOptions.OUT, tmp.resolve("bytes").toString()).with(SharedOptions.MAX_BYTES, 10L)
                .with(ActivationsOptions.SAMPLE, 2))).errors());
    }

    @Test
    void filtersNeedConvWeightsAndSayWhy() {
        FiltersJob job = new FiltersJob();
        JobContext context = new JobContext(spark);
        assertEquals(Optional.empty(), job.cannotRun(context, FiltersOptions.of(OptionValues.defaults())));
        String reason = job.cannotRun(context, FiltersOptions.of(OptionValues.defaults().with(FiltersOptions.LAYER, "conv9"))).orElseThrow();
        assertTrue(reason.contains("has no conv layer 'conv9'"), reason);
        FiltersJob.Summary s = FiltersJob.draw(FiltersOptions.of(OptionValues.defaults().with(SharedOptions.OUT, tmp.toString())), spark);
        assertEquals("filters: conv1 32 filters of 1×5×5", s.line());
        assertTrue(Files.exists(Path.of(s.picture())));
    }

    /**
     * A user's TorchScript model whose outputs are not the default taps: activations and invert
     * take the conv taps it does output, and run runs them (with the pipeline's sample of 2);
     * only a layer it lacks is a reason not to run, and the reason lists what it has.
     */
    @Test
    void layersComeFromTheTapsTheModelOutputs() throws Exception {
        Path small = resource("models/fashion-small/fashion-small.properties").getParent();
        Path spec = tmp.resolve("user-model.properties");
        Files.writeString(spec, String.join("\n", "name=user-model", "format=torchscript",
                "weights=" + small.resolve("fashion-small.pt"), "input.channels=1", "input.height=28", "input.width=28",
                "input.mean=0.286", "input.std=0.353", "taps.features=fc7", "taps.logits=logits",
                "taps.conv=conv5", "taps.first-conv=stem", "labels=" + small.resolve("labels.txt")) + "\n");
        JobContext context = new JobContext(spark);
        OptionValues v = OptionValues.defaults().with(SharedOptions.MODEL, spec.toString()).with(SharedOptions.OUT, tmp.resolve("o").toString());
        ActivationsJob activations = new ActivationsJob();
        InvertJob invert = new InvertJob();
        assertEquals(Optional.empty(), activations.cannotRun(context, activations.options(v)));
        assertEquals(Optional.empty(), invert.cannotRun(context, invert.options(v)));
        String absent = activations.cannotRun(context, activations.options(v.with(ActivationsOptions.LAYER, "conv3"))).orElseThrow();
        assertTrue(absent.contains("has no output 'conv3'") && List.of("conv1", "conv2", "fc7", "logits").stream().allMatch(absent::contains), absent);
        String layers = invert.cannotRun(context, invert.options(v.with(InvertOptions.LAYERS, List.of("conv1", "conv5")))).orElseThrow();
        assertTrue(layers.contains("has no output 'conv5'"), layers);

        Path out = tmp.resolve("run");
        assertEquals(0, Cli.run("run", "--model", spec.toString(), "--out", out.toString(), "--stages", "activations",
                "--master", "local[2]"));
        // invert as run would call it, with fewer steps (the layer choice does not depend on them)
        invert.run(context, invert.options(invert.inRun(v.with(SharedOptions.OUT, out.toString())).with(InvertOptions.ITERATIONS, 20)));
        try (Stream<Path> files = Files.list(out.resolve("pictures/activations/conv1"))) {
            assertEquals(2, files.filter(p -> p.toString().endsWith(".png")).count(), "the model's first conv tap, 2 images in run");
        }
        List<Row> inverted = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("invert").toString()).collectAsList();
        assertEquals(2, inverted.size(), "2 images in run, one default layer the model has: " + inverted);
        assertTrue(inverted.stream().allMatch(r -> r.getString(1).equals("fc7")), inverted.toString());
    }
}
