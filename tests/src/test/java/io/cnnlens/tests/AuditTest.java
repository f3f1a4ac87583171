package io.cnnlens.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.audit.AuditJob;
import io.cnnlens.jobs.audit.AuditOptions;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.features.FeaturesOptions;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit end to end on a small seeded Fashion-MNIST collection with injected faults: each
 * check against the faults it should find, an incremental second audit that runs the model on the
 * added images only and whose features table equals a full recompute, and a drifted batch that
 * the drift test flags and a threshold turns into a failing exit.
 */
class AuditTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static AuditOptions options(Path images, Path out, String run, Path thresholds) {
        return options(images, out, run, thresholds, AuditOptions.FOLDS.defaultValue());
    }

    /**
     * The audit's options with {@code folds} label probes. The first two audits keep the default 5
     * (the second scores with the first's probes); the third asks for 2, which the kept probes do
     * not have, so it fits anew, with the fewest folds: the probes' L-BFGS iterations, one Spark job
     * each, are most of an audit's time here.
     */
    static AuditOptions options(Path images, Path out, String run, Path thresholds, int folds) {
        // a collection this small would search all again: keep the lists anyway, to test the merge
        return options(images, out, run, thresholds, folds, 0);
    }

    static AuditOptions options(Path images, Path out, String run, Path thresholds, int folds, int knnKeepFrom) {
        return options(images, out, run, thresholds, folds, knnKeepFrom, AuditOptions.KNN.defaultValue());
    }
    static AuditOptions options(Path images, Path out, String run, Path thresholds, int folds, int knnKeepFrom, String knn) {
        return options(images, out, run, thresholds, folds, knnKeepFrom, knn, 512);
    }

    /** With {@code block} rows per block of the exact kNN (the tests' small collections: 512, to search several blocks). */
    static AuditOptions options(Path images, Path out, String run, Path thresholds, int folds, int knnKeepFrom, String knn, int block) {
        OptionValues v = OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(AuditOptions.RUN, run).with(AuditOptions.BLOCK, block).with(AuditOptions.FOLDS, folds)
                .with(AuditOptions.KNN_KEEP_FROM, knnKeepFrom).with(AuditOptions.KNN, knn);
        if (thresholds != null) {
            v = v.with(AuditOptions.THRESHOLDS, thresholds.toString());
        }
        return AuditOptions.of(v);
    }

    static String rel(Path root, String path) {
        String p = path.startsWith("file:") ? Path.of(java.net.URI.create(path)).toString() : path;
        return root.relativize(Path.of(p)).toString();
    }

    static Set<String> paths(Path root, Dataset<Row> t, String column) {
        Set<String> s = new HashSet<>();
        t.select(column).collectAsList().forEach(r -> s.add(rel(root, r.getString(0))));
        return s;
    }

    static double recall(Set<String> truth, Set<String> found) {
        return truth.stream().filter(found::contains).count() / (double) truth.size();
    }

    static double precision(Set<String> truth, Set<String> found) {
        return found.isEmpty() ? 1 : found.stream().filter(truth::contains).count() / (double) found.size();
    }

    /**
     * Thirteen identical images fill each other's 10 nearest neighbours in fc7 at distance 0, so
     * fc7's lists alone pair their resized copy with at most the 10 in the copy's own list; the
     * thumbnails' lists (one per content) find the pair, and every path of the crowd is paired.
     */
    @Test
    void aCrowdOfLookAlikesInFc7DoesNotHideACopy() throws Exception {
        Path images = tmp.resolve("images");
        Path out = tmp.resolve("out");
        AuditCollection c = new AuditCollection(AuditCollection.dataset());
        c.build(images, 150, 40, 0, 0, 7);
        List<String> crowd = c.crowdAround(images, 5000, 12);
        String resized = crowd.get(crowd.size() - 1);
        List<String> sources = crowd.subList(0, crowd.size() - 1);
        // and a crowd of distinct contents: fifteen variants of one image, so each thumbnail list (10)
        // leaves some of their pairs out, and the pairs only fc7 proposes must have their thumbnails compared
        c.dimmedVariants(images, 5001, 15);
        // and two crowds of one image, one in each split, each bigger than a list: found across splits or not at all
        List<List<String>> splitCrowds = c.crowdsInTwoSplits(images, 5002, 12);
        // and one pair across splits, which the next audit's added images push out of every list
        List<String> kept = c.pairAcrossSplits(images, 5003);
        AuditJob.Summary a = AuditJob.run(spark, options(images, out, "crowd", null));
        Path run = out.resolve("audit/crowd");
        Set<String> listedWithCopy = new HashSet<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.KNN).orElseThrow().collectAsList()) {
            String q = rel(images, r.getString(r.fieldIndex("path")));
            String nb = rel(images, r.getString(r.fieldIndex("neighbor_path")));
            if (q.equals(resized) && sources.contains(nb) || nb.equals(resized) && sources.contains(q)) {
                listedWithCopy.add(q.equals(resized) ? nb : q);
            }
        }
        assertTrue(listedWithCopy.size() < sources.size(), "the crowd hides the copy from some fc7 lists: " + listedWithCopy.size());
        Set<String> leaks = new HashSet<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.NEAR).orElseThrow().where("leakage").collectAsList()) {
            String x = rel(images, r.getString(r.fieldIndex("path_a")));
            String y = rel(images, r.getString(r.fieldIndex("path_b")));
            leaks.add(x.equals(resized) ? y : y.equals(resized) ? x : "");
        }
        for (String s : sources) {
            assertTrue(leaks.contains(s), s + " ~ " + resized + " is found as leakage");
        }
        assertTrue(a.metrics().get("near_duplicates.thumbnail_candidates") >= 1);
        assertTrue(a.metrics().get("near_duplicates.compared") > 0, "pairs of the crowded variants were compared");
        assertNearDuplicatesEqualBruteForce(run);
        assertThumbnailPairsHoldBruteForce(run);
        assertCrowdsInTwoSplitsAreLeakage(images, out, run, splitCrowds);

        // a pair stays a pair until a file of it changes: added look-alikes push it out of the lists, and the next
        // audit keeps it from this one instead of reporting it resolved
        String keptPair = pair(kept.get(0), kept.get(1));
        assertTrue(nearPairs(images, run).contains(keptPair), "the pair is found: " + keptPair);
        c.crowdOutPair(images, 5003, 12);
        // lists searched in full, as below --knn-keep-from by default: the kept thumbnail pairs do not hold it either
        AuditJob.Summary b = AuditJob.run(spark, options(images, out, "crowd2", null, AuditOptions.FOLDS.defaultValue(),
                AuditOptions.KNN_KEEP_FROM.defaultValue()));
        Path run2 = out.resolve("audit/crowd2");
        Map<String, String> idOf = new HashMap<>();
        readQuality(run2, (path, id, t) -> idOf.put(rel(images, path), id));
        boolean listed = false;
        for (Row r : TableReader.table(spark, run2.toString(), AuditJob.KNN).orElseThrow().collectAsList()) {
            listed |= pair(rel(images, r.getString(r.fieldIndex("path"))), rel(images, r.getString(r.fieldIndex("neighbor_path")))).equals(keptPair);
        }
        for (Row r : TableReader.table(spark, run2.toString(), AuditJob.THUMBNAIL_PAIRS).orElseThrow().collectAsList()) {
            listed |= pair(r.getString(0), r.getString(1)).equals(pair(idOf.get(kept.get(0)), idOf.get(kept.get(1))));
        }
        System.out.printf("audit near-duplicates: %.0f pairs kept from the previous audit, %.0f resolved%n",
                b.metrics().get("near_duplicates.kept"), b.metrics().get("resolved.near_duplicates"));
        assertFalse(listed, "the look-alikes push the pair out of the fc7 and the thumbnail lists");
        assertTrue(nearPairs(images, run2).contains(keptPair), "the pair is still in the table");
        assertTrue(b.metrics().get("near_duplicates.kept") >= 1, "the lists no longer proposed some pairs: they were kept");
        assertEquals(0.0, b.metrics().get("resolved.near_duplicates"), "nothing was removed or changed: no pair resolved");
        assertEquals(0.0, b.metrics().get("resolved.leakage"));
        assertNearDuplicatesEqualBruteForce(run2, run);
    }

    /** The run's near-duplicate pairs, by relative paths. */
    private static Set<String> nearPairs(Path images, Path run) {
        Set<String> pairs = new HashSet<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.NEAR).orElseThrow().collectAsList()) {
            pairs.add(pair(rel(images, r.getString(r.fieldIndex("path_a"))), rel(images, r.getString(r.fieldIndex("path_b")))));
        }
        return pairs;
    }

    /**
     * Every path of one split's crowd that has a near-duplicate in the other's (both thresholds, by
     * brute force over the two crowds) is in a leakage pair, although every content of both crowds
     * has k or more contents of its own split closer by thumbnail than any of the other split's.
     */
    private static void assertCrowdsInTwoSplitsAreLeakage(Path images, Path out, Path run, List<List<String>> crowds) {
        Map<String, float[]> thumb = new HashMap<>();
        readQuality(run, (path, id, t) -> thumb.put(rel(images, path), t));
        Map<String, float[]> fc7 = new HashMap<>();
        byPath(TableReader.table(spark, out.toString(), "features").orElseThrow()).forEach((p, r) ->
                fc7.put(rel(images, p), io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(r.fieldIndex("fc7")))));
        int k = AuditOptions.K.defaultValue();
        Set<String> leaking = new HashSet<>();
        for (int side = 0; side < 2; side++) {
            List<String> own = crowds.get(side);
            List<String> other = crowds.get(1 - side);
            for (String x : own) {
                double across = other.stream().mapToDouble(y -> correlation(thumb, x, y)).max().orElseThrow();
                long closer = own.stream().filter(y -> !y.equals(x) && correlation(thumb, x, y) > across).count();
                assertTrue(closer >= k, x + ": " + closer + " of its own split closer than the other split's best (" + across + ")");
                for (String y : other) {
                    if (correlation(thumb, x, y) >= AuditOptions.NEAR_DUPLICATE_PIXELS.defaultValue() + 1e-5
                            && cosine(fc7.get(x), fc7.get(y)) >= AuditOptions.NEAR_DUPLICATE_COSINE.defaultValue() + 1e-5) {
                        leaking.add(x);
                    }
                }
            }
        }
        Set<String> found = new HashSet<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.NEAR).orElseThrow().where("leakage").collectAsList()) {
            found.add(rel(images, r.getString(r.fieldIndex("path_a"))));
            found.add(rel(images, r.getString(r.fieldIndex("path_b"))));
        }
        System.out.println("audit near-duplicates: of two crowds of " + crowds.get(0).size() + " in two splits, " + leaking.size()
                + " paths have a near-duplicate in the other split");
        assertTrue(leaking.size() >= crowds.get(0).size(), "the crowds are near-duplicates across splits: " + leaking);
        Set<String> missed = new HashSet<>(leaking);
        missed.removeAll(found);
        assertTrue(missed.isEmpty(), "every path with a near-duplicate in the other split is in a leakage pair; missed " + missed);
    }

    private static double correlation(Map<String, float[]> thumb, String a, String b) {
        return io.cnnlens.audit.ImageQuality.correlation(thumb.get(a), thumb.get(b));
    }

    @Test
    void checksFindTheInjectedFaultsAndASecondAuditIsIncremental() throws Exception {
        Path images = tmp.resolve("images");
        Path out = tmp.resolve("out");
        AuditCollection c = new AuditCollection(AuditCollection.dataset());
        AuditCollection.Truth truth = c.build(images, 400, 100, 0.05, 4, 12);

        AuditJob.Summary a1 = AuditJob.run(spark, options(images, out, "a1", null));
        assertEquals(truth.images(), a1.features().inputs());
        assertEquals(truth.images(), a1.features().modelRan());
        Path run1 = out.resolve("audit/a1");
        assertTrue(Files.isRegularFile(run1.resolve("summary.json")));
        assertTrue(Files.readString(run1.resolve("report.html")).contains("What changed since the last audit"));

        Set<String> unreadable = paths(images, TableReader.table(spark, run1.toString(), AuditJob.UNREADABLE).orElseThrow(), "path");
        assertEquals(truth.corrupt(), unreadable, "unreadable = the corrupt files: recall and precision 1");

        Set<String> exact = paths(images, TableReader.table(spark, run1.toString(), AuditJob.EXACT).orElseThrow(), "path");
        assertEquals(1.0, recall(truth.exactCopies(), exact));

        Dataset<Row> near = TableReader.table(spark, run1.toString(), AuditJob.NEAR).orElseThrow();
        Set<String> nearPairs = new HashSet<>();
        Set<String> leakPairs = new HashSet<>();
        for (Row r : near.collectAsList()) {
            String a = rel(images, r.getString(r.fieldIndex("path_a")));
            String b = rel(images, r.getString(r.fieldIndex("path_b")));
            String key = a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
            nearPairs.add(key);
            if (r.getBoolean(r.fieldIndex("leakage"))) {
                leakPairs.add(key);
            }
        }
        // calibration: the injected copies' cosine to their source, straight from the features table
        Map<String, Row> f1 = byPath(TableReader.table(spark, out.toString(), "features").orElseThrow());
        Map<String, float[]> fc7 = new HashMap<>();
        f1.forEach((k, r) -> fc7.put(rel(images, k), io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(r.fieldIndex("fc7")))));
        StringBuilder cal = new StringBuilder();
        for (String[] p : truth.nearPairs()) {
            cal.append(String.format(java.util.Locale.ROOT, " %s %.5f", p[1].substring(p[1].lastIndexOf('/') + 1), cosine(fc7.get(p[0]), fc7.get(p[1]))));
        }
        System.out.println("audit checks: injected copies' fc7 cosine:" + cal + "; near pairs found " + nearPairs.size()
                + ", a1 seconds " + a1.seconds());
        int found = 0;
        for (String[] p : truth.nearPairs()) {
            String key = p[0].compareTo(p[1]) < 0 ? p[0] + "|" + p[1] : p[1] + "|" + p[0];
            found += leakPairs.contains(key) ? 1 : 0;
        }
        assertEquals(truth.nearPairs().size(), found, "every injected cross-split near-duplicate is found as leakage");

        Set<String> labelIssues = paths(images, TableReader.table(spark, run1.toString(), AuditJob.LABELS).orElseThrow(), "path");
        double lr = recall(truth.flipped(), labelIssues);
        double lp = precision(truth.flipped(), labelIssues);
        System.out.printf("audit checks: label issues precision %.3f recall %.3f (%d flagged, %d flipped)%n", lp, lr,
                labelIssues.size(), truth.flipped().size());
        assertTrue(lr >= 0.5 && lp >= 0.3, "label issues: precision " + lp + ", recall " + lr);

        Dataset<Row> quality = TableReader.table(spark, run1.toString(), AuditJob.QUALITY).orElseThrow();
        Set<String> dark = paths(images, quality.where("array_contains(flags, 'dark')"), "path");
        Set<String> blurry = paths(images, quality.where("array_contains(flags, 'blurry')"), "path");
        System.out.printf("audit checks: dark precision %.3f recall %.3f; blurry precision %.3f recall %.3f%n",
                precision(truth.dark(), dark), recall(truth.dark(), dark), precision(truth.blurred(), blurry), recall(truth.blurred(), blurry));
        assertEquals(1.0, recall(truth.dark(), dark));
        // by the brightest 1 % of pixels, not the mean: dark sandals on black are not flagged (0.5 by the mean)
        assertTrue(precision(truth.dark(), dark) >= 0.8, "dark precision " + precision(truth.dark(), dark) + ": " + dark);
        assertEquals(1.0, recall(truth.blurred(), blurry));
        // by fine detail's share of the contrast, not the plain Laplacian variance: plain faint items are not blurry
        assertTrue(precision(truth.blurred(), blurry) >= 0.8, "blurry precision " + precision(truth.blurred(), blurry) + ": " + blurry);
        Set<String> outliers = paths(images, TableReader.table(spark, run1.toString(), AuditJob.OUTLIERS).orElseThrow(), "path");
        System.out.printf("audit checks: outliers (noise images) precision %.3f recall %.3f%n", precision(truth.noise(), outliers),
                recall(truth.noise(), outliers));
        assertEquals(1.0, recall(truth.noise(), outliers), "noise images among the outliers: " + outliers);

        // +10 % same-distribution images, one removed, one changed in place: the model runs on the added and changed ones only
        List<String> added = c.addBatch(images, truth.images() / 10, false);
        Files.delete(images.resolve(truth.dark().iterator().next()));  // the removed file
        String changedPath = c.changeFirstTestImage(images);
        AuditJob.Summary a2 = AuditJob.run(spark, options(images, out, "a2", null));
        System.out.printf("audit incremental: first %.1f s (model on %d), second %.1f s (model on %d)%n",
                a1.seconds().get("total"), a1.features().modelRan(), a2.seconds().get("total"), a2.features().modelRan());
        System.out.println("audit incremental: a2 seconds " + a2.seconds());
        // the corrupt files are read again (no row to reuse), and fail again
        assertEquals(added.size() + 1 + truth.corrupt().size(), a2.features().modelRan());
        assertEquals(1, a2.features().removed());
        assertEquals(added.size(), a2.metrics().get("changes.added"));
        assertEquals(1.0, a2.metrics().get("changes.removed"));
        assertEquals(1.0, a2.metrics().get("changes.changed"), changedPath + " changed in place");
        // a near-duplicate pair leaves the table only with a removed or changed file: the rest of a1's pairs are kept
        // even where the added images pushed them out of the lists
        Set<String> nearPairs2 = nearPairs(images, out.resolve("audit/a2"));
        String removedPath = truth.dark().iterator().next();
        for (String p : nearPairs) {
            assertTrue(nearPairs2.contains(p) || Set.of(p.split("\\|")).contains(removedPath) || Set.of(p.split("\\|")).contains(changedPath),
                    "a1's pair " + p + " is still in a2's table");
        }
        System.out.printf("audit near-duplicates: a2 kept %.0f of a1's pairs the lists no longer proposed; resolved %.0f%n",
                a2.metrics().get("near_duplicates.kept"), a2.metrics().get("resolved.near_duplicates"));
        assertEquals(1.0, a2.metrics().get("resolved.quality"), "the deleted dark image's flag is resolved");
        assertEquals(added.size() + 1, a2.metrics().get("quality.decoded"), "quality measured for new content only");
        assertTrue(a2.metrics().get("drift.p_value") > 0.001, "no drift on a same-distribution batch: " + a2.metrics());
        // 10 % new: the label probes of a1 score again (no fit), out of sample for old and new rows alike
        assertEquals(0.0, a2.metrics().get("probe.refit"), "a1's probes kept");
        assertEquals((added.size() + 1) / a2.metrics().get("images"), a2.metrics().get("probe.changed_since_fit"), 1e-12);
        assertTrue(Files.readString(out.resolve("audit/a2/probes.json")).contains("\"run\":\"a1\""), "a2 hands a1's probes on");
        assertTrue(Files.readString(out.resolve("audit/a2/report.html")).contains("kept from audit a1"));
        assertTrue(a2.metrics().get("probe.accuracy") > 0.7, "kept probes still classify: " + a2.metrics().get("probe.accuracy"));
        // the kNN lists of unchanged images are kept and merged with a search of the new ones only,
        // and equal a brute-force search over the whole collection
        double images2 = a2.metrics().get("images");
        System.out.printf("audit incremental: kNN searched %.0f images against all, kept %.0f lists%n",
                a2.metrics().get("knn.searched"), a2.metrics().get("knn.kept"));
        assertEquals(images2, a2.metrics().get("knn.searched") + a2.metrics().get("knn.kept"), 1e-9);
        assertTrue(a2.metrics().get("knn.searched") >= added.size() && a2.metrics().get("knn.searched") < images2 / 2, a2.metrics().toString());
        assertKnnIsBruteForce(TableReader.table(spark, out.resolve("audit/a2").toString(), AuditJob.KNN).orElseThrow(),
                TableReader.table(spark, out.toString(), "features").orElseThrow());

        // a removal and an in-place change: one MERGE; the merged table equals a full recompute
        assertEquals("MERGE", spark.sql("DESCRIBE HISTORY delta.`" + out.resolve("features") + "` LIMIT 1").first().getAs("operation"));
        assertEqualsFullRecompute(images, out, tmp.resolve("full"));

        // an inverted batch drifts; a threshold on the drift p-value makes the command fail. This audit
        // searches its neighbours through a graph index (kept lists merged with a graph search of the new images)
        c.addBatch(images, 60, true);
        Path th = tmp.resolve("thresholds.properties");
        Files.writeString(th, "min.drift.p_value = 0.05\nmax.leakage.pairs = 1000\nmin.knn.recall = 0.9\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new AuditJob().run(new JobContext(spark), options(images, out, "a3", th, 2, 0, "graph")));
        assertTrue(e.getMessage().contains("drift.p_value") && !e.getMessage().contains("knn.recall"), e.getMessage());
        Path run3 = out.resolve("audit/a3");
        double graphRecall = knnRecall(TableReader.table(spark, run3.toString(), AuditJob.KNN).orElseThrow(),
                TableReader.table(spark, out.toString(), "features").orElseThrow());
        JsonNode summary3 = new ObjectMapper().readTree(run3.resolve("summary.json").toFile());
        assertEquals("graph", summary3.path("knn_method").asText());
        JsonNode m3 = summary3.path("metrics");
        System.out.printf("audit graph kNN: recall against brute force %.4f, reported %.4f%n", graphRecall, m3.path("knn.recall").asDouble());
        assertTrue(graphRecall >= 0.95, "graph kNN recall " + graphRecall);
        assertEquals(graphRecall, m3.path("knn.recall").asDouble(), 0.01, "the audit's own recall estimate (every image sampled here)");
        assertTrue(m3.path("knn.kept").asDouble() > 0, "a2's lists kept and merged with a graph search of the new images");
        Set<String> leak3 = new HashSet<>();
        for (Row r : TableReader.table(spark, run3.toString(), AuditJob.NEAR).orElseThrow().where("leakage").collectAsList()) {
            String a = rel(images, r.getString(r.fieldIndex("path_a")));
            String b = rel(images, r.getString(r.fieldIndex("path_b")));
            leak3.add(a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a);
        }
        for (String[] p : truth.nearPairs()) {
            assertTrue(leak3.contains(p[0].compareTo(p[1]) < 0 ? p[0] + "|" + p[1] : p[1] + "|" + p[0]), "graph search finds leakage " + p[0]);
        }
        // a3 only added images: the thumbnails' pairs of a2 are kept and only the new contents searched
        // (a2 had a removal, so it searched all); the kept and new pairs hold every brute-force one
        assertEquals(60.0, m3.path("near_duplicates.thumbnail_searched").asDouble(), "only the 60 new contents searched");
        assertTrue(a2.metrics().get("near_duplicates.thumbnail_searched") > 400, "a2 lost a content: all searched");
        // and across splits: a2 searched all contents with a split, a3 the 60 new ones (all in test/)
        assertTrue(a2.metrics().get("near_duplicates.split_searched") > 400, "a2 searched across splits in full");
        assertEquals(60.0, m3.path("near_duplicates.split_searched").asDouble(), "a3 searched the new contents across splits");
        assertThumbnailPairsHoldBruteForce(run3);
        assertNearDuplicatesEqualBruteForce(run3, out.resolve("audit/a2"));
        try (var left = Files.list(run3)) {
            assertTrue(left.noneMatch(x -> x.getFileName().toString().startsWith("_graph_")), "the graph's work folders are removed");
        }
        // a3 only added images: its features were appended, not merged, and still equal a full recompute
        Row last = spark.sql("DESCRIBE HISTORY delta.`" + out.resolve("features") + "` LIMIT 1")
                .selectExpr("operation", "operationParameters['mode']").first();
        assertEquals("WRITE Append", last.getString(0) + " " + last.getString(1));
        assertEqualsFullRecompute(images, out, tmp.resolve("full3"));
        keepForALook(out.resolve("audit/a3/report.html"), "report-a3.html");
        keepForALook(out.resolve("audit/a3/summary.json"), "summary-a3.json");
        JsonNode s3 = new ObjectMapper().readTree(out.resolve("audit/a3/summary.json").toFile());
        assertEquals("a2", s3.path("previous_run").asText());
        assertTrue(s3.path("metrics").path("drift.p_value").asDouble() < 0.05, s3.toString());
        assertEquals(1, s3.path("crossed").size());
        assertEquals(1.0, s3.path("metrics").path("probe.refit").asDouble(), "other folds than the kept probes': fitted anew");
        assertNotNull(TableReader.table(spark, out.resolve("audit/a3").toString(), AuditJob.DRIFT).orElseThrow().first());
    }

    /**
     * Pure noise images sit among the classes in fc7 (the model maps them to ordinary features) but
     * correlate with nothing by thumbnail, so the outliers by thumbnail flag each of them. Each
     * content's thumbnail list equals a brute-force search, in a first audit and in a second that
     * kept the first's lists and searched only the new contents; the second's outliers are those
     * of the brute-force lists, at the exact top fraction of each measure.
     */
    @Test
    void noiseImagesAreOutliersByThumbnailAndKeptListsEqualBruteForce() throws Exception {
        Path images = tmp.resolve("images");
        Path out = tmp.resolve("out");
        AuditCollection c = new AuditCollection(AuditCollection.dataset());
        AuditCollection.Truth truth = c.build(images, 250, 60, 0, 8, 11);
        double fraction = 0.02;
        AuditJob.run(spark, outlierOptions(images, out, "o1", fraction));
        Path run1 = out.resolve("audit/o1");
        assertThumbnailListsEqualBruteForce(run1);
        Dataset<Row> flagged = TableReader.table(spark, run1.toString(), AuditJob.OUTLIERS).orElseThrow();
        Set<String> byThumbnail = paths(images, flagged.where(col("flagged_by").contains("thumbnail")), "path");
        Set<String> byFc7 = paths(images, flagged.where(col("flagged_by").contains("fc7")), "path");
        System.out.printf("audit outliers: %d noise images; by fc7 %d of them (%d flagged), by thumbnail %d (%d flagged)%n",
                truth.noise().size(), truth.noise().stream().filter(byFc7::contains).count(), byFc7.size(),
                truth.noise().stream().filter(byThumbnail::contains).count(), byThumbnail.size());
        assertTrue(truth.noise().size() >= 4);
        assertTrue(byThumbnail.containsAll(truth.noise()), "every noise image is an outlier by thumbnail: " + byThumbnail);

        List<String> added = c.addBatch(images, 30, false);
        // and a byte copy of a train image under test/: its content's split is now test, so the search across splits is done in full
        Path trainImage;
        try (var files = Files.walk(images.resolve("train"))) {
            trainImage = files.filter(x -> x.toString().endsWith(".png")).sorted().findFirst().orElseThrow();
        }
        Path copied = images.resolve("test").resolve(trainImage.getParent().getFileName().toString()).resolve("copied-from-train.png");
        Files.createDirectories(copied.getParent());
        Files.copy(trainImage, copied);
        AuditJob.Summary a2 = AuditJob.run(spark, outlierOptions(images, out, "o2", fraction));
        Path run2 = out.resolve("audit/o2");
        assertEquals(added.size(), a2.metrics().get("near_duplicates.thumbnail_searched"), "the new contents only searched");
        assertTrue(a2.metrics().get("near_duplicates.split_searched") > 300, "a content moved split: all searched across splits, "
                + a2.metrics().get("near_duplicates.split_searched"));
        assertThumbnailPairsHoldBruteForce(run2);
        Map<String, Double> thumbnailKth = assertThumbnailListsEqualBruteForce(run2);
        // the outliers of the brute-force lists: the exact top fraction of each measure, by path
        Map<String, Double> fc7Kth = new HashMap<>();
        int k = AuditOptions.K.defaultValue();
        for (Row r : TableReader.table(spark, run2.toString(), AuditJob.KNN).orElseThrow().where(col("rank").equalTo(k))
                .select("path", "distance").collectAsList()) {
            fc7Kth.put(r.getString(0), (double) r.getFloat(1));
        }
        Map<String, Double> byPath = new HashMap<>();
        readQuality(run2, (path, id, thumbnail) -> {
            if (thumbnailKth.containsKey(id)) {
                byPath.put(path, thumbnailKth.get(id));
            }
        });
        Set<String> want = new HashSet<>(topFraction(fc7Kth, fraction));
        want.addAll(topFraction(byPath, fraction));
        Set<String> have = new HashSet<>();
        TableReader.table(spark, run2.toString(), AuditJob.OUTLIERS).orElseThrow().select("path").collectAsList()
                .forEach(r -> have.add(r.getString(0)));
        assertEquals(want, have, "outliers of the kept and merged lists = those of brute-force lists");
        assertEquals((double) have.size(), a2.metrics().get("outliers.count"));
        String report = Files.readString(run2.resolve("report.html"));
        assertTrue(report.contains("by fc7: ") && report.contains("by thumbnail: "), "the report shows both measures' outliers");
        keepForALook(run2.resolve("report.html"), "report-o2.html");
    }

    /** A run's file copied to tests/target/audit-report/{@code name} (the build's folder), for a look in a browser. */
    private static void keepForALook(Path file, String name) throws java.io.IOException {
        Path keep = home().resolve("tests/target/audit-report");
        Files.createDirectories(keep);
        Files.copy(file, keep.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static AuditOptions outlierOptions(Path images, Path out, String run, double fraction) {
        return AuditOptions.of(OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(AuditOptions.RUN, run).with(AuditOptions.BLOCK, 512).with(AuditOptions.FOLDS, 2)
                .with(AuditOptions.KNN_KEEP_FROM, 0).with(AuditOptions.OUTLIER_FRACTION, fraction));
    }

    /** The keys whose value is at or above the value of rank ⌈(1 − fraction)·n⌉ (ascending), as the audit cuts. */
    private static Set<String> topFraction(Map<String, Double> values, double fraction) {
        double[] sorted = values.values().stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double cut = sorted[(int) Math.ceil((1 - fraction) * sorted.length) - 1];
        Set<String> out = new HashSet<>();
        values.forEach((key, v) -> {
            if (v >= cut) {
                out.add(key);
            }
        });
        return out;
    }

    /**
     * The run's thumbnail lists against a brute-force search over its quality table: every content
     * with a thumbnail that is not flat, its k smallest distances (1 − correlation) to the others,
     * within 1e-5. Returns each content's k-th.
     */
    static Map<String, Double> assertThumbnailListsEqualBruteForce(Path run) {
        Map<String, float[]> thumbs = new HashMap<>();
        readQuality(run, (path, id, thumbnail) -> {
            if (io.cnnlens.audit.ImageQuality.centred(thumbnail) != null) {
                thumbs.put(id, thumbnail);
            }
        });
        Map<String, List<Float>> got = new HashMap<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.THUMBNAIL_LISTS).orElseThrow().collectAsList()) {
            got.put(r.getString(0), r.getList(1));
        }
        assertEquals(thumbs.keySet(), got.keySet(), "one list per content with a thumbnail");
        int k = Math.min(AuditOptions.K.defaultValue(), thumbs.size() - 1);
        Map<String, Double> kth = new HashMap<>();
        double worst = 0;
        for (String q : thumbs.keySet()) {
            double[] d = thumbs.keySet().stream().filter(o -> !o.equals(q))
                    .mapToDouble(o -> 1 - io.cnnlens.audit.ImageQuality.correlation(thumbs.get(q), thumbs.get(o))).sorted().toArray();
            List<Float> list = got.get(q);
            assertEquals(k, list.size(), "list length of " + q);
            for (int r = 0; r < k; r++) {
                worst = Math.max(worst, Math.abs(d[r] - list.get(r)));
            }
            kth.put(q, (double) list.get(k - 1));
        }
        System.out.printf("audit thumbnails: %d lists of %d against brute force, max |diff| %.2e%n", thumbs.size(), k, worst);
        assertTrue(worst < 1e-5, "thumbnail lists against brute force: max |diff| " + worst);
        return kth;
    }

    /**
     * Every pair of contents in one of the two's 10 nearest by thumbnail correlation (brute force
     * over the run's quality table) that correlates at the default threshold or more is among the
     * run's thumbnail pairs.
     */
    static void assertThumbnailPairsHoldBruteForce(Path run) {
        Map<String, float[]> thumbs = new HashMap<>();
        Map<String, String> split = new HashMap<>(); // a content's split: its paths' first in name order
        readQuality(run, (path, id, thumbnail) -> {
            thumbs.put(id, thumbnail);
            String s = io.cnnlens.audit.SplitFolders.of(path);
            if (s != null) {
                split.merge(id, s, (x, y) -> x.compareTo(y) <= 0 ? x : y);
            }
        });
        Set<String> have = new HashSet<>();
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.THUMBNAIL_PAIRS).orElseThrow().collectAsList()) {
            have.add(r.getString(0) + "|" + r.getString(1));
        }
        List<String> ids = new ArrayList<>(thumbs.keySet());
        Set<String> want = new HashSet<>();
        Set<String> across = new HashSet<>();
        for (String q : ids) {
            if (io.cnnlens.audit.ImageQuality.centred(thumbs.get(q)) == null) {
                continue;
            }
            List<double[]> all = new ArrayList<>();
            List<double[]> otherSplits = new ArrayList<>();
            for (int j = 0; j < ids.size(); j++) {
                String o = ids.get(j);
                if (!o.equals(q) && io.cnnlens.audit.ImageQuality.centred(thumbs.get(o)) != null) {
                    double[] c = {io.cnnlens.audit.ImageQuality.correlation(thumbs.get(q), thumbs.get(o)), j};
                    all.add(c);
                    if (split.get(q) != null && split.get(o) != null && !split.get(q).equals(split.get(o))) {
                        otherSplits.add(c);
                    }
                }
            }
            // each content's list among all, and among the other splits' contents (the search for leakage)
            want.addAll(listPairsHeld(q, all, ids, have));
            Set<String> fromAcross = listPairsHeld(q, otherSplits, ids, have);
            want.addAll(fromAcross);
            across.addAll(fromAcross);
        }
        System.out.println("audit thumbnails: " + want.size() + " brute-force list pairs at or above the threshold (" + across.size()
                + " from the lists across splits), all among the run's " + have.size());
        assertFalse(want.isEmpty(), "the collection's injected copies give pairs to check");
    }

    /** The pairs of q's k nearest in {@code ranked} (correlation, index in ids) at the threshold, each asserted among {@code have}. */
    private static Set<String> listPairsHeld(String q, List<double[]> ranked, List<String> ids, Set<String> have) {
        int k = AuditOptions.K.defaultValue();
        double threshold = AuditOptions.NEAR_DUPLICATE_PIXELS.defaultValue();
        ranked.sort((x, y) -> Double.compare(y[0], x[0]));
        Set<String> held = new HashSet<>();
        for (int r = 0; r < Math.min(k, ranked.size()); r++) {
            // a tie with the (k+1)-th may rank either way: only clear places count
            boolean clear = r + 1 == ranked.size() || ranked.get(r + 1)[0] < ranked.get(r)[0] - 1e-6 || r + 1 < k;
            if (ranked.get(r)[0] >= threshold + 1e-6 && clear) {
                String o = ids.get((int) ranked.get(r)[1]);
                String pair = pair(q, o);
                held.add(pair);
                assertTrue(have.contains(pair), "thumbnail pair " + q + " ~ " + o + " corr " + ranked.get(r)[0]);
            }
        }
        return held;
    }

    /**
     * The run's near-duplicates are its candidates (the knn lists' pairs and the thumbnail pairs'
     * paths, at the default cosine) whose thumbnails, compared here for every one of them, correlate
     * at the default threshold: the audit compares only the pairs no list answers for
     * (NearDuplicates). A pair within 1e-5 of the threshold may fall either way.
     */
    static void assertNearDuplicatesEqualBruteForce(Path run) {
        assertNearDuplicatesEqualBruteForce(run, null);
    }

    /**
     * As {@link #assertNearDuplicatesEqualBruteForce(Path)}, with the {@code previous} audit's pairs
     * among the candidates where both paths hold the same content in both runs: a later audit keeps them.
     */
    static void assertNearDuplicatesEqualBruteForce(Path run, Path previous) {
        String dir = run.toString();
        Map<String, float[]> thumbs = new HashMap<>();
        Map<String, String> content = new HashMap<>();
        readQuality(run, (path, id, thumbnail) -> {
            content.put(path, id);
            thumbs.put(id, thumbnail);
        });
        Map<String, List<String>> paths = new HashMap<>();
        content.forEach((path, id) -> paths.computeIfAbsent(id, x -> new ArrayList<>()).add(path));
        double maxDistance = 1 - AuditOptions.NEAR_DUPLICATE_COSINE.defaultValue();
        double threshold = AuditOptions.NEAR_DUPLICATE_PIXELS.defaultValue();
        Set<String> candidates = new HashSet<>();
        for (Row r : TableReader.table(spark, dir, AuditJob.KNN).orElseThrow().where(col("distance").leq(maxDistance))
                .select("path", "neighbor_path").collectAsList()) {
            candidates.add(pair(r.getString(0), r.getString(1)));
        }
        for (Row r : TableReader.table(spark, dir, AuditJob.THUMBNAIL_PAIRS).orElseThrow().where(col("distance").leq(maxDistance))
                .select("image_id_a", "image_id_b").collectAsList()) {
            for (String a : paths.getOrDefault(r.getString(0), List.of())) {
                for (String b : paths.getOrDefault(r.getString(1), List.of())) {
                    candidates.add(pair(a, b));
                }
            }
        }
        if (previous != null) {
            Map<String, String> then = new HashMap<>();
            readQuality(previous, (path, id, thumbnail) -> then.put(path, id));
            for (Row r : TableReader.table(spark, previous.toString(), AuditJob.NEAR).orElseThrow()
                    .where(col("cosine").geq(AuditOptions.NEAR_DUPLICATE_COSINE.defaultValue())).select("path_a", "path_b").collectAsList()) {
                String a = r.getString(0);
                String b = r.getString(1);
                if (then.get(a).equals(content.get(a)) && then.get(b).equals(content.get(b))) {
                    candidates.add(pair(a, b));
                }
            }
        }
        Set<String> want = new HashSet<>();
        Set<String> either = new HashSet<>();
        for (String pair : candidates) {
            String[] ab = pair.split("\\|");
            String a = content.get(ab[0]);
            String b = content.get(ab[1]);
            double c = a.equals(b) ? 1 : io.cnnlens.audit.ImageQuality.correlation(thumbs.get(a), thumbs.get(b));
            if (Math.abs(c - threshold) < 1e-5) {
                either.add(pair);
            } else if (c >= threshold) {
                want.add(pair);
            }
        }
        Set<String> have = new HashSet<>();
        for (Row r : TableReader.table(spark, dir, AuditJob.NEAR).orElseThrow().select("path_a", "path_b").collectAsList()) {
            have.add(pair(r.getString(0), r.getString(1)));
        }
        have.removeAll(either);
        assertEquals(want, have, "near-duplicates against every candidate compared by thumbnail");
        System.out.println("audit near-duplicates: " + candidates.size() + " candidates compared by brute force, " + want.size()
                + " correlate at the threshold, as the run found");
        assertFalse(want.isEmpty());
    }

    /** Two ids or paths as one unordered pair. */
    private static String pair(String a, String b) {
        return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
    }

    private interface QualityRow {
        void accept(String path, String imageId, float[] thumbnail);
    }

    /** Every row of the run's quality table: path, content and thumbnail. */
    private static void readQuality(Path run, QualityRow row) {
        for (Row r : TableReader.table(spark, run.toString(), AuditJob.QUALITY).orElseThrow().select("path", "image_id", "thumbnail")
                .collectAsList()) {
            row.accept(r.getString(0), r.getString(1), io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(2)));
        }
    }

    /** The features table in {@code out} against a full recompute of {@code images} into {@code full}: ids, labels, predictions, fc7 within 1e-4. */
    static void assertEqualsFullRecompute(Path images, Path out, Path full) {
        FeaturesJob.run(spark, FeaturesOptions.of(OptionValues.defaults().with(SharedOptions.IMAGES, images.toString())
                .with(SharedOptions.OUT, full.toString())));
        Map<String, Row> inc = byPath(TableReader.table(spark, out.toString(), "features").orElseThrow());
        Map<String, Row> all = byPath(TableReader.table(spark, full.toString(), "features").orElseThrow());
        assertEquals(all.keySet(), inc.keySet());
        double worst = 0;
        for (Map.Entry<String, Row> e : all.entrySet()) {
            Row a = e.getValue();
            Row b = inc.get(e.getKey());
            for (String col : List.of("image_id", "label", "pred", "model", "width", "height")) {
                assertEquals(String.valueOf(a.get(a.fieldIndex(col))), String.valueOf(b.get(b.fieldIndex(col))), col + " of " + e.getKey());
            }
            List<Float> fa = a.getList(a.fieldIndex("fc7"));
            List<Float> fb = b.getList(b.fieldIndex("fc7"));
            for (int i = 0; i < fa.size(); i++) {
                worst = Math.max(worst, Math.abs(fa.get(i) - fb.get(i)));
            }
        }
        assertTrue(worst < 1e-4, "fc7 of the merged table vs a full recompute: max |diff| " + worst);
    }

    /**
     * Recall@k of {@code knn} against a brute-force cosine search of {@code features}: per image, its
     * listed neighbours within its exact k-th distance (+1e-5: ties count either way), over k.
     */
    static double knnRecall(Dataset<Row> knn, Dataset<Row> features) {
        Map<String, Row> f = byPath(features);
        Map<String, float[]> v = new HashMap<>();
        f.forEach((p, r) -> v.put(p, io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(r.fieldIndex("fc7")))));
        Map<String, List<String>> lists = new HashMap<>();
        for (Row r : knn.collectAsList()) {
            lists.computeIfAbsent(r.getString(r.fieldIndex("path")), x -> new ArrayList<>()).add(r.getString(r.fieldIndex("neighbor_path")));
        }
        long want = 0;
        long hits = 0;
        for (String q : v.keySet()) {
            List<String> got = lists.getOrDefault(q, List.of());
            double[] d = v.keySet().stream().filter(p -> !p.equals(q)).mapToDouble(p -> 1 - cosine(v.get(q), v.get(p))).sorted().toArray();
            int k = Math.min(got.size() == 0 ? 10 : got.size(), d.length);
            double kth = d[k - 1];
            long in = got.stream().filter(p -> 1 - cosine(v.get(q), v.get(p)) <= kth + 1e-5).count();
            want += k;
            hits += Math.min(in, k);
        }
        return hits / (double) want;
    }

    /** Every image's neighbours in {@code knn} against a brute-force cosine search of {@code features}. */
    static void assertKnnIsBruteForce(Dataset<Row> knn, Dataset<Row> features) {
        Map<String, Row> f = byPath(features);
        List<String> paths = new ArrayList<>(f.keySet());
        Map<String, float[]> v = new HashMap<>();
        f.forEach((p, r) -> v.put(p, io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(r.fieldIndex("fc7")))));
        Map<String, List<Row>> lists = new HashMap<>();
        for (Row r : knn.collectAsList()) {
            lists.computeIfAbsent(r.getString(r.fieldIndex("path")), x -> new ArrayList<>()).add(r);
        }
        assertEquals(f.keySet(), lists.keySet(), "every image has a list");
        int compared = 0;
        for (String q : paths) {
            List<Row> got = new ArrayList<>(lists.get(q));
            got.sort(java.util.Comparator.comparingInt(r -> r.getInt(r.fieldIndex("rank"))));
            int k = got.size();
            List<double[]> all = new ArrayList<>(); // (distance, index)
            for (int j = 0; j < paths.size(); j++) {
                if (!paths.get(j).equals(q)) {
                    all.add(new double[] {1 - cosine(v.get(q), v.get(paths.get(j))), j});
                }
            }
            all.sort(java.util.Comparator.comparingDouble(a -> a[0]));
            for (int rank = 0; rank < k; rank++) {
                double want = all.get(rank)[0];
                double have = got.get(rank).getFloat(got.get(rank).fieldIndex("distance"));
                assertEquals(want, have, 1e-5, q + " rank " + (rank + 1));
                boolean clear = (rank == 0 || all.get(rank - 1)[0] < want - 1e-5) && (rank + 1 == all.size() || all.get(rank + 1)[0] > want + 1e-5);
                if (clear) {
                    assertEquals(paths.get((int) all.get(rank)[1]), got.get(rank).getString(got.get(rank).fieldIndex("neighbor_path")),
                            q + " rank " + (rank + 1));
                    compared++;
                }
            }
        }
        assertTrue(compared > paths.size(), "neighbours compared by identity: " + compared);
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static Map<String, Row> byPath(Dataset<Row> t) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : t.collectAsList()) {
            m.put(r.getString(r.fieldIndex("path")), r);
        }
        return m;
    }
}
