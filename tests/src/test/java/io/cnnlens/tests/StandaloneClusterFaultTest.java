package io.cnnlens.tests;

import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableLog;
import io.cnnlens.jobs.spark.TableReader;

import io.delta.tables.DeltaTable;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * The features job on a real Spark standalone cluster (a master and two one-core workers on
 * loopback, {@link StandaloneCluster}) under faults: an executor killed with SIGKILL while tasks
 * run, then a driver killed in the middle of its commit (after the features table's Delta commit,
 * before the commit log's row). After each, the tables a reader sees hold exactly one row per
 * input, no duplicates, at the version the commit log names.
 */
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
    void anExecutorKilledMidJobAndADriverKilledMidCommitLeaveCompleteDuplicateFreeTables() throws Exception {
        Path jar = StandaloneCluster.jobJar();
        String out = tmp.resolve("out").toString();

        // 1. an executor killed (SIGKILL) while the features tasks run: the job still succeeds
        Set<Path> staged = stagingRuns(out);
        StandaloneCluster.Submission first = cluster.submit("features-1", jar, List.of(), Map.of(), features(out));
        long doneAtKill = awaitTasks(out, staged, 2, first);
        say("run 1: 2 tasks committed");
        Optional<Integer> killedOn = cluster.killExecutor();
        assertTrue(killedOn.isPresent(), "an executor was running when 2 tasks had committed");
        assertTrue(doneAtKill < PARTITIONS, "killed mid-job: " + doneAtKill + " of " + PARTITIONS + " tasks committed");
        assertEquals(0, first.await(5), StandaloneCluster.tail(first.log()));
        say("run 1 finished");
        String log1 = first.text();
        assertTrue(log1.contains("ExecutorLostFailure"), "a running task was lost with the executor and redone; " + log1);
        Counts c1 = counts(out);
        say("executor killed on worker " + killedOn.get() + " after " + doneAtKill + " of " + PARTITIONS + " tasks: " + c1);
        c1.assertComplete(inputs, BROKEN);
        assertEquals(1, c1.logEntries());
        assertEquals(Map.of("features", 0L, "errors", 0L), c1.versions());

        // 2. the driver killed mid-commit: after its features table's Delta commit, before the log row
        StandaloneCluster.Submission halted = cluster.submit("features-2", jar,
                List.of("-D" + TableCommitter.HALT_AT + "=after-table:features"), Map.of(), features(out));
        assertEquals(137, halted.await(5), StandaloneCluster.tail(halted.log()));
        say("run 2 halted");
        assertTrue(halted.text().contains("halting at commit point after-table:features"), StandaloneCluster.tail(halted.log()));
        assertEquals(1L, latestVersion(out, "features"), "the killed driver did commit its features table");
        Counts c2 = counts(out);
        say("driver halted after-table:features: " + c2 + "; features table's latest Delta version "
                + latestVersion(out, "features"));
        c2.assertComplete(inputs, BROKEN);
        assertEquals(c1.versions(), c2.versions(), "readers still read the versions the first run logged");
        assertEquals(1, c2.logEntries(), "the killed run logged nothing");
        assertEquals(c1.ids(), c2.ids());

        // 3. the re-run, no fault: complete, duplicate-free, and the log advanced to its versions
        StandaloneCluster.Submission rerun = cluster.submit("features-3", jar, List.of(), Map.of(), features(out));
        assertEquals(0, rerun.await(5), StandaloneCluster.tail(rerun.log()));
        say("run 3 finished");
        Counts c3 = counts(out);
        say("re-run: " + c3);
        c3.assertComplete(inputs, BROKEN);
        assertEquals(2, c3.logEntries());
        assertEquals(Map.of("features", latestVersion(out, "features"), "errors", latestVersion(out, "errors")), c3.versions(),
                "the log names each table's newest version");
        assertEquals(2L, c3.versions().get("features"), "past the killed run's uncommitted version 1");
        assertEquals(c1.ids(), c3.ids());
    }

    static void say(String what) {
        System.out.printf(java.util.Locale.ROOT, "cluster fault test, %5.1f s: %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    static List<String> features(String out) {
        return List.of("features", "--images", images.toString(), "--out", out, "--partitions", String.valueOf(PARTITIONS));
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
     * The data files of the features table now: the features job writes straight into its Delta
     * table, one part file per task, created as the task writes its first rows.
     */
    static Set<Path> stagingRuns(String out) throws IOException {
        Path t = Path.of(out, "features");
        if (!Files.isDirectory(t)) {
            return Set.of();
        }
        try (Stream<Path> l = Files.list(t)) {
            return l.filter(p -> p.getFileName().toString().startsWith("part-")).collect(Collectors.toSet());
        }
    }

    /**
     * Waits until {@code tasks} tasks of the submitted run's features write are writing or done
     * (part files not in {@code before}); returns how many were when it returned.
     */
    static long awaitTasks(String out, Set<Path> before, int tasks, StandaloneCluster.Submission run) throws Exception {
        long[] done = {0};
        StandaloneCluster.await(240, tasks + " features tasks writing", () -> {
            if (!run.process().isAlive()) {
                throw new AssertionError("driver exited before " + tasks + " tasks wrote; " + StandaloneCluster.tail(run.log()));
            }
            try {
                done[0] = stagingRuns(out).stream().filter(p -> !before.contains(p)).count();
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

    /** What a reader sees in {@code out}: one query per table and one read of the log. */
    static Counts counts(String out) {
        TableLog log = new TableLog(spark, out);
        List<TableLog.Entry> entries = log.entries();
        Map<String, Long> versions = new HashMap<>(log.current());
        List<Row> f = TableReader.read(spark, out).select("image_id", "path").collectAsList();
        List<String> errorPaths = TableReader.table(spark, out, "errors").orElseThrow()
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
