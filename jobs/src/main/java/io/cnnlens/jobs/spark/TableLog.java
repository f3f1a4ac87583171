package io.cnnlens.jobs.spark;

import io.delta.tables.DeltaTable;

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
        if (!present(spark, out.toString())) {
            return Optional.empty();
        }
        List<Row> r = spark.read().format("delta").load(path().toString()).orderBy(col("seq").desc()).limit(1).collectAsList();
        return r.isEmpty() ? Optional.empty() : Optional.of(entry(r.get(0)));
    }

    /**
     * The log table's own Delta version, from its file names (-1 before the first commit): it
     * changes whenever a run commits, so an unchanged version means no run committed meanwhile.
     */
    long deltaVersion() {
        try {
            return DeltaLogFiles.of(path().getFileSystem(spark.sparkContext().hadoopConfiguration()), path()).latestVersion();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path() + ": " + e.getMessage(), e);
        }
    }

    /** The entry with sequence number {@code seq}, if it landed. */
    public Optional<Entry> at(long seq) {
        List<Row> r = spark.read().format("delta").load(path().toString()).where(col("seq").equalTo(seq)).collectAsList();
        return r.isEmpty() ? Optional.empty() : Optional.of(entry(r.get(0)));
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

    /** Every entry, oldest first. */
    public List<Entry> entries() {
        if (!present(spark, out.toString())) {
            return List.of();
        }
        return spark.read().format("delta").load(path().toString()).orderBy(col("seq")).collectAsList()
                .stream().map(TableLog::entry).toList();
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
