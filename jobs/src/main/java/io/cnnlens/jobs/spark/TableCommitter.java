package io.cnnlens.jobs.spark;

import io.delta.tables.DeltaTable;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.apache.spark.sql.functions.col;

/**
 * Commits a job's tables into its output folder as Delta Lake tables, all of them or none
 * (docs/tables.md). A job writes each table as Parquet under {@code <out>/_staging/<run>/<table>}
 * and its pictures as files beside them; {@link #commit} then
 * <ol>
 *   <li>checks that no other run committed into the folder since this one opened it (else fails
 *       before writing anything);</li>
 *   <li>overwrites each Delta table {@code <out>/<table>} with its staged rows (one Delta commit
 *       per table, tagged with this run's id);</li>
 *   <li>appends one row naming those versions to the folder's {@link TableLog}: this is the
 *       commit point. Readers ({@link TableReader}) read the versions the log names, so a driver
 *       that dies before it leaves the previous tables current, and one that dies after it has
 *       committed. Of two runs racing for the same log row one wins; the loser restores the
 *       tables it overwrote and fails with {@link ConcurrentRunException};</li>
 *   <li>swaps the picture folders in (renames through {@code <out>/_trash/<run>}; a swap a crash
 *       interrupted is completed by the next run that opens the folder).</li>
 * </ol>
 * Staging folders are removed when the run closes, and ones left by a killed driver after
 * {@link TableVacuum#retainHours} by the next run.
 */
public final class TableCommitter implements AutoCloseable {

    /**
     * System property naming a point of {@link #commit} where the JVM halts at once, as a killed
     * driver would: {@code after-table:<name>}, {@code before-log} or {@code after-log}. For the
     * fault-injection tests only.
     */
    public static final String HALT_AT = "cnnlens.commit.haltAt";
    /** Written into {@code _trash/<run>} when a pictures swap starts; its age tells a live swap from a dead one. */
    static final String SWAP_STARTED = "_swap_started";
    /** How long a swap may take (on S3 each rename copies every file) before another run completes it. */
    public static final long LIVE_SWAP_GRACE_MS = 15 * 60_000L;
    /** Staged tables written into their Delta tables at once by {@link #commit}. */
    static final int PARALLEL_WRITES = 4;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TableCommitter.class);

    private final SparkSession spark;
    private final Path out;
    private final FileSystem fs;
    private final String job;
    private final String run = UUID.randomUUID().toString();
    private final TableLog log;
    private final long openedAt;
    /** The log table's Delta version when this run opened the folder (-1: no log yet). */
    private final long logVersionAtOpen;
    /** Tables this run wrote straight into their Delta table ({@link #write}), with their versions. */
    private final Map<String, Long> written = new LinkedHashMap<>();
    private final Map<String, Long> committedAtOpen;
    private boolean committed;

    public TableCommitter(SparkSession spark, String out, String job) {
        this.spark = spark;
        this.job = job;
        try {
            this.out = new Path(out);
            this.fs = this.out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            this.fs.mkdirs(this.out);
            this.log = new TableLog(spark, out);
            // the version first: a run committing between the two reads makes it look stale, never current
            this.logVersionAtOpen = log.deltaVersion();
            List<TableLog.Entry> entries = log.entries();
            this.openedAt = entries.isEmpty() ? 0L : entries.get(entries.size() - 1).seq();
            this.committedAtOpen = TableLog.current(entries);
            completeInterruptedSwaps();
            TableVacuum.removeStaleStaging(fs, this.out, TableVacuum.retainHours(spark));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open output folder " + out + ": " + e.getMessage(), e);
        }
    }

    /** Where to write {@code table} (Parquet) or its files before the commit. */
    public String staging(String table) {
        return new Path(stagingRoot(), table).toString();
    }

    public String finalPath(String table) {
        return new Path(out, table).toString();
    }

    /**
     * The rows this run has for {@code table} before its commit: the version it {@link #write wrote},
     * or else the Parquet it staged.
     */
    public Dataset<Row> uncommitted(String table) {
        Long version = written.get(table);
        return version != null ? TableReader.load(spark, new TableReader.Located(finalPath(table), true, Optional.of(version)))
                : spark.read().parquet(staging(table));
    }

    /**
     * Writes {@code rows} now as the next version of the Delta table {@code table}, for a job whose
     * pass streams a large table (features): no staged copy to rewrite at commit. The version
     * becomes current only when {@link #commit} names the table; a run that does not commit puts
     * the table back to its committed version when it closes.
     */
    public void write(String table, Dataset<Row> rows, Map<String, String> options) {
        update(table, "written", () -> writeDelta(table, rows, options));
    }

    /**
     * Runs {@code write}, which makes the next version of {@code table} and returns it, as this
     * run's uncommitted version of the table: logged, the halt point after it, and a conflict with
     * another run turned into {@link ConcurrentRunException} after this run's versions are put back.
     */
    private void update(String table, String verb, java.util.function.LongSupplier write) {
        checkNoCommitSinceOpen();
        try {
            long t0 = System.nanoTime();
            written.put(table, write.getAsLong());
            LOG.info("{}: {} {} as Delta version {} in {} s", job, table, verb, written.get(table), seconds(t0));
            haltIf("after-table:" + table);
        } catch (RuntimeException e) {
            if (!TableLog.isConflict(e)) {
                throw e;
            }
            throw lostWhileWriting();
        }
    }

    /**
     * Makes the Delta table {@code table} equal to {@code rows} by one Delta MERGE on {@code key}
     * instead of an overwrite: rows whose key is new are inserted, rows whose key matches but whose
     * {@code changed} columns differ are updated, rows of the table whose key is not in {@code rows}
     * are deleted; unchanged rows and their files stay. For an incremental run (features over a
     * grown collection, docs/tables.md#incremental-features). {@code rows} must be materialised (a
     * MERGE reads its source more than once). Where the table does not exist yet this is
     * {@link #write}. Becomes current only when {@link #commit} names the table, like {@link #write}.
     */
    public void merge(String table, Dataset<Row> rows, String key, List<String> changed) {
        String target = finalPath(table);
        if (!committedAtOpen.containsKey(table) || !DeltaTable.isDeltaTable(spark, target)) {
            write(table, rows, Map.of());
            return;
        }
        update(table, "merged", () -> {
            spark.conf().set("spark.databricks.delta.commitInfo.userMetadata", run);
            try {
                StringBuilder differs = new StringBuilder();
                for (String c : changed) {
                    differs.append(differs.length() == 0 ? "" : " OR ").append("NOT (t.`").append(c).append("` <=> s.`").append(c).append("`)");
                }
                fromCommittedVersion(table, target);
                DeltaTable.forPath(spark, target).as("t").merge(rows.as("s"), "t.`" + key + "` = s.`" + key + "`")
                        .whenMatched(differs.toString()).updateAll()
                        .whenNotMatched().insertAll()
                        .whenNotMatchedBySource().delete()
                        .execute();
                return versionOf(target);
            } finally {
                spark.conf().unset("spark.databricks.delta.commitInfo.userMetadata");
            }
        });
    }

    /**
     * Appends {@code rows} to the Delta table {@code table} as its next version, for an
     * incremental run whose only change is new rows (docs/tables.md#incremental-features): the
     * table's own rows are neither read nor rewritten. A version of this run's own even for no
     * rows. Where the table does not exist yet this is {@link #write}. Becomes current only when
     * {@link #commit} names the table, like {@link #write}.
     */
    public void append(String table, Dataset<Row> rows, Map<String, String> options) {
        String target = finalPath(table);
        if (!committedAtOpen.containsKey(table) || !DeltaTable.isDeltaTable(spark, target)) {
            write(table, rows, options);
            return;
        }
        update(table, "appended", () -> {
            fromCommittedVersion(table, target);
            spark.conf().set("spark.databricks.delta.skipRecordingEmptyCommits", "false");
            rows.write().format("delta").mode(SaveMode.Append).options(options).option("userMetadata", run).save(target);
            return versionOf(target);
        });
    }

    /** A dead run's uncommitted version must not survive an update: the table goes back to its committed version first. */
    private void fromCommittedVersion(String table, String target) {
        DeltaTable t = DeltaTable.forPath(spark, target);
        if (t.history(1).select("version").first().getLong(0) != committedAtOpen.get(table)) {
            t.restoreToVersion(committedAtOpen.get(table));
        }
    }

    /** The versions of the committed tables when this run opened the folder. */
    public Map<String, Long> committedAtOpen() {
        return committedAtOpen;
    }

    /** After a conflict while writing a table: puts back what this run wrote, and names the run that won. */
    private ConcurrentRunException lostWhileWriting() {
        ConcurrentRunException lost = lostRace(written, log.latest().filter(l -> l.seq() != openedAt).orElse(null));
        written.clear();
        return lost;
    }

    /** This run's id, as the commit log and the tables' Delta history record it. */
    public String runId() {
        return run;
    }

    /**
     * Makes {@code tables} current together: each staged Parquet table (a folder Spark wrote, with
     * its {@code _SUCCESS} marker) becomes a new version of the Delta table of that name, each
     * other staged folder (pictures) replaces the folder of that name.
     */
    public void commit(List<String> tables) {
        List<String> delta = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        try {
            for (String table : tables) {
                if (written.containsKey(table)) {
                    continue;
                }
                Path staged = new Path(staging(table));
                if (!fs.exists(staged)) {
                    throw new IOException("table " + table + " was not written");
                }
                (fs.exists(new Path(staged, "_SUCCESS")) ? delta : folders).add(table);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("commit of " + tables + " into " + out + " failed: " + e.getMessage(), e);
        }
        checkNoCommitSinceOpen();
        Map<String, Long> versions = new LinkedHashMap<>();
        for (String table : tables) {
            if (written.containsKey(table)) {
                versions.put(table, written.get(table));
            }
        }
        // several tables at once: a small table's write is mostly the driver's Delta commit, not the executors' work
        Map<String, Long> done = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.function.Consumer<String> writeOne = table -> {
            long t0 = System.nanoTime();
            done.put(table, writeDelta(table));
            LOG.info("{}: {} written as Delta version {} in {} s", job, table, done.get(table), seconds(t0));
            haltIf("after-table:" + table);
        };
        try {
            // a table another run wrote at the same moment is written again, one at a time, below: two
            // runs each losing a different table to the other must not both give up; the log row decides
            List<String> conflicted = java.util.Collections.synchronizedList(new ArrayList<>());
            inParallel(delta, table -> {
                try {
                    writeOne.accept(table);
                } catch (RuntimeException e) {
                    if (!TableLog.isConflict(e)) {
                        throw e;
                    }
                    conflicted.add(table);
                }
            });
            delta.stream().filter(conflicted::contains).forEach(table -> {
                checkNoCommitSinceOpen();
                writeOne.accept(table);
            });
        } catch (ConcurrentRunException e) {
            delta.stream().filter(done::containsKey).forEach(t -> versions.put(t, done.get(t)));
            throw lostRace(versions, log.latest().filter(l -> l.seq() != openedAt).orElse(null));
        } catch (RuntimeException e) {
            delta.stream().filter(done::containsKey).forEach(t -> versions.put(t, done.get(t)));
            if (!TableLog.isConflict(e)) {
                throw e;
            }
            // another run is writing the same table right now: it will commit, this one does not
            throw lostRace(versions, log.latest().filter(l -> l.seq() != openedAt).orElse(null));
        }
        delta.forEach(t -> versions.put(t, done.get(t)));
        haltIf("before-log");
        TableLog.Entry entry = new TableLog.Entry(openedAt + 1, run, job, new Timestamp(System.currentTimeMillis()), versions);
        if (!log.append(entry)) {
            throw lostRace(versions, log.at(openedAt + 1).orElse(null));
        }
        committed = true;
        haltIf("after-log");
        LOG.info("{}: committed as {} row {} of {}", job, TableLog.NAME, entry.seq(), out);
        swapFolders(folders);
        long t0 = System.nanoTime();
        for (String table : delta) {
            if (TableVacuum.vacuumIfDue(spark, finalPath(table))) {
                LOG.info("{}: {} vacuumed in {} s", job, table, seconds(t0));
            }
        }
    }

    /**
     * Runs {@code write} for every table, {@link #PARALLEL_WRITES} at a time, and returns when all
     * have ended; the first failure is rethrown (a conflict before any other), after the rest ended.
     */
    private void inParallel(List<String> tables, java.util.function.Consumer<String> write) {
        if (tables.size() <= 1) {
            tables.forEach(write);
            return;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.min(PARALLEL_WRITES, tables.size()), r -> {
                    Thread t = new Thread(r, "cnnlens-commit-" + job);
                    t.setDaemon(true);
                    return t;
                });
        try {
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (String table : tables) {
                futures.add(pool.submit(() -> {
                    SparkSession.setActiveSession(spark);
                    write.accept(table);
                }));
            }
            RuntimeException first = null;
            for (java.util.concurrent.Future<?> f : futures) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    RuntimeException r = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                    first = first == null || (!TableLog.isConflict(first) && TableLog.isConflict(r)) ? r : first;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while committing " + tables, e);
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Removes this run's staging folder (after a commit, or after a failure). */
    @Override
    public void close() {
        if (!committed && !written.isEmpty()) {
            // a run that wrote a table and then failed: its version must not be the table's latest
            try {
                restore(written, committedAtOpen);
            } catch (RuntimeException e) {
                LOG.warn("{}: could not put {} back to its committed version ({}); readers are not affected, "
                        + "the next run replaces it", job, written.keySet(), e.getMessage());
            }
        }
        try {
            // only this run's folder: the shared _staging stays, since deleting it while another
            // run creates its own folder inside would fail that run's write
            fs.delete(stagingRoot(), true);
        } catch (IOException e) {
            // a leftover staging folder does not affect committed tables; the next run removes it
        }
    }

    /** Writes one file (e.g. a PNG picture) under the staging folder of {@code table}. */
    public void writeFile(String table, String name, byte[] bytes) {
        Path p = new Path(staging(table), name);
        // pictures are for people: no Hadoop .crc side files next to them on a local disk
        FileSystem target = fs instanceof org.apache.hadoop.fs.LocalFileSystem local ? local.getRaw() : fs;
        try (org.apache.hadoop.fs.FSDataOutputStream o = target.create(p, true)) {
            o.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    private Path stagingRoot() {
        return new Path(new Path(out, "_staging"), run);
    }

    private void checkNoCommitSinceOpen() {
        if (log.deltaVersion() == logVersionAtOpen) {
            return;   // the log table has no commit since open (one listing of its _delta_log)
        }
        TableLog.Entry latest = log.latest().orElse(null);
        if (latest != null && latest.seq() != openedAt) {
            throw new ConcurrentRunException(out.toString(), job, latest);
        }
    }

    /** Overwrites the Delta table {@code table} with the staged rows; returns the version written. */
    private long writeDelta(String table) {
        return writeDelta(table, spark.read().parquet(staging(table)), Map.of());
    }

    private long writeDelta(String table, Dataset<Row> rows, Map<String, String> options) {
        String target = finalPath(table);
        // Delta skips a commit that changes nothing (an empty table overwritten by an empty one);
        // every run's tables must have a version of their own for the log to name
        spark.conf().set("spark.databricks.delta.skipRecordingEmptyCommits", "false");
        rows.write().format("delta").mode(SaveMode.Overwrite).options(options)
                .option("overwriteSchema", "true")
                .option("userMetadata", run)
                .save(target);
        return versionOf(target);
    }

    /** The newest version of {@code target} this run wrote, from the table's history. */
    private long versionOf(String target) {
        List<Row> mine = DeltaTable.forPath(spark, target).history(20)
                .where(col("userMetadata").equalTo(run)).select("version").collectAsList();
        if (mine.isEmpty()) {
            throw new IllegalStateException("the commit of " + target + " by run " + run + " is not in its history");
        }
        return mine.get(0).getLong(0);
    }

    /**
     * After a lost race: each table this run overwrote goes back to the version the log names
     * (unless another run wrote it since), so the table's own latest version is the committed one.
     */
    /** Puts back what this run wrote (no commit since open: the committed versions are those seen at open). */
    private ConcurrentRunException lostRace(Map<String, Long> wrote, TableLog.Entry winner) {
        restore(wrote, committedAtOpen);
        return new ConcurrentRunException(out.toString(), job, winner);
    }

    private void restore(Map<String, Long> written, Map<String, Long> previous) {
        Map<String, Long> current = log.current();
        for (Map.Entry<String, Long> w : written.entrySet()) {
            Long logged = current.getOrDefault(w.getKey(), previous.get(w.getKey()));
            DeltaTable t = DeltaTable.forPath(spark, finalPath(w.getKey()));
            long latest = t.history(1).select("version").first().getLong(0);
            if (logged != null && latest == w.getValue()) {
                try {
                    t.restoreToVersion(logged);
                } catch (RuntimeException e) {
                    if (!TableLog.isConflict(e)) {
                        throw e;
                    }
                    // the other run wrote the table meanwhile: its version replaces this run's anyway
                }
            }
        }
    }

    private void swapFolders(List<String> folders) {
        try {
            Path trash = new Path(new Path(out, "_trash"), run);
            fs.create(new Path(trash, SWAP_STARTED), true).close();
            for (String folder : folders) {
                Path target = new Path(out, folder);
                if (fs.exists(target)) {
                    Path aside = new Path(trash, folder);
                    fs.mkdirs(aside.getParent());
                    if (!fs.rename(target, aside)) {
                        throw new IOException("cannot move old " + target + " aside");
                    }
                }
                fs.mkdirs(target.getParent());
                if (!fs.rename(new Path(staging(folder)), target)) {
                    throw new IOException("cannot move new " + folder + " into " + target);
                }
            }
            fs.delete(trash, true);
        } catch (IOException e) {
            throw new UncheckedIOException("swap of " + folders + " into " + out + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * A driver that died between a folder's two renames left the old folder in {@code _trash/<run>}
     * and none in place: put it back (the tables it belongs to are the committed ones), then drop the trash.
     * A trash folder whose {@link #SWAP_STARTED} marker is younger than {@link #LIVE_SWAP_GRACE_MS}
     * may be a live run's swap in progress and is left for a later open (a marker file, since S3A
     * gives a folder the time it was listed).
     */
    private void completeInterruptedSwaps() throws IOException {
        Path trashRoot = new Path(out, "_trash");
        if (!fs.exists(trashRoot)) {
            return;
        }
        long cutoff = System.currentTimeMillis() - LIVE_SWAP_GRACE_MS;
        for (FileStatus runTrash : fs.listStatus(trashRoot)) {
            Path marker = new Path(runTrash.getPath(), SWAP_STARTED);
            if (fs.exists(marker) && fs.getFileStatus(marker).getModificationTime() > cutoff) {
                continue;
            }
            fs.delete(marker, false);
            restoreMissing(runTrash.getPath(), out);
            fs.delete(runTrash.getPath(), true);
        }
    }

    private void restoreMissing(Path asideDir, Path targetDir) throws IOException {
        for (FileStatus aside : fs.listStatus(asideDir)) {
            Path target = new Path(targetDir, aside.getPath().getName());
            if (!fs.exists(target)) {
                fs.mkdirs(targetDir);
                fs.rename(aside.getPath(), target);
            } else if (aside.isDirectory() && fs.getFileStatus(target).isDirectory()
                    && !fs.exists(new Path(aside.getPath(), "_SUCCESS"))) {
                restoreMissing(aside.getPath(), target);
            }
        }
    }

    private static String seconds(long t0) {
        return String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9);
    }

    private static void haltIf(String point) {
        if (point.equals(System.getProperty(HALT_AT))) {
            System.err.println("cnnlens: halting at commit point " + point + " (" + HALT_AT + ")");
            System.err.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
