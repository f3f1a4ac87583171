package io.cnnlens.jobs.spark;

import io.delta.tables.DeltaTable;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.apache.spark.sql.functions.col;

/**
 * The commit log of one output folder: a Delta table {@code <out>/_cnnlens_log} with one row per
 * job run that committed, naming the Delta version of every table that run wrote. A job's tables
 * become current together when its row lands; readers read each table at the version the latest
 * row naming it gives, so a run that died between its tables' commits, or lost a race with another
 * run, is never half visible (docs/tables.md).
 *
 * <p>Rows carry a sequence number {@code seq}; a run writes {@code seq = (the sequence it saw when
 * it started) + 1} as a Delta idempotent transaction ({@code txnAppId}/{@code txnVersion}), so of
 * two runs that started from the same sequence exactly one row lands and the other run learns it lost.
 */
public final class TableLog {

    /** The log's folder name under {@code <out>}. */
    public static final String NAME = "_cnnlens_log";
    /** The Delta application id of the log's idempotent commits. */
    static final String APP_ID = "cnnlens-table-log";

    static final StructType SCHEMA = new StructType()
            .add("seq", DataTypes.LongType, false)
            .add("run_id", DataTypes.StringType, false)
            .add("job", DataTypes.StringType, false)
            .add("committed_at", DataTypes.TimestampType, false)
            .add("tables", DataTypes.createMapType(DataTypes.StringType, DataTypes.LongType, false), false);

    /** The last read of each log (by qualified path) this JVM made; few folders are read in one JVM. */
    private static final Map<String, Read> READS = new ConcurrentHashMap<>();
    private static final int READS_KEPT = 64;

    /** One committed run. */
    public record Entry(long seq, String runId, String job, Timestamp committedAt, Map<String, Long> tables) {
    }

    private final SparkSession spark;
    private final Path out;

    public TableLog(SparkSession spark, String out) {
        this.spark = spark;
        this.out = new Path(out);
    }

    public Path path() {
        return new Path(out, NAME);
    }

    /** Whether {@code dir} holds a commit log. */
    public static boolean present(SparkSession spark, String dir) {
        try {
            Path p = new Path(new Path(dir, NAME), "_delta_log");
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The latest entry, or empty when nothing was committed yet. */
    public Optional<Entry> latest() {
        List<Entry> all = entries();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * The log table's own Delta version, from its file names (-1 before the first commit): it
     * changes whenever a run commits, so an unchanged version means no run committed meanwhile.
     */
    long deltaVersion() {
        return DeltaLogFiles.of(fs(), path()).latestVersion();
    }

    private FileSystem fs() {
        try {
            return path().getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path() + ": " + e.getMessage(), e);
        }
    }

    /** The entry with sequence number {@code seq}, if it landed. */
    public Optional<Entry> at(long seq) {
        return entries().stream().filter(e -> e.seq() == seq).findFirst();
    }

    /** Every table's committed version: for each table, the version named by the latest entry that names it. */
    public Map<String, Long> current() {
        return current(entries());
    }

    /** The committed versions {@code entries} (oldest first) give: the latest entry naming a table wins. */
    static Map<String, Long> current(List<Entry> entries) {
        Map<String, Long> current = new LinkedHashMap<>();
        for (Entry e : entries) {
            current.putAll(e.tables());
        }
        return current;
    }

    /**
     * Every entry, oldest first. Read through Spark once per log version: every table a job reads
     * asks the log for its version, and a Delta read is a few Spark jobs where the listing of the
     * log's commit files, which says whether anything landed since, is one file-system call. A read
     * is kept only when the listing before and after it agree, so it is the read of that version.
     */
    public List<Entry> entries() {
        if (!present(spark, out.toString())) {
            return List.of();
        }
        FileSystem fs = fs();
        String key = fs.makeQualified(path()).toString();
        DeltaLogFiles before = DeltaLogFiles.of(fs, path());
        Read kept = READS.get(key);
        if (kept != null && kept.files().equals(before)) {
            return kept.entries();
        }
        List<Entry> read = spark.read().format("delta").load(path().toString()).orderBy(col("seq")).collectAsList()
                .stream().map(TableLog::entry).toList();
        if (DeltaLogFiles.of(fs, path()).equals(before)) {
            if (READS.size() >= READS_KEPT) {
                READS.clear();
            }
            READS.put(key, new Read(before, read));
        }
        return read;
    }

    /** The entries of one log version, and the listing of the log's commit files they were read at. */
    private record Read(DeltaLogFiles files, List<Entry> entries) {
    }

    /**
     * Appends {@code entry} if no other run's entry took its sequence number first; returns whether
     * it landed.
     */
    boolean append(Entry entry) {
        Row row = RowFactory.create(entry.seq(), entry.runId(), entry.job(), entry.committedAt(),
                scala.jdk.javaapi.CollectionConverters.asScala(entry.tables()));
        Dataset<Row> df = spark.createDataFrame(List.of(row), SCHEMA);
        try {
            df.coalesce(1).write().format("delta").mode(SaveMode.Append)
                    .option("txnAppId", APP_ID).option("txnVersion", entry.seq())
                    .option("userMetadata", entry.runId())
                    .save(path().toString());
        } catch (RuntimeException e) {
            if (isConflict(e)) {
                return false;
            }
            throw e;
        }
        // Delta skips, without an error, an idempotent write whose txnVersion another run already
        // used: the row landed only if a commit of this run is in the log table's history (read
        // from its commit files, not by scanning the table)
        return !DeltaTable.forPath(spark, path().toString()).history(10)
                .where(col("userMetadata").equalTo(entry.runId())).isEmpty();
    }

    /** Whether {@code e} is Delta's answer to a concurrent commit (any of its conflict exceptions). */
    static boolean isConflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof io.delta.exceptions.DeltaConcurrentModificationException
                    || t instanceof org.apache.spark.sql.delta.DeltaConcurrentModificationException) {
                return true;
            }
        }
        return false;
    }

    private static Entry entry(Row r) {
        Map<String, Long> tables = new LinkedHashMap<>();
        scala.collection.Map<String, Long> m = r.getMap(4);
        scala.jdk.javaapi.CollectionConverters.asJava(m).forEach(tables::put);
        return new Entry(r.getLong(0), r.getString(1), r.getString(2), r.getTimestamp(3), tables);
    }
}
