package io.cnnlens.tests;

import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.synthesis.ClassvizJob;
import io.cnnlens.jobs.synthesis.ClassvizOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassvizJobTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static ClassvizOptions options(Path out, String tap, List<String> targets, int iterations) {
        return ClassvizOptions.of(OptionValues.defaults().with(SharedOptions.OUT, out.toString()).with(ClassvizOptions.TAP, tap)
                .with(ClassvizOptions.TARGETS, targets).with(ClassvizOptions.ITERATIONS, iterations));
    }

    @Test
    void visualisationsReachTheirClassAndAreWritten() throws Exception {
        ClassvizJob.Summary s = ClassvizJob.run(spark, options(tmp, null, List.of("trouser", "8"), 300));
        assertEquals(2, s.results().size());
        for (ClassvizJob.Result r : s.results()) {
            assertTrue(r.probability() >= 0.9, r.target() + " p = " + r.probability());
        }
        assertEquals(List.of("trouser", "bag"), s.results().stream().map(ClassvizJob.Result::target).toList());
        assertEquals(2, io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).count());
        assertTrue(Files.size(Path.of(s.pictures(), "trouser.png")) > 100);
        assertTrue(Files.size(Path.of(s.pictures(), "classviz-grid.png")) > 5_000);
        // an intermediate channel through the same machinery: its activation grows from the start
        ClassvizJob.Summary ch = ClassvizJob.run(spark, options(tmp.resolve("ch"), "conv3", List.of("5"), 100));
        assertTrue(ch.results().get(0).score() > 0);
        assertThrows(IllegalArgumentException.class, () -> ClassvizJob.run(spark, options(tmp, null, List.of("boots"), 300)));
    }

    @Test
    void aConvTapTheModelLacksIsAReasonNotToRun() {
        ClassvizJob job = new ClassvizJob();
        JobContext context = new JobContext(spark);
        assertEquals(Optional.empty(), job.cannotRun(context, options(tmp, null, List.of(), 1)));
        assertEquals(Optional.empty(), job.cannotRun(context, options(tmp, "conv3", List.of("5"), 1)));
        String absent = job.cannotRun(context, options(tmp, "conv9", List.of("5"), 1)).orElseThrow();
        assertTrue(absent.contains("has no output 'conv9'") && absent.contains("conv5"), absent);
        String flat = job.cannotRun(context, options(tmp, "fc7", List.of("5"), 1)).orElseThrow();
        assertTrue(flat.contains("layer fc7 is not a conv layer"), flat);
        // the options are the old command's defaults
        ClassvizOptions d = ClassvizOptions.of(OptionValues.defaults());
        assertEquals(io.cnnlens.synthesis.ClassVisualisation.yosinski(), d.visualisation());
        assertEquals(List.of(), d.targets());
    }
}
