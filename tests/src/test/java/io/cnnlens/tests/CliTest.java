package io.cnnlens.tests;

import io.cnnlens.jobs.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user meets it: help per job, a run, and a clear error. */
class CliTest extends SparkTestBase {

    @TempDir
    Path tmp;

    private static CommandLineRun cli(String... args) {
        return CommandLineRun.of(args);
    }

    @Test
    void everyJobHasHelp() {
        CommandLineRun top = cli("--help");
        assertEquals(0, top.code());
        for (String job : new String[] {"features", "train", "sample", "show"}) {
            assertTrue(top.out().contains(job), "top-level help lists " + job);
            CommandLineRun h = cli(job, "--help");
            assertEquals(0, h.code(), job);
            assertTrue(h.out().contains("Usage: cnnlens " + job), h.out());
        }
        CommandLineRun f = cli("features", "--help");
        for (String option : new String[] {"--images", "--out", "--model", "--master"}) {
            assertTrue(f.out().contains(option), "features --help shows " + option);
        }
    }

    @Test
    void theToolsAndPictureJobsShowTheirOldDefaultsAndCheckTheirOptions() {
        String a = cli("activations", "--help").out().replaceAll("\\s+", " ");
        assertTrue(a.contains("--sample=<sample> Images drawn") && a.contains("Default: 4") && a.contains("--max-pixels"), a);
        String t = cli("train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(t.contains("Default: 12") && t.contains("Default: 0.002") && t.contains("Default: 42"), t);
        CommandLineRun s = cli("sample", "--data", tmp.toString());
        assertEquals(1, s.code());
        assertTrue(s.err().contains("--out is required"), s.err());
        CommandLineRun split = cli("sample", "--data", tmp.toString(), "--out", tmp.resolve("s").toString(), "--split", "dev");
        assertTrue(split.err().contains("--split must be test or train"), split.err());
        if (Files.isDirectory(BundledModelAccuracyTest.DATA)) {
            Path out = tmp.resolve("sample");
            CommandLineRun ok = cli("sample", "--data", BundledModelAccuracyTest.DATA.toString(), "--out", out.toString(), "--per-class", "1");
            assertEquals(0, ok.code(), ok.err());
            assertTrue(ok.out().contains("sample: 10 PNG files in " + out), ok.out());
            assertTrue(Files.exists(out.resolve("bag")));
        }
    }

    @Test
    void featuresRunsFromTheCommandLineAndPrintsTheSummary() throws Exception {
        Path images = tmp.resolve("images");
        FeaturesJobTest.writeCorpus(images, 2);
        Path out = tmp.resolve("out");
        CommandLineRun r = cli("features", "--images", images.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)features: inputs \\d+, rows \\d+, errors 6, [0-9.]+ s, [0-9.]+ images/s.*"), r.out());
        assertTrue(r.out().contains(out.resolve("features").toString()), r.out());
        assertTrue(Files.isDirectory(out.resolve("features")));
        assertTrue(Files.isDirectory(out.resolve("errors")));
    }

    @Test
    void aBadModelIsAOneLineMessageNotAStackTrace() {
        CommandLineRun r = cli("features", "--images", bundledSample().toString(), "--out", tmp.resolve("o").toString(),
                "--model", tmp.resolve("missing.properties").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("model spec not found"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
