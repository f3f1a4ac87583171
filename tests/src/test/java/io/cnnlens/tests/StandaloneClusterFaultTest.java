package io.cnnlens.tests;

import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableLog;
import io.cnnlens.jobs.spark.TableReader;

import io.delta.tables.DeltaTable;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jobs on a real Spark standalone cluster (a master and two one-core workers on loopback,
 * {@link StandaloneCluster}) under faults. {@code features}: an executor killed with SIGKILL while
 * tasks run, then a driver killed in the middle of its commit (after the features table's Delta
 * commit, before the commit log's row). {@code saliency}, an analysis job with an error table
 * written by its tasks: an executor killed and, later in the same run, the other worker killed
 * with its executor. After each, the tables a reader sees hold exactly one row per input (per
 * method), no duplicates, at the version the commit log names. The soak variant
 * ({@link StandaloneClusterSoakBench}) repeats every fault kind for either job.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterFaultTest extends SparkTestBase {

    static final int EVERY = 4;        // 500 of the sample's 2,000 images
    static final int BROKEN = 3;       // files that are not images: one error row each
    static final int PARTITIONS = 24;  // tasks short enough that a kill lands while many remain

    @TempDir
    static Path tmp;

    static StandaloneCluster cluster;
    static Path images;
    static Set<String> inputs;
    static long t0;

    @BeforeAll
    static void startCluster() throws Exception {
        images = tmp.resolve("images");
        inputs = writeInputs(images, EVERY, BROKEN);
        t0 = System.nanoTime();
        cluster = StandaloneCluster.start(tmp.resolve("cluster"), 2, "2g");
        say("master and 2 workers registered");
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
            cluster.keepLogs(home().resolve("tests/target/standalone-cluster-logs"));
            cluster = null;
        }
    }

    @Test
    @Order(1)
    void anExecutorKilledMidJobAndADriverKilledMidCommitLeaveCompleteDuplicateFreeTables() throws Exception {
        Path jar = StandaloneCluster.jobJar();
        String out = tmp.resolve("out").toString();
        ClusterJob job = ClusterJob.FEATURES;

        // 1. an executor killed (SIGKILL) while the features tasks run: the job still succeeds
        Set<String> staged = job.taskFiles(out);
        StandaloneCluster.Submission first = cluster.submit("features-1", jar, List.of(), Map.of(), job.args(images, out));
        long doneAtKill = awaitTasks(job, out, staged, 2, first);
        say("run 1: 2 tasks committed");
        Optional<Integer> killedOn = cluster.killExecutor();
        assertTrue(killedOn.isPresent(), "an executor was running when 2 tasks had committed");
        assertTrue(doneAtKill < PARTITIONS, "killed mid-job: " + doneAtKill + " of " + PARTITIONS + " tasks committed");
        assertEquals(0, first.await(5), StandaloneCluster.tail(first.log()));
        say("run 1 finished");
        String log1 = first.text();
        assertTrue(log1.contains("ExecutorLostFailure"), "a running task was lost with the executor and redone; " + log1);
        Counts c1 = counts(job, out);
        say("executor killed on worker " + killedOn.get() + " after " + doneAtKill + " of " + PARTITIONS + " tasks: " + c1);
        c1.assertComplete(inputs, BROKEN);
        assertEquals(1, c1.logEntries());
        assertEquals(Map.of("features", 0L, "errors", 0L), c1.versions());

        // 2. the driver killed mid-commit: after its features table's Delta commit, before the log row
        StandaloneCluster.Submission halted = cluster.submit("features-2", jar,
                List.of("-D" + TableCommitter.HALT_AT + "=after-table:features"), Map.of(), job.args(images, out));
        assertEquals(137, halted.await(5), StandaloneCluster.tail(halted.log()));
        say("run 2 halted");
        assertTrue(halted.text().contains("halting at commit point after-table:features"), StandaloneCluster.tail(halted.log()));
        assertEquals(1L, latestVersion(out, "features"), "the killed driver did commit its features table");
        Counts c2 = counts(job, out);
        say("driver halted after-table:features: " + c2 + "; features table's latest Delta version "
                + latestVersion(out, "features"));
        c2.assertComplete(inputs, BROKEN);
        assertEquals(c1.versions(), c2.versions(), "readers still read the versions the first run logged");
        assertEquals(1, c2.logEntries(), "the killed run logged nothing");
        assertEquals(c1.ids(), c2.ids());

        // 3. the re-run, no fault: complete, duplicate-free, and the log advanced to its versions
        StandaloneCluster.Submission rerun = cluster.submit("features-3", jar, List.of(), Map.of(), job.args(images, out));
        assertEquals(0, rerun.await(5), StandaloneCluster.tail(rerun.log()));
        say("run 3 finished");
        Counts c3 = counts(job, out);
        say("re-run: " + c3);
        c3.assertComplete(inputs, BROKEN);
        assertEquals(2, c3.logEntries());
        assertEquals(Map.of("features", latestVersion(out, "features"), "errors", latestVersion(out, "errors")), c3.versions(),
                "the log names each table's newest version");
        assertEquals(2L, c3.versions().get("features"), "past the killed run's uncommitted version 1");
        assertEquals(c1.ids(), c3.ids());
    }

    @Test
    @Order(2)
    void anAnalysisJobLosingAnExecutorAndThenAWorkerLeavesCompleteDuplicateFreeTables() throws Exception {
        Path jar = StandaloneCluster.jobJar();
        String out = tmp.resolve("out-saliency").toString();
        ClusterJob job = ClusterJob.SALIENCY;
        Set<String> staged = job.taskFiles(out);
        StandaloneCluster.Submission run = cluster.submit("saliency-1", jar, List.of(), Map.of(), job.args(images, out));

        // an executor killed after 2 tasks wrote; the worker starts a new one for the application
        long atExecutorKill = awaitTasks(job, out, staged, 2, run);
        Optional<Integer> executorOn = cluster.killExecutor();
        assertTrue(executorOn.isPresent(), "an executor was running when 2 saliency tasks had written");
        say("saliency: executor killed on worker " + executorOn.get() + " after " + atExecutorKill + " of " + PARTITIONS + " tasks");

        // later in the same run, the other worker killed (SIGKILL) with its executor
        int worker = 1 - executorOn.get();
        long atWorkerKill = awaitTasks(job, out, staged, atExecutorKill + 4, run);
        assertTrue(atWorkerKill < PARTITIONS, "worker killed mid-job: " + atWorkerKill + " of " + PARTITIONS + " tasks written");
        assertTrue(!cluster.executors(worker).isEmpty(), "worker " + worker + " had an executor to lose");
        cluster.killWorker(worker);
        say("saliency: worker " + worker + " killed after " + atWorkerKill + " of " + PARTITIONS + " tasks");
        int code = run.await(5);
        cluster.startWorker(worker);
        assertEquals(0, code, StandaloneCluster.tail(run.log()));
        String log = run.text();
        assertTrue(countOf(log, "Lost executor") >= 2, "the driver lost two executors; " + StandaloneCluster.tail(run.log()));

        Counts c = counts(job, out);
        say("saliency after an executor kill and a worker kill: " + c);
        c.assertComplete(inputs, BROKEN);
        assertEquals(1, c.logEntries());
        assertEquals(0L, c.versions().get("saliency"), "the first saliency run's version is logged");
        assertEquals(0L, c.versions().get("saliency_errors"));
        assertEquals(latestVersion(out, "saliency"), c.versions().get("saliency"), "readers read the table's newest version");
    }

    static int countOf(String text, String s) {
        int n = 0;
        for (int i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + 1)) {
            n++;
        }
        return n;
    }

    /**
     * A job the cluster tests submit: its arguments, the table whose rows they count (one per
     * input and method), its error table, and where its tasks' part files appear while it runs.
     */
    record ClusterJob(String name, String table, String errors, String key, List<String> extra) {
        /** {@code features} writes straight into its Delta table, one part file per task. */
        static final ClusterJob FEATURES = new ClusterJob("features", "features", "errors", "image_id", List.of());
        /**
         * {@code saliency} (vanilla gradient of every image) writes Parquet under its run's
         * staging folder; its error rows go to a side table its tasks write.
         */
        static final ClusterJob SALIENCY = new ClusterJob("saliency", "saliency", "saliency_errors", "image_id",
                List.of("--sample", "0", "--methods", "gradient"));

        List<String> args(Path images, String out) {
            List<String> a = new ArrayList<>(List.of(name, "--images", images.toString(), "--out", out,
                    "--partitions", String.valueOf(PARTITIONS)));
            a.addAll(extra);
            return a;
        }

        /**
         * The names of the part files the job's tasks have written so far (a task's file keeps
         * its name when its commit moves it), found under the table (features) or the run's
         * staging folder (every other job).
         */
        Set<String> taskFiles(String out) throws IOException {
            Path root = name.equals("features") ? Path.of(out, table) : Path.of(out, "_staging");
            if (!Files.isDirectory(root)) {
                return Set.of();
            }
            String tablePart = "/" + table + "/";
            try (Stream<Path> w = Files.walk(root)) {
                return w.filter(p -> p.getFileName().toString().startsWith("part-"))
                        .filter(p -> name.equals("features") || p.toString().contains(tablePart))
                        .map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            }
        }
    }

    static void say(String what) {
        System.out.printf(java.util.Locale.ROOT, "cluster fault test, %5.1f s: %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    /**
     * Every {@code every}-th sample image plus {@code broken} files named {@code .png} that are not
     * images; returns each input as {@code <class>/<file>}.
     */
    static Set<String> writeInputs(Path dir, int every, int broken) throws IOException {
        copySample(dir, every);
        Path bad = Files.createDirectories(dir.resolve("broken"));
        for (int i = 0; i < broken; i++) {
            Files.writeString(bad.resolve("not-an-image-" + i + ".png"), "not a PNG " + i);
        }
        try (Stream<Path> w = Files.walk(dir)) {
            return w.filter(Files::isRegularFile).map(p -> classAndFile(p.toString())).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static String classAndFile(String path) {
        String[] s = path.split("/");
        return s[s.length - 2] + "/" + s[s.length - 1];
    }

    /**
     * Waits until {@code tasks} tasks of the submitted run are writing or done (part files not in
     * {@code before}); returns how many were when it returned.
     */
    static long awaitTasks(ClusterJob job, String out, Set<String> before, long tasks, StandaloneCluster.Submission run)
            throws Exception {
        long[] done = {0};
        StandaloneCluster.await(240, tasks + " " + job.name() + " tasks writing", () -> {
            if (!run.process().isAlive()) {
                throw new AssertionError("driver exited before " + tasks + " tasks wrote; " + StandaloneCluster.tail(run.log()));
            }
            try {
                done[0] = job.taskFiles(out).stream().filter(p -> !before.contains(p)).count();
            } catch (IOException | java.io.UncheckedIOException e) {
                return false;
            }
            return done[0] >= tasks;
        });
        return done[0];
    }

    static long latestVersion(String out, String table) {
        return DeltaTable.forPath(spark, out + "/" + table).history(1).select("version").first().getLong(0);
    }

    /** What a reader sees in {@code out}. */
    record Counts(long rows, long distinctIds, long distinctPaths, long errors, long distinctErrorPaths,
                  Set<String> seen, Set<String> ids, Map<String, Long> versions, int logEntries) {

        void assertComplete(Set<String> inputs, int broken) {
            assertEquals(inputs.size() - broken, rows, "one features row per image");
            assertEquals(broken, errors, "one error row per broken file");
            assertEquals(rows, distinctIds, "no image twice (image_id)");
            assertEquals(rows, distinctPaths, "no image twice (path)");
            assertEquals(errors, distinctErrorPaths, "no error twice");
            assertEquals(inputs, seen, "every input in one of the two tables");
        }

        @Override
        public String toString() {
            return rows + " rows, " + distinctIds + " distinct image ids, " + distinctPaths + " distinct paths, " + errors
                    + " errors (" + distinctErrorPaths + " distinct) of " + seen.size() + " inputs seen; log " + logEntries
                    + " entries, reader at versions " + versions;
        }
    }

    /** What a reader sees of {@code job}'s tables in {@code out}: one query per table and one read of the log. */
    static Counts counts(ClusterJob job, String out) {
        TableLog log = new TableLog(spark, out);
        List<TableLog.Entry> entries = log.entries();
        Map<String, Long> versions = new HashMap<>(log.current());
        List<Row> f = TableReader.table(spark, out, job.table()).orElseThrow().select(job.key(), "path").collectAsList();
        List<String> errorPaths = TableReader.table(spark, out, job.errors()).orElseThrow()
                .select("path").as(Encoders.STRING()).collectAsList();
        Set<String> ids = new TreeSet<>();
        Set<String> paths = new HashSet<>();
        Set<String> seen = new TreeSet<>();
        for (Row r : f) {
            ids.add(r.getString(0));
            paths.add(r.getString(1));
            seen.add(classAndFile(r.getString(1)));
        }
        errorPaths.forEach(p -> seen.add(classAndFile(p)));
        return new Counts(f.size(), ids.size(), paths.size(), errorPaths.size(), new HashSet<>(errorPaths).size(),
                seen, ids, versions, entries.size());
    }
}
