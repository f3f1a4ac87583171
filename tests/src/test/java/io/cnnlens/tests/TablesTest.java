package io.cnnlens.tests;

import io.cnnlens.jobs.spark.ConcurrentRunException;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableLog;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.spark.TableVacuum;

import io.delta.tables.DeltaTable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Delta tables and their commit log (docs/tables.md): a job's tables become current together,
 * a run that dies mid-commit leaves the previous ones readable, of two concurrent runs one wins and
 * the other fails with a clear message, and export gives the rows the reader reads.
 */
class TablesTest extends SparkTestBase {

    @TempDir
    Path tmp;

    /** Stages table {@code t} (rows 0..n-1 tagged with {@code run}) and {@code t_errors} (one row) in {@code c}. */
    private static void stage(TableCommitter c, String run, int n) {
        spark.range(n).withColumn("run", lit(run)).write().mode(SaveMode.ErrorIfExists).parquet(c.staging("t"));
        spark.range(1).withColumn("run", lit(run)).write().mode(SaveMode.ErrorIfExists).parquet(c.staging("t_errors"));
        c.writeFile("pictures/t", "p.txt", run.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The names in a folder (none when it does not exist). */
    private static List<String> children(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> runs(Dataset<Row> t) {
        return t.select("run").distinct().as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    }

    @Test
    void aJobsTablesCommitTogetherAndARepeatedRunReplacesThem() throws Exception {
        String out = tmp.resolve("out").toString();
        try (TableCommitter a = new TableCommitter(spark, out, "first")) {
            stage(a, "a", 10);
            a.commit(List.of("t", "t_errors", "pictures/t"));
        }
        try (TableCommitter b = new TableCommitter(spark, out, "second")) {
            stage(b, "b", 7);
            b.commit(List.of("t", "t_errors", "pictures/t"));
        }
        Dataset<Row> t = TableReader.table(spark, out, "t").orElseThrow();
        assertEquals(7, t.count());
        assertEquals(List.of("b"), runs(t));
        assertEquals(List.of("b"), runs(TableReader.table(spark, out, "t_errors").orElseThrow()));
        assertEquals("b", Files.readString(tmp.resolve("out/pictures/t/p.txt")));
        List<TableLog.Entry> log = new TableLog(spark, out).entries();
        assertEquals(List.of(1L, 2L), log.stream().map(TableLog.Entry::seq).toList());
        assertEquals(Map.of("t", 1L, "t_errors", 1L), log.get(1).tables());
        assertEquals(List.of(), children(tmp.resolve("out/_staging")), "each run's staging removed on close");
        assertEquals(List.of(), children(tmp.resolve("out/_trash")), "no trash left");
        // the previous version stays readable by time travel until vacuum removes it
        assertEquals(10, spark.read().format("delta").option("versionAsOf", 0).load(out + "/t").count());
    }

    @Test
    void theLogIsReadOnceAVersionAndAgainOnceAnotherRunCommitsOrTheFolderIsMadeAnew() throws Exception {
        String out = tmp.resolve("out").toString();
        committed(out, "first", "a", 10);
        List<TableLog.Entry> first = new TableLog(spark, out).entries();
        assertSame(first, new TableLog(spark, out).entries(), "an unchanged log is not read again");
        assertEquals(10, TableReader.table(spark, out, "t").orElseThrow().count());
        committed(out, "second", "b", 7);
        assertEquals(List.of(1L, 2L), new TableLog(spark, out).entries().stream().map(TableLog.Entry::seq).toList());
        assertEquals(List.of("b"), runs(TableReader.table(spark, out, "t").orElseThrow()));
        // the same folder made again: its log is at version 0 again, with other contents
        org.apache.commons.io.FileUtils.deleteDirectory(tmp.resolve("out").toFile());
        String runC = committed(out, "third", "c", 3);
        List<TableLog.Entry> again = new TableLog(spark, out).entries();
        assertEquals(1, again.size());
        assertEquals(runC, again.get(0).runId());
        assertEquals(List.of("c"), runs(TableReader.table(spark, out, "t").orElseThrow()));
        assertEquals(3, TableReader.table(spark, out, "t").orElseThrow().count());
    }

    /** One run of {@code job} that stages {@code n} rows tagged {@code run} and commits; its run id. */
    private static String committed(String out, String job, String run, int n) {
        try (TableCommitter c = new TableCommitter(spark, out, job)) {
            stage(c, run, n);
            c.commit(List.of("t", "t_errors"));
            return c.runId();
        }
    }

    @Test
    void aRunThatStartedBeforeAnotherCommittedFailsWithoutWritingAnything() {
        String out = tmp.resolve("out").toString();
        try (TableCommitter early = new TableCommitter(spark, out, "features");
             TableCommitter late = new TableCommitter(spark, out, "features")) {
            stage(early, "early", 5);
            stage(late, "late", 6);
            late.commit(List.of("t", "t_errors"));
            ConcurrentRunException e = assertThrows(ConcurrentRunException.class, () -> early.commit(List.of("t", "t_errors")));
            assertTrue(e.getMessage().contains("another cnnlens run committed into " + out), e.getMessage());
            assertTrue(e.getMessage().contains(late.runId()), e.getMessage());
        }
        assertEquals(List.of("late"), runs(TableReader.table(spark, out, "t").orElseThrow()));
        assertEquals(1, DeltaTable.forPath(spark, out + "/t").history().count(), "the loser wrote no version");
    }

    @Test
    void ofTwoRunsCommittingAtOnceExactlyOneWinsAndReadersSeeOnlyItsTables() throws Exception {
        String out = tmp.resolve("out").toString();
        committed(out, "seed", "seed", 3);
        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<String>> results = new ArrayList<>();
        for (String run : List.of("x", "y")) {
            results.add(pool.submit(() -> {
                try (TableCommitter c = new TableCommitter(spark, out, "run-" + run)) {
                    stage(c, run, run.equals("x") ? 11 : 13);
                    together.await();
                    c.commit(List.of("t", "t_errors"));
                    return "won:" + run;
                } catch (ConcurrentRunException e) {
                    return "lost:" + run;
                }
            }));
        }
        List<String> outcome = new ArrayList<>();
        for (Future<String> f : results) {
            outcome.add(f.get(5, TimeUnit.MINUTES));
        }
        pool.shutdown();
        assertEquals(1, outcome.stream().filter(s -> s.startsWith("won:")).count(), outcome.toString());
        String winner = outcome.stream().filter(s -> s.startsWith("won:")).findFirst().orElseThrow().substring(4);
        Dataset<Row> t = TableReader.table(spark, out, "t").orElseThrow();
        assertEquals(List.of(winner), runs(t));
        assertEquals(winner.equals("x") ? 11 : 13, t.count());
        assertEquals(List.of(winner), runs(TableReader.table(spark, out, "t_errors").orElseThrow()));
        assertFalse(Files.exists(tmp.resolve("out/t/t")), "never a table inside a table");
        // the loser put back what it overwrote: each table's latest version holds the winner's rows
        assertEquals(List.of(winner), runs(spark.read().format("delta").load(out + "/t")));
        assertEquals(List.of(winner), runs(spark.read().format("delta").load(out + "/t_errors")));
    }

    @Test
    void aRunClosingWhileAnotherStagesLeavesTheOtherRunsStagingAlone() throws Exception {
        String out = tmp.resolve("out").toString();
        try (TableCommitter open = new TableCommitter(spark, out, "open")) {
            try (TableCommitter failed = new TableCommitter(spark, out, "failed")) {
                stage(failed, "failed", 2);
            }
            // a run that opens now (and clears stale staging) must not touch a live run's folder either
            try (TableCommitter opened = new TableCommitter(spark, out, "opened")) {
                stage(open, "open", 4);
            }
            open.commit(List.of("t", "t_errors", "pictures/t"));
        }
        assertEquals(List.of("open"), runs(TableReader.table(spark, out, "t").orElseThrow()));
        assertEquals("open", Files.readString(tmp.resolve("out/pictures/t/p.txt")));
    }

    /**
     * The race CI once hit: runs opening and closing (each clearing stale staging) while other runs
     * create their staging folders. No run may find its staging folder's parent gone.
     */
    @Test
    void runsOpeningAndClosingWhileOthersStageNeverBreakTheirWrites() throws Exception {
        String out = tmp.resolve("out").toString();
        new TableCommitter(spark, out, "seed").close();
        long until = System.currentTimeMillis() + 4_000;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Integer>> loops = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            loops.add(pool.submit(() -> {
                int n = 0;
                while (System.currentTimeMillis() < until) {
                    try (TableCommitter c = new TableCommitter(spark, out, "stager")) {
                        c.writeFile("pictures/t", "p.txt", new byte[] {1});
                    }
                    n++;
                }
                return n;
            }));
        }
        int rounds = 0;
        for (Future<Integer> f : loops) {
            rounds += f.get(2, TimeUnit.MINUTES);   // rethrows a failed write
        }
        pool.shutdown();
        assertTrue(rounds > 10, "too few rounds to mean anything: " + rounds);
        assertEquals(List.of(), children(tmp.resolve("out/_staging")));
    }

    /**
     * A driver killed between a pictures folder's two renames left the old folder in
     * {@code _trash/<run>} and none in place. The next run puts it back, unless the swap started
     * so recently that it may still be going on.
     */
    @Test
    void aSwapInterruptedLongAgoIsUndoneOnOpenAndARecentOneIsLeftToItsRun() throws Exception {
        String out = tmp.resolve("out").toString();
        try (TableCommitter a = new TableCommitter(spark, out, "first")) {
            stage(a, "a", 3);
            a.commit(List.of("t", "t_errors", "pictures/t"));
        }
        Path pictures = tmp.resolve("out/pictures/t");
        Path aside = tmp.resolve("out/_trash/dead-run/pictures/t");
        Path marker = tmp.resolve("out/_trash/dead-run/_swap_started");
        Files.createDirectories(aside.getParent());
        Files.move(pictures, aside);
        Files.createFile(marker);
        new TableCommitter(spark, out, "soon-after").close();
        assertFalse(Files.exists(pictures), "a swap started a moment ago may be live: left alone");
        assertTrue(Files.exists(aside));

        Files.setLastModifiedTime(marker, java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - TableCommitter.LIVE_SWAP_GRACE_MS - 60_000));
        new TableCommitter(spark, out, "much-later").close();
        assertEquals("a", Files.readString(pictures.resolve("p.txt")), "the old pictures are back in place");
        assertEquals(List.of(), children(tmp.resolve("out/_trash")));
    }

    @Test
    void exportWritesTheCommittedVersionAsPlainParquet() throws Exception {
        String out = tmp.resolve("out").toString();
        try (TableCommitter c = new TableCommitter(spark, out, "features")) {
            stage(c, "a", 9);
            c.commit(List.of("t", "t_errors"));
        }
        // a later write that no run committed (as a driver killed between its table commits leaves)
        spark.range(100).withColumn("run", lit("dead")).write().format("delta").mode(SaveMode.Overwrite).save(out + "/t");
        assertEquals(9, TableReader.table(spark, out, "t").orElseThrow().count(), "readers keep the committed version");
        String to = tmp.resolve("export").toString();
        CommandLineRun r = CommandLineRun.of("export", out + "/t", "--to", to, "--master", "local[2]");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("export: 9 rows of " + out + "/t (Delta version 0)"), r.out());
        Dataset<Row> exported = spark.read().parquet(to);
        assertEquals(0, exported.exceptAll(TableReader.table(spark, out, "t").orElseThrow()).count());
        assertEquals(9, exported.count());
        assertFalse(Files.exists(Path.of(to, "_delta_log")), "plain Parquet");
        // DuckDB reads the export and gets the rows Spark reads from the Delta table
        List<String> duck = duckDb("SELECT id, run FROM read_parquet('" + to + "/*.parquet') ORDER BY id");
        List<String> sparkRows = TableReader.table(spark, out, "t").orElseThrow().orderBy("id").collectAsList().stream()
                .map(row -> "{\"id\":\"" + row.getLong(0) + "\",\"run\":\"" + row.getString(1) + "\"}").toList();
        assertEquals(sparkRows, duck);
        CommandLineRun again = CommandLineRun.of("export", out + "/t", "--to", to, "--master", "local[2]");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("exists"), again.err());
        // vacuum leaves a table whose latest version no run committed alone
        List<String> lines = TableVacuum.vacuumFolder(spark, out, 0);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("t: skipped, its latest version 1 is not the committed 0")), lines.toString());
        assertEquals(9, TableReader.table(spark, out, "t").orElseThrow().count());
    }

    /**
     * A version older than the retention, once vacuumed, still loads from the log but cannot be
     * scanned: {@link TableReader#missingFiles} says so before a scan fails (the audit's diff with
     * a previous audit's snapshot depends on it), and finds nothing missing in what is kept.
     */
    @Test
    void aVacuumedVersionIsReportedAsMissingFilesBeforeAScanFails() {
        String t = tmp.resolve("v").toString();
        spark.range(50).repartition(2).write().format("delta").save(t);
        spark.range(50, 80).repartition(2).write().format("delta").mode(SaveMode.Overwrite).save(t);
        java.util.function.LongFunction<Dataset<Row>> at = v -> TableReader.load(spark,
                new TableReader.Located(t, true, java.util.Optional.of(v)));
        assertEquals(0, TableReader.missingFiles(spark, at.apply(0)), "before the vacuum both versions are whole");
        TableVacuum.vacuum(spark, t, 0);
        long gone = TableReader.missingFiles(spark, at.apply(0));
        assertEquals(at.apply(0).inputFiles().length, gone, "every file of the overwritten version is gone");
        assertTrue(gone >= 1);
        assertThrows(Exception.class, () -> at.apply(0).where("id >= 0").collectAsList(), "a scan of the vacuumed version fails");
        assertEquals(0, TableReader.missingFiles(spark, at.apply(1)));
        assertEquals(30, at.apply(1).count());
        assertTrue(TableReader.unreadable(spark, t, 0).orElseThrow().contains("vacuumed: " + gone + " of its data files are gone"));
        assertEquals(java.util.Optional.empty(), TableReader.unreadable(spark, t, 1));
        assertTrue(TableReader.unreadable(spark, t, 7).orElseThrow().contains("cannot be loaded"), "a version the log never had");
    }

    /**
     * The real thing: a {@code features} driver halted (as {@code kill -9} would, through the
     * commit hook {@link TableCommitter#HALT_AT}) after its features table's commit and before
     * the log row; readers still read the first run's tables, and the next run commits cleanly.
     */
    @Test
    void aDriverKilledMidCommitLeavesThePreviousTablesAndTheNextRunFinishes() throws Exception {
        Path images = tmp.resolve("images");
        copySample(images, 40);
        String out = tmp.resolve("out").toString();
        CommandLineRun first = CommandLineRun.of("features", "--images", images.toString(), "--out", out, "--master", "local[2]");
        assertEquals(0, first.code(), first.err());
        Dataset<Row> before = TableReader.read(spark, out);
        long n = before.count();
        List<Row> ids = before.select("image_id").orderBy("image_id").collectAsList();

        Process killed = childFeatures(images, out, "after-table:features", tmp.resolve("child.err"));
        assertTrue(killed.waitFor(5, TimeUnit.MINUTES));
        String err = Files.readString(tmp.resolve("child.err"));
        assertEquals(137, killed.exitValue(), err);
        assertTrue(err.contains("halting at commit point after-table:features"), err);
        assertEquals(1, DeltaTable.forPath(spark, out + "/features").history(1).select("version").first().getLong(0),
                "the killed run did commit its features table");
        Dataset<Row> seen = TableReader.read(spark, out);
        assertEquals(n, seen.count());
        assertEquals(n, seen.select("image_id").distinct().count());
        assertEquals(Map.of("features", 0L, "errors", 0L), new TableLog(spark, out).current(), "the log still names the first run's versions");

        CommandLineRun next = CommandLineRun.of("features", "--images", images.toString(), "--out", out, "--master", "local[2]");
        assertEquals(0, next.code(), next.err());
        Dataset<Row> after = TableReader.read(spark, out);
        assertEquals(ids, after.select("image_id").orderBy("image_id").collectAsList());
        assertEquals(Map.of("features", 2L, "errors", 1L), new TableLog(spark, out).current(), "the killed run never wrote errors");
        // what the killed driver left (its version's files, any staging folder) goes with vacuum's retention
        try (Stream<Path> files = Files.list(tmp.resolve("out/features"))) {
            assertTrue(files.filter(p -> p.toString().endsWith(".parquet")).count() > after.inputFiles().length,
                    "the killed run's files are still there before vacuum");
        }
        TableVacuum.vacuumFolder(spark, out, 0);
        assertEquals(List.of(), children(tmp.resolve("out/_staging")));
        try (Stream<Path> files = Files.list(tmp.resolve("out/features"))) {
            assertEquals(after.inputFiles().length, files.filter(p -> p.toString().endsWith(".parquet")).count(),
                    "vacuum kept only the current version's files");
        }
        assertEquals(n, TableReader.read(spark, out).count());
    }

    /**
     * The rows of {@code sql} as DuckDB (its Node API, tests/duckdb) returns them, one JSON object a
     * row; installs the pinned package with npm on first use.
     */
    static List<String> duckDb(String sql) throws Exception {
        Path dir = home().resolve("tests/duckdb");
        if (!Files.isDirectory(dir.resolve("node_modules/@duckdb/node-api"))) {
            Process npm = new ProcessBuilder("npm", "ci", "--silent", "--no-audit", "--no-fund").directory(dir.toFile())
                    .redirectErrorStream(true).start();
            String log = new String(npm.getInputStream().readAllBytes());
            assertEquals(0, npm.waitFor(), "npm ci in tests/duckdb (needs node and npm): " + log);
        }
        Process node = new ProcessBuilder("node", dir.resolve("query.mjs").toString(), sql).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String rows = new String(node.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, node.waitFor(), "duckdb query failed: " + sql);
        return rows.lines().toList();
    }

    /** {@code cnnlens features} in a JVM of its own, halting at {@code haltAt}. */
    private static Process childFeatures(Path images, String out, String haltAt, Path err) throws java.io.IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-D" + TableCommitter.HALT_AT + "=" + haltAt);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.cnnlens.jobs.cli.Cli");
        cmd.addAll(List.of("features", "--images", images.toString(), "--out", out, "--master", "local[2]"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        return pb.start();
    }
}
