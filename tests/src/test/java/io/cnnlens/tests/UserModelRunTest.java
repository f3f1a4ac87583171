package io.cnnlens.tests;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobRegistry;
import io.cnnlens.jobs.cli.Cli;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run} with a user's own TorchScript model that lacks the default taps (its forward
 * returns only conv3, fc7 and logits; made by deploy/models/make_three_tap_fashion.py): every
 * stage that can run for it writes its outputs, the others are skipped with a reason, the report
 * is written and lists them, and run's exit code says whether anything was skipped.
 */
class UserModelRunTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void everyStageThatCanRunRunsAndTheReportListsTheSkippedOnes() throws Exception {
        Path spec = resource("models/fashion-three-taps/fashion-three-taps.properties");
        Path images = tmp.resolve("images");
        copySample(images, 100); // 20 images, 2 per class
        Path out = tmp.resolve("run");
        int code = Cli.run("run", "--images", images.toString(), "--out", out.toString(), "--model", spec.toString(),
                "--master", "local[2]", "--sample", "4", "--queries", "0");

        assertTrue(Files.isRegularFile(out.resolve("report.html")), "the report is written whatever was skipped");
        Map<String, Row> stages = new HashMap<>();
        io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("run_stages").toString()).collectAsList().forEach(r -> stages.put(r.getString(0), r));
        boolean allRan = true;
        String html = Files.readString(out.resolve("report.html"));
        for (Job<?> job : JobRegistry.pipeline()) {
            if (job.name().equals("report")) {
                continue;
            }
            Row r = stages.get(job.name());
            assertTrue(r != null, "run recorded stage " + job.name() + ": " + stages.keySet());
            String status = r.getString(1);
            assertTrue(!status.equals("failed"), job.name() + " failed instead of running or being skipped: " + r.getString(3));
            if (status.equals("ran")) {
                for (String output : job.outputs()) {
                    assertTrue(Files.exists(out.resolve(output)), job.name() + " ran but " + output + " is missing");
                }
            } else {
                allRan = false;
                assertEquals("skipped", status);
                assertFalse(r.isNullAt(3) || r.getString(3).isBlank(), job.name() + " skipped without a reason");
                assertTrue(html.contains(job.name()) && html.contains(escaped(r.getString(3))),
                        "the report lists skipped " + job.name() + " with its reason");
            }
        }
        assertEquals("ran", stages.get("features").getString(1), "features runs for any model with fc7 and logits");
        String saliency = stages.get("saliency").getString(3);
        assertTrue(saliency.contains("guided-backprop left out"), "run records why a method was left out: " + saliency);
        assertTrue(html.contains("guided-backprop left out"), "and the report shows it");
        assertEquals(allRan ? 0 : 1, code, "run exits non-zero after writing the report when a stage was skipped");
        assertEquals(20, io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).count());
        assertEquals("conv3", io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).first().getAs("conv_layer"));
    }

    /** The reason's leading letters, digits and spaces: what survives HTML escaping unchanged. */
    private static String escaped(String s) {
        String plain = s.replaceFirst("[^A-Za-z0-9 ].*$", "");
        return plain.length() >= 8 ? plain : "skipped";
    }
}
