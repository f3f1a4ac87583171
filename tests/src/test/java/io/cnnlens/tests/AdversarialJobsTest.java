package io.cnnlens.tests;

import io.cnnlens.adversarial.DeepFool;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.adversarial.FoolJob;
import io.cnnlens.jobs.adversarial.FoolOptions;
import io.cnnlens.jobs.adversarial.UapJob;
import io.cnnlens.jobs.adversarial.UapOptions;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdversarialJobsTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static OptionValues foolValues(Path images, Path out, String target) {
        return OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(SharedOptions.MODEL, "bundled").with(FoolOptions.METHODS, List.of("fool", "pgd", "pgd-targeted"))
                .with(FoolOptions.TARGET, target).with(FoolOptions.STEP, 20.0).with(FoolOptions.MAX_STEPS, 100)
                .with(FoolOptions.EPSILON, 16.0).with(FoolOptions.ALPHA, 0.0).with(FoolOptions.PGD_STEPS, 10).with(FoolOptions.SEED, 5L)
                .with(FoolOptions.SAMPLE, 12).with(FoolOptions.BATCH_SIZE, 8).with(FoolOptions.PICTURE_IMAGES, 3);
    }

    static FoolOptions fool(Path images, Path out, String target) {
        return FoolOptions.of(foolValues(images, out, target));
    }

    static OptionValues uapValues(Path images, Path out) {
        return OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(SharedOptions.MODEL, "bundled").with(UapOptions.NORM, "2").with(UapOptions.XI, new double[] {800})
                .with(UapOptions.VARIANTS, List.of("paper", "spark")).with(UapOptions.DELTA, 0.2).with(UapOptions.MAX_PASSES, 1)
                .with(UapOptions.FIT_SAMPLE, 150).with(UapOptions.SGD_ITERATIONS, 5).with(UapOptions.SGD_BATCH, 100)
                .with(UapOptions.SGD_LR, 0.0).with(UapOptions.SEED, 3L).with(UapOptions.EVAL_SAMPLE, 200);
    }

    @Test
    void foolingRowsAreConsistentAndRepeatable() throws Exception {
        FoolJob.Summary a = FoolJob.run(spark, fool(bundledSample(), tmp.resolve("a"), "least-likely"));
        assertEquals(12, a.inputs());
        assertEquals(12 * 3, a.rows());
        assertEquals(0, a.errors());
        List<Row> rows = io.cnnlens.jobs.spark.TableReader.open(spark, a.table()).orderBy("path", "method").collectAsList();
        for (Row r : rows) {
            String method = r.getAs("method");
            boolean ok = r.getAs("success");
            String adv = r.getAs("adversarial_pred");
            if (method.equals("pgd")) {
                assertEquals(ok, !adv.equals(r.getAs("original_pred")));
            } else {
                assertEquals(ok, adv.equals(r.getAs("target")), "success means the model says the target");
            }
            if (method.startsWith("pgd")) {
                assertTrue(r.<Double>getAs("linf") <= 16 + 1e-4);
            }
        }
        FoolJob.MethodSummary fool = a.methods().get(0);
        assertEquals("fool", fool.method());
        assertTrue(fool.successRate() > 0.9, "fooling images reach the least likely class: " + fool.successRate());
        assertTrue(Files.size(Path.of(a.picture())) > 5_000);
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, a.errorsTable()).count(), "an empty errors table is written");
        assertTrue(a.details().get(0).startsWith("fool: fool          attempts 12, success rate"), a.details().get(0));

        // same seed → same rows
        FoolJob.Summary b = FoolJob.run(spark, fool(bundledSample(), tmp.resolve("b"), "least-likely"));
        List<Row> again = io.cnnlens.jobs.spark.TableReader.open(spark, b.table()).orderBy("path", "method").collectAsList();
        assertEquals(rows.size(), again.size());
        for (int i = 0; i < rows.size(); i++) {
            for (String c : List.of("success", "steps", "l2", "linf", "target_probability", "adversarial_pred")) {
                assertEquals(rows.get(i).<Object>getAs(c), again.get(i).<Object>getAs(c), c + " of row " + i);
            }
            assertArrayEquals(rows.get(i).<byte[]>getAs("adversarial"), again.get(i).<byte[]>getAs("adversarial"));
        }
        IllegalArgumentException boots = assertThrows(IllegalArgumentException.class,
                () -> FoolJob.run(spark, fool(bundledSample(), tmp.resolve("c"), "boots")));
        assertTrue(boots.getMessage().startsWith("unknown target 'boots': use least-likely, a class index 0..9"), boots.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FoolOptions.of(foolValues(bundledSample(), tmp.resolve("c"), "least-likely")
                .with(FoolOptions.METHODS, List.of("fgsm"))));
    }

    @Test
    void foolSampleZeroTakesEveryInputAndBadOnesGoToTheErrorsTable() throws Exception {
        Map<String, String> expected = FeaturesJobTest.writeCorpus(tmp.resolve("corpus"), 1);
        long bad = expected.values().stream().filter(v -> !v.equals("ok")).count();
        FoolJob.Summary s = FoolJob.run(spark, FoolOptions.of(foolValues(tmp.resolve("corpus"), tmp.resolve("out"), "least-likely")
                .with(FoolOptions.METHODS, List.of("pgd")).with(FoolOptions.PGD_STEPS, 2).with(FoolOptions.SAMPLE, 0)));
        assertEquals(expected.size(), s.inputs(), "--sample 0 = all");
        assertEquals(bad, s.errors());
        assertEquals(s.inputs(), s.images() + s.errors());
        assertEquals(s.images(), s.rows(), "one pgd row per image");
        List<Row> errors = io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).collectAsList();
        assertEquals(bad, errors.size());
        for (Row e : errors) {
            String name = Path.of(java.net.URI.create(e.getString(0))).getFileName().toString();
            assertEquals(expected.get(name), e.getString(1), name);
        }
    }

    @Test
    void universalPerturbationsHoldTheirBoundAndAreRepeatable() {
        UapOptions s = UapOptions.of(uapValues(bundledSample(), tmp.resolve("u1")));
        assertEquals(DeepFool.Norm.L2, s.norm());
        UapJob.Summary a = UapJob.run(spark, s);
        UapJob.Summary b = UapJob.run(spark, UapOptions.of(uapValues(bundledSample(), tmp.resolve("u2"))));
        assertEquals(150, a.fitImages());
        assertEquals(200, a.evalImages());
        assertEquals(2, a.results().size());
        for (int i = 0; i < 2; i++) {
            UapJob.Result x = a.results().get(i);
            double norm = 0;
            for (float v : x.v()) {
                norm += v * v;
            }
            assertTrue(Math.sqrt(norm) <= 800 + 1e-2, x.variant() + " ‖v‖ = " + Math.sqrt(norm));
            assertTrue(x.rate() > x.randomRate(), x.variant() + ": v fools more than noise of its norm");
            assertArrayEquals(x.v(), b.results().get(i).v(), x.variant() + ": same seed, same v");
        }
        assertEquals(2L * 200, io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("u1/uap_flips").toString()).count());
        Row stats = io.cnnlens.jobs.spark.TableReader.open(spark, a.table()).filter("variant = 'spark'").first();
        assertEquals(784, stats.getList(stats.fieldIndex("v")).size());
        assertTrue(Files.exists(tmp.resolve("u1/pictures/uap/uap-spark-l2-800.png")));
        assertTrue(Files.exists(tmp.resolve("u1/pictures/uap/uap-paper-l2-800.f32")));
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("u1/uap_errors").toString()).count());
        assertTrue(a.details().get(0).startsWith("uap: paper  2 ξ=800    fooling rate"), a.details().get(0));
    }

    @Test
    void uapSamplesOfZeroTakeEveryInputAndBadOnesGoToTheErrorsTable() throws Exception {
        Map<String, String> expected = FeaturesJobTest.writeCorpus(tmp.resolve("corpus"), 2);
        long bad = expected.values().stream().filter(v -> !v.equals("ok")).count();
        UapJob.Summary s = UapJob.run(spark, UapOptions.of(uapValues(tmp.resolve("corpus"), tmp.resolve("out"))
                .with(UapOptions.VARIANTS, List.of("spark")).with(UapOptions.SGD_ITERATIONS, 1).with(UapOptions.FIT_SAMPLE, 0)
                .with(UapOptions.EVAL_SAMPLE, 0)));
        assertEquals(expected.size(), s.fitImages() + s.evalImages() + s.errors(), "--fit-sample 0 and --eval-sample 0 = all");
        assertEquals(bad, s.errors());
        assertEquals(bad, io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).count());
        assertEquals(s.evalImages(), io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out/uap_flips").toString()).count());
    }

    @Test
    void insideRunUapFitsAsTheOldPipelineDid() {
        UapJob job = new UapJob();
        UapOptions o = job.options(job.inRun(OptionValues.defaults()));
        assertEquals(DeepFool.Norm.L2, o.norm());
        assertArrayEquals(new double[] {1000}, o.xis());
        assertEquals(List.of("spark"), o.variants());
        assertEquals(5000, o.fitSample());
        assertEquals(20, o.sgdIterations());
        assertEquals(500, o.sgdBatch());
        assertEquals(0.2, o.delta());
        assertEquals(0, o.evalSample());
        UapOptions d = job.options(OptionValues.defaults());
        assertEquals(DeepFool.Norm.LINF, d.norm());
        assertArrayEquals(new double[] {40, 60}, d.xis());
        assertEquals(10000, d.fitSample());
        FoolJob fool = new FoolJob();
        FoolOptions f = fool.options(fool.inRun(OptionValues.defaults().with(FoolOptions.SAMPLE, 16)));
        assertEquals(16, f.sample());
        assertEquals(16.0, f.epsilon());
        assertEquals(32, f.batchSize());
        assertEquals(4, f.pictureImages());
        assertEquals(List.of("fool", "pgd", "pgd-targeted"), f.methods());
    }
}
