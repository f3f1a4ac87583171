package io.cnnlens.tests;

import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.tune.TuneJob;
import io.cnnlens.jobs.tune.TuneOptions;
import io.cnnlens.model.LoadedModel;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tune job end to end on a tiny Fashion-MNIST sample: checklist, a grid of two learning rates (one far too high)
 * with successive halving, the final model saved with a spec another job loads; one trial's first task attempt fails
 * mid-trial and is re-run (no trial lost or duplicated); a second run resumes from the recorded trials.
 */
class TuneJobTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        // local[2,3]: a failed task attempt is retried (up to 3 attempts), as on a cluster
        spark = io.cnnlens.jobs.spark.SparkSessions.withTables(SparkSession.builder()).master("local[2,3]").appName("tune-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        System.clearProperty(TuneJob.FAIL_ONCE);
        spark.stop();
    }

    static TuneOptions options(Path out, Path space, List<String> steps) {
        return TuneOptions.of(OptionValues.defaults().with(SharedOptions.OUT, out.toString()).with(TuneOptions.SPACE, space.toString())
                .with(TuneOptions.STEPS_KEY, steps).with(TuneOptions.MODE, "grid").with(TuneOptions.TRAIN_SIZE, 300)
                .with(TuneOptions.FINAL_TRAIN_SIZE, 400)
                .with(TuneOptions.VAL_SIZE, 200).with(TuneOptions.MIN_EPOCHS, 1).with(TuneOptions.MAX_EPOCHS, 2).with(TuneOptions.ETA, 2)
                .with(TuneOptions.REFINE_TOP, 0).with(TuneOptions.THREADS, 1).with(TuneOptions.OVERFIT_IMAGES, 20)
                .with(TuneOptions.OVERFIT_ITERATIONS, 40).with(TuneOptions.RANGE_STEPS, 15));
    }

    @Test
    void checklistSearchFinalAndResume(@TempDir Path tmp) throws Exception {
        Path space = tmp.resolve("space.txt");
        Files.writeString(space, "lr = choice 0.003 40\nwidth = 0.25\nbatch-size = 50\ninit = small-last\ndropout = 0\n");
        Path out = tmp.resolve("out");
        System.setProperty(TuneJob.FAIL_ONCE, "coarse-r0-t000");
        TuneJob.Summary s = TuneJob.run(spark, options(out, space, List.of("check", "search", "final")));
        s.lines().forEach(System.out::println);
        System.clearProperty(TuneJob.FAIL_ONCE);

        List<Row> trials = TableReader.table(spark, out.toString(), TuneJob.TRIALS).orElseThrow().collectAsList();
        Set<String> ids = trials.stream().map(r -> r.<String>getAs("id")).collect(Collectors.toSet());
        assertEquals(Set.of("coarse-r0-t000", "coarse-r0-t001", "coarse-r1-t000", "final"), ids, "every trial once, none lost");
        assertEquals(4, trials.size(), "no duplicates");
        Row failed = trials.stream().filter(r -> r.getAs("id").equals("coarse-r0-t000")).findFirst().orElseThrow();
        assertEquals(1, (int) failed.<Integer>getAs("attempt"), "the trial whose first attempt failed mid-trial was re-run");
        Row hot = trials.stream().filter(r -> r.getAs("id").equals("coarse-r0-t001")).findFirst().orElseThrow();
        assertEquals("diverged", hot.getAs("status"), "lr 40 diverges, and that is a recorded result: " + hot);
        assertEquals("lr-too-high", hot.getAs("diagnosis"));
        assertTrue(s.lines().stream().anyMatch(l -> l.startsWith("final: 2 epochs on 400 training images ")),
                "the final training reads --final-train-size images, not the trials' 300: " + s.lines());
        Row fin = trials.stream().filter(r -> r.getAs("id").equals("final")).findFirst().orElseThrow();
        double test = fin.getAs("test_acc");
        assertTrue(test > 0.15 && test <= 1, "test accuracy " + test);
        assertEquals(3, TableReader.table(spark, out.toString(), TuneJob.CHECKS).orElseThrow().count());
        assertTrue(TableReader.table(spark, out.toString(), TuneJob.ITERATIONS).orElseThrow().count() > 10);
        assertTrue(TableReader.table(spark, out.toString(), TuneJob.EPOCHS).orElseThrow().where("id = 'final'").count() == 2);
        for (String p : List.of("pictures/tune-check/lr-range.png", "pictures/tune-check/overfit-loss.png", "pictures/tune/all-loss.png",
                "pictures/tune/trials/final-loss.png", "pictures/tune/trials/final-accuracy.png")) {
            assertTrue(Files.size(out.resolve(p)) > 1000, p);
        }
        // the saved model is a spec other jobs take
        Path spec = out.resolve("tune_model/tuned.properties");
        LoadedModel m = ExecutorRuntime.model(spec.toString(), spark.sparkContext().hadoopConfiguration(), false);
        assertTrue(m.hasTap("fc7") && m.hasTap("logits") && m.hasTap("conv5"), "taps " + m.taps().keySet());
        assertEquals(10, m.spec().classes());

        // a restarted search with the same options trains nothing again
        TuneJob.Summary again = TuneJob.run(spark, options(out, space, List.of("search")));
        again.lines().forEach(System.out::println);
        assertTrue(again.lines().stream().anyMatch(l -> l.startsWith("resuming: 3 trials")), again.lines().toString());
        assertTrue(again.lines().stream().filter(l -> l.contains(" rung ")).allMatch(l -> l.contains("(0 trained now")), again.lines().toString());
    }
}
