package io.cnnlens.tests;

import io.cnnlens.adversarial.DeepFool;
import io.cnnlens.jobs.adversarial.FoolJob;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.adversarial.UapJob;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdversarialJobsTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static FoolJob.Settings fool(Path images, Path out, String target) {
        return new FoolJob.Settings(images.toString(), out.toString(), "bundled", ImageSource.Options.defaults(),
                List.of("fool", "pgd", "pgd-targeted"), target, 20, 100, 16, 0, 10, 5, 12, 8, 50_000_000L, 3);
    }

    @Test
    void foolingRowsAreConsistentAndRepeatable() throws Exception {
        FoolJob.Summary a = FoolJob.run(spark, fool(bundledSample(), tmp.resolve("a"), "least-likely"));
        assertEquals(12, a.inputs());
        assertEquals(12 * 3, a.rows());
        assertEquals(0, a.errors());
        List<Row> rows = spark.read().parquet(a.table()).orderBy("path", "method").collectAsList();
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

        // same seed → same rows
        FoolJob.Summary b = FoolJob.run(spark, fool(bundledSample(), tmp.resolve("b"), "least-likely"));
        List<Row> again = spark.read().parquet(b.table()).orderBy("path", "method").collectAsList();
        assertEquals(rows.size(), again.size());
        for (int i = 0; i < rows.size(); i++) {
            for (String c : List.of("success", "steps", "l2", "linf", "target_probability", "adversarial_pred")) {
                assertEquals(rows.get(i).<Object>getAs(c), again.get(i).<Object>getAs(c), c + " of row " + i);
            }
            assertArrayEquals(rows.get(i).<byte[]>getAs("adversarial"), again.get(i).<byte[]>getAs("adversarial"));
        }
        assertThrows(IllegalArgumentException.class, () -> FoolJob.run(spark, fool(bundledSample(), tmp.resolve("c"), "boots")));
    }

    @Test
    void universalPerturbationsHoldTheirBoundAndAreRepeatable() {
        UapJob.Settings s = new UapJob.Settings(bundledSample().toString(), null, tmp.resolve("u1").toString(), "bundled",
                ImageSource.Options.defaults(), DeepFool.Norm.L2, new double[] {800}, List.of("paper", "spark"), 0.2, 1, 150, 5, 100,
                0, 3, null, 50_000_000L, 200);
        UapJob.Summary a = UapJob.run(spark, s);
        UapJob.Summary b = UapJob.run(spark, new UapJob.Settings(s.images(), null, tmp.resolve("u2").toString(), s.model(), s.source(),
                s.norm(), s.xis(), s.variants(), s.delta(), s.maxPasses(), s.fitSample(), s.sgdIterations(), s.sgdBatch(), s.sgdLr(),
                s.seed(), null, s.maxPixels(), s.evalSample()));
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
        assertEquals(2L * 200, spark.read().parquet(tmp.resolve("u1/uap_flips").toString()).count());
        Row stats = spark.read().parquet(a.table()).filter("variant = 'spark'").first();
        assertEquals(784, stats.getList(stats.fieldIndex("v")).size());
        assertTrue(Files.exists(tmp.resolve("u1/pictures/uap/uap-spark-l2-800.png")));
        assertTrue(Files.exists(tmp.resolve("u1/pictures/uap/uap-paper-l2-800.f32")));
    }
}
