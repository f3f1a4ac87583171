package io.cnnlens.tests;

import io.cnnlens.audit.LinearMmd;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.audit.AuditJob;
import io.cnnlens.jobs.audit.AuditOptions;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.features.FeaturesOptions;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit at scale, in the bench profile:
 * <ul>
 *   <li>{@code incrementalAuditAndCostPerCheck}: an audit of n images with faults
 *       ({@code -Dcnnlens.bench.audit.n}, default 5,000), then one after 10 % more images; prints
 *       the images the model ran on, each step's seconds in both runs and the ratio of totals;
 *       then a third with nothing added: the floor an incremental audit of that n pays;</li>
 *   <li>{@code driftFalseAlarmRate}: the audit's drift test (same sample size and seeding) between
 *       each of 20 references of train images and ≥ 20 disjoint batches of more train
 *       images (the false-alarm rate at level 0.05, per reference and in all, with a chi-square
 *       test that it is the same for every reference), batches of test images (which the network
 *       never trained on, reported beside them), and inverted batches (the detection rate);</li>
 *   <li>{@code laterAuditsFromAKeptFirstAudit}: the later audits again from a kept first audit.</li>
 * </ul>
 * Run: {@code mvn -B -Pbench -pl tests -am verify -Dtest=AuditBench}. Prints {@code uptime} with
 * each figure: the machine may be shared.
 */
@Tag("bench")
class AuditBench extends SparkTestBase {

    /** References in the drift bench. */
    private static final int REFERENCES = 20;

    @TempDir
    Path tmp;

    static String load() {
        try {
            return new String(new ProcessBuilder("uptime").start().getInputStream().readAllBytes()).trim();
        } catch (Exception e) {
            return "uptime unavailable";
        }
    }

    @Test
    void incrementalAuditAndCostPerCheck() throws Exception {
        int n = Integer.getInteger("cnnlens.bench.audit.n", 5000);
        // -Dcnnlens.bench.audit.dir=<dir>: build there and keep it, with a copy of the output as the
        // first audit left it (out-a1), so that a second audit can be run again from the CLI
        String keep = System.getProperty("cnnlens.bench.audit.dir");
        Path root = keep != null ? Path.of(keep) : tmp;
        Path images = root.resolve("images");
        Path out = root.resolve("out");
        AuditCollection c = new AuditCollection(AuditCollection.dataset());
        int test = Math.min(5000, n / 6);
        AuditCollection.Truth t = c.build(images, n - test, test, 0.03, Math.max(4, n / 500), 5);
        String knn = System.getProperty("cnnlens.bench.audit.knn", AuditOptions.KNN.defaultValue());
        AuditJob.Summary a1 = AuditJob.run(spark, options(images, out, "a1", knn));
        System.out.println("audit bench: first audit, " + t.images() + " images: " + a1.line() + "; load " + load());
        System.out.println("audit bench: first audit seconds " + a1.seconds());
        System.out.printf(Locale.ROOT, "audit bench: first audit near-duplicates: %.0f candidate pairs (%.0f of them content pairs from "
                        + "the thumbnails' lists), %.0f confirmed by thumbnails%n", a1.metrics().get("near_duplicates.candidates"),
                a1.metrics().get("near_duplicates.thumbnail_candidates"), a1.metrics().get("near_duplicates.pairs"));
        System.out.printf(Locale.ROOT, "audit bench: first audit kNN by %s, recall@k against exact %.4f%n",
                a1.metrics().get("knn.recall") < 1 || knn.equals("graph") ? "graph" : "exact (or graph at recall 1)", a1.metrics().get("knn.recall"));
        printPrecisionRecall(images, out.resolve("audit/a1"), t);
        if (keep != null) {
            new ProcessBuilder("cp", "-r", out.toString(), root.resolve("out-a1").toString()).inheritIO().start().waitFor();
        }
        c.addBatch(images, t.images() / 10, false);
        AuditJob.Summary a2;
        try (SparkJobProfile profile = SparkJobProfile.start(spark.sparkContext())) {
            a2 = AuditJob.run(spark, options(images, out, "a2", knn));
            profile.lines(40).forEach(l -> System.out.println("audit bench: second audit's Spark jobs: " + l));
        }
        System.out.println("audit bench: second audit (+10 %): " + a2.line() + "; load " + load());
        System.out.println("audit bench: second audit seconds " + a2.seconds());
        System.out.printf(Locale.ROOT, "audit bench: second audit kNN searched %.0f images against all, kept %.0f lists%n",
                a2.metrics().get("knn.searched"), a2.metrics().get("knn.kept"));
        System.out.printf(Locale.ROOT, "audit bench: model ran on %d then %d images; features step %.1f s then %.1f s (ratio %.3f); "
                        + "total %.1f s then %.1f s (ratio %.3f)%n", a1.features().modelRan(), a2.features().modelRan(),
                a1.seconds().get("features"), a2.seconds().get("features"), a2.seconds().get("features") / a1.seconds().get("features"),
                a1.seconds().get("total"), a2.seconds().get("total"), a2.seconds().get("total") / a1.seconds().get("total"));
        // the floor: an audit with nothing added, whose every step but the model's is still over all n
        AuditJob.Summary a3 = AuditJob.run(spark, options(images, out, "a3", knn));
        assertEquals(a3.metrics().get("unreadable.count"), (double) a3.features().modelRan(),
                "nothing added: the model runs again on the unreadable files alone");
        System.out.println("audit bench: third audit (nothing added) seconds " + a3.seconds());
        System.out.printf(Locale.ROOT, "audit bench: third audit (nothing added): %.1f s, ratio %.3f to the first; a second audit's "
                        + "%.1f s is that floor plus %.1f s for the 10 %% added%n", a3.seconds().get("total"),
                a3.seconds().get("total") / a1.seconds().get("total"), a2.seconds().get("total"),
                a2.seconds().get("total") - a3.seconds().get("total"));
    }

    /**
     * The later audits again, from a first audit kept by {@code incrementalAuditAndCostPerCheck}
     * ({@code -Dcnnlens.bench.audit.from=<its -Dcnnlens.bench.audit.dir>}: {@code images/} as grown,
     * {@code out-a1/} as the first audit left it). A second audit (+10 %) on one copy warms the JVM as
     * the first audit does in the whole bench; then on another copy the second audit and one with
     * nothing added, each with its steps' seconds and its Spark jobs by call site. Skips the first
     * audit's minutes when a change to a later audit is measured; the ratio needs the whole bench.
     */
    @Test
    void laterAuditsFromAKeptFirstAudit() throws Exception {
        String from = System.getProperty("cnnlens.bench.audit.from");
        org.junit.jupiter.api.Assumptions.assumeTrue(from != null, "-Dcnnlens.bench.audit.from names a kept first audit");
        Path images = Path.of(from).resolve("images");
        String knn = System.getProperty("cnnlens.bench.audit.knn", AuditOptions.KNN.defaultValue());
        String[][] runs = {{"warm", "a2"}, {"out", "a2"}, {"out", "a3"}};
        for (String[] run : runs) {
            Path out = tmp.resolve(run[0]);
            if (!out.toFile().exists()) {
                assertEquals(0, new ProcessBuilder("cp", "-r", Path.of(from).resolve("out-a1").toString(), out.toString())
                        .inheritIO().start().waitFor());
            }
            try (SparkJobProfile profile = SparkJobProfile.start(spark.sparkContext())) {
                AuditJob.Summary s = AuditJob.run(spark, options(images, out, run[1], knn));
                String name = run[0] + "/" + run[1];
                System.out.println("audit bench: kept first audit, then " + name + ": " + s.line() + "; load " + load());
                System.out.println("audit bench: " + name + " seconds " + s.seconds());
                if (!run[0].equals("warm")) {
                    profile.lines(30).forEach(l -> System.out.println("audit bench: " + name + "'s Spark jobs: " + l));
                }
                if (run[1].equals("a3")) {
                    assertEquals(s.metrics().get("unreadable.count"), (double) s.features().modelRan(),
                            "nothing added: the model runs again on the unreadable files alone");
                }
            }
        }
    }

    /** The audit's own defaults (folds, --knn-keep-from, --block), the kNN search as {@code knn} says. */
    private static AuditOptions options(Path images, Path out, String run, String knn) {
        return AuditTest.options(images, out, run, null, AuditOptions.FOLDS.defaultValue(), AuditOptions.KNN_KEEP_FROM.defaultValue(), knn,
                AuditOptions.BLOCK.defaultValue());
    }

    /** Each check's precision and recall against the faults the collection was built with. */
    private static void printPrecisionRecall(Path images, Path run, AuditCollection.Truth t) {
        Set<String> unreadable = AuditTest.paths(images, table(run, AuditJob.UNREADABLE), "path");
        Set<String> exact = AuditTest.paths(images, table(run, AuditJob.EXACT), "path");
        Set<String> labels = AuditTest.paths(images, table(run, AuditJob.LABELS), "path");
        Dataset<Row> quality = table(run, AuditJob.QUALITY);
        Set<String> dark = AuditTest.paths(images, quality.where("array_contains(flags, 'dark')"), "path");
        Set<String> blurry = AuditTest.paths(images, quality.where("array_contains(flags, 'blurry')"), "path");
        Set<String> outliers = AuditTest.paths(images, table(run, AuditJob.OUTLIERS), "path");
        Set<String> byFc7 = AuditTest.paths(images, table(run, AuditJob.OUTLIERS).where("flagged_by LIKE '%fc7%'"), "path");
        Set<String> byThumbnail = AuditTest.paths(images, table(run, AuditJob.OUTLIERS).where("flagged_by LIKE '%thumbnail%'"), "path");
        Set<String> leaks = new HashSet<>();
        for (Row r : table(run, AuditJob.NEAR).where("leakage").collectAsList()) {
            String a = AuditTest.rel(images, r.getString(r.fieldIndex("path_a")));
            String b = AuditTest.rel(images, r.getString(r.fieldIndex("path_b")));
            leaks.add(a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a);
        }
        Set<String> injected = new HashSet<>();
        for (String[] p : t.nearPairs()) {
            injected.add(p[0].compareTo(p[1]) < 0 ? p[0] + "|" + p[1] : p[1] + "|" + p[0]);
        }
        // each injected pair not reported: its fc7 cosine, and whether either image lists the other among its k neighbours
        Map<String, float[]> fc7 = new HashMap<>();
        for (Row r : TableReader.table(spark, run.getParent().getParent().toString(), "features").orElseThrow().select("path", "fc7").collectAsList()) {
            fc7.put(AuditTest.rel(images, r.getString(0)), io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(1)));
        }
        Set<String> listed = new HashSet<>();
        for (Row r : table(run, AuditJob.KNN).select("path", "neighbor_path").collectAsList()) {
            listed.add(AuditTest.rel(images, r.getString(0)) + "|" + AuditTest.rel(images, r.getString(1)));
        }
        double lowest = 1;
        for (String[] p : t.nearPairs()) {
            lowest = Math.min(lowest, AuditTest.cosine(fc7.get(p[0]), fc7.get(p[1])));
        }
        System.out.printf(Locale.ROOT, "audit bench: injected near-duplicates' lowest fc7 cosine to their source %.5f%n", lowest);
        for (String[] p : t.nearPairs()) {
            String key = p[0].compareTo(p[1]) < 0 ? p[0] + "|" + p[1] : p[1] + "|" + p[0];
            if (!leaks.contains(key)) {
                System.out.printf(Locale.ROOT, "audit bench: missed near-duplicate %s ~ %s: fc7 cosine %.5f, listed as a neighbour: %b / %b%n", p[0], p[1],
                        AuditTest.cosine(fc7.get(p[0]), fc7.get(p[1])), listed.contains(p[0] + "|" + p[1]), listed.contains(p[1] + "|" + p[0]));
            }
        }
        for (Object[] c : new Object[][] {{"unreadable", t.corrupt(), unreadable}, {"exact duplicates", t.exactCopies(), exact},
                {"injected cross-split near-duplicates as leakage pairs", injected, leaks}, {"label issues (flipped labels)", t.flipped(), labels},
                {"dark", t.dark(), dark}, {"blurry", t.blurred(), blurry}, {"outliers (noise images)", t.noise(), outliers},
                {"outliers by fc7 alone (noise images)", t.noise(), byFc7}, {"outliers by thumbnail alone (noise images)", t.noise(), byThumbnail}}) {
            @SuppressWarnings("unchecked") Set<String> truth = (Set<String>) c[1];
            @SuppressWarnings("unchecked") Set<String> found = (Set<String>) c[2];
            System.out.printf(Locale.ROOT, "audit bench: %s: injected %d, flagged %d, precision %.3f, recall %.3f%n", c[0], truth.size(),
                    found.size(), AuditTest.precision(truth, found), AuditTest.recall(truth, found));
        }
    }

    private static Dataset<Row> table(Path run, String name) {
        return TableReader.table(spark, run.toString(), name).orElseThrow();
    }

    @Test
    void driftFalseAlarmRate() throws Exception {
        int batches = Integer.getInteger("cnnlens.bench.audit.batches", 100);
        int batch = Integer.getInteger("cnnlens.bench.audit.batch", 150);
        int m = AuditOptions.DRIFT_SAMPLE.defaultValue();
        Path images = tmp.resolve("images");
        AuditCollection c = new AuditCollection(AuditCollection.dataset());
        c.build(images, 0, 0, 0, 0, 9);
        // REFERENCES references of m train images each, sampled as the audit samples one (smallest hash of
        // image and a seed) from a pool of 5·m with a seed each: an audit tests every batch against one
        // reference, so the level must hold for each, not only on average over them
        List<String> pool = c.addTrainBatch(images, 5 * m, false);
        // the null: more train images, the same source as the references and, like them, seen by the network in training
        List<List<String>> same = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            same.add(c.addTrainBatch(images, batch, false));
        }
        // test images: the same source, but the network never trained on them (docs/methods.md#drift); as many
        // batches as the test split holds beside the inverted ones
        List<List<String>> inverted = new ArrayList<>();
        for (int b = 0; b < 5; b++) {
            inverted.add(c.addBatch(images, batch, true));
        }
        List<List<String>> unseen = new ArrayList<>();
        int unseenBatches = Math.min(batches, c.testImagesLeft() / batch);
        for (int b = 0; b < unseenBatches; b++) {
            unseen.add(c.addBatch(images, batch, false));
        }
        Path out = tmp.resolve("out");
        FeaturesJob.run(spark, FeaturesOptions.of(OptionValues.defaults().with(SharedOptions.IMAGES, images.toString())
                .with(SharedOptions.OUT, out.toString())));
        var f = TableReader.table(spark, out.toString(), "features").orElseThrow().select("image_id", "path", "fc7").cache();
        int[] alarms = new int[REFERENCES];
        int[] unseenAlarms = new int[REFERENCES];
        // each batch is tested against every reference, so the 20 tests of one batch are not independent:
        // the rate's interval takes the batch as the unit (its share of alarms over the references)
        double[] perBatch = new double[batches];
        int detected = 0;
        for (int r = 0; r < REFERENCES; r++) {
            float[][] ref = unit(f.where(col("path").isin(pathForms(images, pool)))
                    .orderBy(xxhash64(col("image_id"), lit(100L + r))).limit(m).select("fc7").collectAsList());
            boolean[] flagged = alarms(ref, f, images, same);
            for (int b = 0; b < batches; b++) {
                alarms[r] += flagged[b] ? 1 : 0;
                perBatch[b] += flagged[b] ? 1.0 / REFERENCES : 0;
            }
            unseenAlarms[r] = count(alarms(ref, f, images, unseen));
            detected += count(alarms(ref, f, images, inverted));
        }
        int total = java.util.Arrays.stream(alarms).sum();
        int tests = REFERENCES * batches;
        double rate = total / (double) tests;
        double se = java.util.Arrays.stream(perBatch).map(q -> (q - rate) * (q - rate)).sum() / Math.max(1, batches - 1);
        se = Math.sqrt(se / batches);
        // Pearson's chi-square of the references × {alarm, none} table (Smile's); no alarm at all, or all
        // alarms, leaves the counts equal: chi-square 0, p 1
        int[][] table = new int[REFERENCES][];
        for (int r = 0; r < REFERENCES; r++) {
            table[r] = new int[] {alarms[r], batches - alarms[r]};
        }
        smile.stat.hypothesis.ChiSqTest homogeneity = rate > 0 && rate < 1 ? smile.stat.hypothesis.ChiSqTest.test(table) : null;
        double chiSquare = homogeneity == null ? 0 : homogeneity.chisq;
        double chiSquareP = homogeneity == null ? 1 : homogeneity.pvalue;
        System.out.printf(Locale.ROOT, "audit bench: drift at level 0.05, %d references of %d train images (of %d), batches of %d: false alarms "
                        + "%s of %d same-distribution batches of train images per reference, %d of %d in all (%.4f, 95%% interval %.4f-%.4f "
                        + "with the batch as the unit), chi-square of the counts %.1f on %d df (p %.3f); test images (never trained on) flagged %s of %d "
                        + "batches; inverted batches detected %d of %d; load %s%n", REFERENCES, m, pool.size(), batch,
                java.util.Arrays.toString(alarms), batches, total, tests, rate, rate - 1.96 * se, rate + 1.96 * se, chiSquare,
                REFERENCES - 1, chiSquareP, java.util.Arrays.toString(unseenAlarms), unseen.size(), detected, REFERENCES * inverted.size(), load());
        assertTrue(rate <= 0.05 + 3 * se, "false-alarm rate " + rate + " (standard error " + se + ")");
        assertTrue(chiSquareP > 0.001, "alarms per reference " + java.util.Arrays.toString(alarms) + " differ more than the "
                + "binomial allows: the level does not hold for each reference");
        assertEquals(REFERENCES * inverted.size(), detected);
    }

    /** Which of {@code batches} the audit's drift test flags at level 0.05 against {@code ref}. */
    private static boolean[] alarms(float[][] ref, Dataset<Row> f, Path root, List<List<String>> batches) {
        boolean[] flagged = new boolean[batches.size()];
        for (int b = 0; b < flagged.length; b++) {
            // in the order the audit samples the new images (by hash of image and seed), not the table's,
            // which another build of the collection writes in another order: the figures repeat from run to run
            flagged[b] = LinearMmd.test(ref, unit(f.where(col("path").isin(pathForms(root, batches.get(b))))
                    .orderBy(xxhash64(col("image_id"), lit(12L))).select("fc7").collectAsList()), 12).pValue() < 0.05;
        }
        return flagged;
    }

    private static int count(boolean[] flags) {
        int n = 0;
        for (boolean b : flags) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** Every form a relative path of the collection may take in the features table's {@code path}. */
    private static Object[] pathForms(Path root, List<String> rel) {
        List<Object> all = new ArrayList<>();
        for (String r : rel) {
            all.add(root.resolve(r).toUri().toString());
            all.add(root.resolve(r).toString());
            all.add("file:" + root.resolve(r));
        }
        return all.toArray();
    }

    private static float[][] unit(List<Row> rows) {
        float[][] x = new float[rows.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = io.cnnlens.jobs.spark.VectorColumn.floats(rows.get(i).getList(0));
            double s = 0;
            for (float v : x[i]) {
                s += v * v;
            }
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] /= (float) Math.sqrt(s);
            }
        }
        return x;
    }
}
