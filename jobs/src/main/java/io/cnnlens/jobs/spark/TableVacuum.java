package io.cnnlens.jobs.spark;

import io.delta.tables.DeltaTable;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * Removes what old table versions and dead runs leave behind, with Delta's own {@code VACUUM}:
 * data files no version younger than the retention period needs (docs/tables.md). Delta removes
 * old log entries itself at checkpoints ({@code delta.logRetentionDuration}, 30 days by default).
 */
public final class TableVacuum {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TableVacuum.class);

    /** Spark setting: hours of old versions kept readable (time travel) before vacuum may remove their files. */
    public static final String RETAIN_HOURS = "spark.cnnlens.tables.retainHours";
    /** Delta's own default: 7 days. */
    public static final double RETAIN_HOURS_DEFAULT = 168;
    /** A commit vacuums a table at most this often (a vacuum lists the whole table). */
    public static final double INTERVAL_HOURS = 24;

    private TableVacuum() {
    }

    public static double retainHours(SparkSession spark) {
        return Double.parseDouble(spark.conf().get(RETAIN_HOURS, Double.toString(RETAIN_HOURS_DEFAULT)));
    }

    /**
     * Vacuums the table at {@code path} when it may have something to remove and was not vacuumed
     * in the last {@link #INTERVAL_HOURS}: its oldest commit is older than the retention period.
     * Returns whether it ran.
     */
    public static boolean vacuumIfDue(SparkSession spark, String path) {
        double retain = retainHours(spark);
        long now = System.currentTimeMillis();
        Path table = new Path(path);
        DeltaLogFiles files;
        try {
            files = DeltaLogFiles.of(table.getFileSystem(spark.sparkContext().hadoopConfiguration()), table);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
        if (files.latestVersion() < 0 || now - files.oldestCommitMillis() < retain * 3_600_000L) {
            return false;   // no commit file older than the retention: nothing to vacuum (no history read)
        }
        List<Row> history = DeltaTable.forPath(spark, path).history().select("timestamp", "operation").collectAsList();
        Timestamp oldest = history.stream().map(r -> r.getTimestamp(0)).min(Timestamp::compareTo).orElse(null);
        boolean recent = history.stream().anyMatch(r -> r.getString(1).startsWith("VACUUM")
                && now - r.getTimestamp(0).getTime() < INTERVAL_HOURS * 3_600_000L);
        if (oldest == null || now - oldest.getTime() < retain * 3_600_000L || recent) {
            return false;
        }
        vacuum(spark, path, retain);
        return true;
    }

    /** Vacuums now, keeping {@code retainHours} of old versions; returns the number of files the table keeps. */
    public static long vacuum(SparkSession spark, String path, double retainHours) {
        if (retainHours < RETAIN_HOURS_DEFAULT) {
            // Delta refuses a shorter retention unless told it is meant (a reader of an old version could lose its files)
            spark.conf().set("spark.databricks.delta.retentionDurationCheck.enabled", "false");
        }
        // VACUUM lists the table with this many tasks (Spark's default, 10,000, is sized for huge
        // tables and costs minutes on a small one); a few per core is enough for cnnlens tables
        String key = "spark.sql.sources.parallelPartitionDiscovery.parallelism";
        String old = spark.conf().get(key, null);
        spark.conf().set(key, Integer.toString(Math.max(2, 2 * spark.sparkContext().defaultParallelism())));
        try {
            DeltaTable t = DeltaTable.forPath(spark, path);
            t.vacuum(retainHours);
            return t.detail().select(col("numFiles")).first().getLong(0);
        } finally {
            if (old == null) {
                spark.conf().unset(key);
            } else {
                spark.conf().set(key, old);
            }
        }
    }

    /**
     * Vacuums every committed table of the output folder {@code out} and its log, and removes
     * staging folders older than {@code retainHours}; returns one line per table. A table whose
     * latest version is not the committed one (a run died between its table commits and its log
     * row) is left alone: its committed version's files must stay, and that job's next run replaces it.
     */
    public static List<String> vacuumFolder(SparkSession spark, String out, double retainHours) {
        List<String> lines = new ArrayList<>();
        TableLog log = new TableLog(spark, out);
        for (Map.Entry<String, Long> t : log.current().entrySet()) {
            String path = new Path(out, t.getKey()).toString();
            long latest = DeltaTable.forPath(spark, path).history(1).select("version").first().getLong(0);
            if (latest != t.getValue()) {
                lines.add(t.getKey() + ": skipped, its latest version " + latest + " is not the committed " + t.getValue()
                        + " (a run that did not commit wrote it; that job's next run replaces it)");
                continue;
            }
            long files = vacuum(spark, path, retainHours);
            lines.add(String.format(Locale.ROOT, "%s: vacuumed (version %d, %d data files kept, %.0f h retained)",
                    t.getKey(), latest, files, retainHours));
        }
        if (TableLog.present(spark, out)) {
            vacuum(spark, log.path().toString(), retainHours);
            lines.add(TableLog.NAME + ": vacuumed");
        }
        try {
            Path root = new Path(out);
            int removed = removeStaleStaging(root.getFileSystem(spark.sparkContext().hadoopConfiguration()), root, retainHours);
            lines.add("_staging: " + removed + " folder(s) of runs older than " + retainHours + " h removed");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean " + out + "/_staging: " + e.getMessage(), e);
        }
        return lines;
    }

    /** Removes {@code <out>/_staging/<run>} folders not modified for {@code retainHours}; returns how many. */
    static int removeStaleStaging(FileSystem fs, Path out, double retainHours) throws IOException {
        Path root = new Path(out, "_staging");
        if (!fs.exists(root)) {
            return 0;
        }
        long cutoff = System.currentTimeMillis() - (long) (retainHours * 3_600_000L);
        int removed = 0;
        for (FileStatus st : fs.listStatus(root)) {
            long modified;
            try {
                modified = lastModified(fs, st);
            } catch (IOException | RuntimeException e) {
                // most often a live run closed and removed its folder while this one listed it (the
                // local file system reports that as a failed 'ls'): cleaning is best effort and
                // must not fail this run, so the folder waits for the next run's look
                LOG.warn("left {} alone: cannot list it ({})", st.getPath(), e.getMessage());
                continue;
            }
            if (modified <= cutoff) {
                fs.delete(st.getPath(), true);
                removed++;
            }
        }
        // the shared root stays: a concurrent run may be creating its own folder inside it
        return removed;
    }

    /**
     * When a run's staging folder last changed: the newest of its files. A folder's own time will
     * not do on an object store: S3A has no directories and reports a folder's time as the moment
     * it was listed, so a dead run's folder would never age there.
     */
    private static long lastModified(FileSystem fs, FileStatus folder) throws IOException {
        if (!folder.isDirectory()) {
            return folder.getModificationTime();
        }
        long newest = -1;
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(folder.getPath(), true);
        while (files.hasNext()) {
            newest = Math.max(newest, files.next().getModificationTime());
        }
        return newest >= 0 ? newest : folder.getModificationTime();
    }
}
