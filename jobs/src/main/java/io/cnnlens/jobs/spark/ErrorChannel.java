package io.cnnlens.jobs.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;

/**
 * Where every job's bad inputs go: one {@code <out>/<job>_errors} table of one schema
 * ({@code path, stage, reason}). Tasks write their error rows beside the job's main output in
 * the same pass ({@link ErrorStash}: one file per partition, published at the task's end, so a
 * retried task leaves no duplicates); the driver then writes the table from those files and
 * counts it once, from the table itself (no accumulator of a recomputed transformation).
 */
public final class ErrorChannel implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The schema of every errors table. */
    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("stage", DataTypes.StringType, true),
            DataTypes.createStructField("reason", DataTypes.StringType, true)});

    private final String table;
    private final String stash;
    private final HadoopConf hadoop;

    private ErrorChannel(String table, String stash, HadoopConf hadoop) {
        this.table = table;
        this.stash = stash;
        this.hadoop = hadoop;
    }

    /** A channel for the errors table {@code table}, staged with the job's other tables. */
    public static ErrorChannel open(TableCommitter committer, String table, HadoopConf hadoop) {
        return new ErrorChannel(table, committer.staging("error-stash-" + table), hadoop);
    }

    /** This task's writer (executor side), closed when the task completes; publish it after the partition's last input. */
    public ErrorStash.Writer writer() {
        TaskContext tc = TaskContext.get();
        ErrorStash.Writer w = new ErrorStash.Writer(stash, hadoop.get(), tc == null ? 0 : tc.partitionId(),
                tc == null ? 0 : tc.taskAttemptId());
        if (tc != null) {
            tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> w.close());
        }
        return w;
    }

    /** Driver side, after the pass: writes the staged errors table and returns its row count. */
    public long commitTable(SparkSession spark, TableCommitter committer) {
        String dir = committer.staging(table);
        Configuration conf = hadoop.get();
        ErrorStash.read(spark, stash, SCHEMA, conf).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(dir);
        return spark.read().schema(SCHEMA).parquet(dir).count();
    }

    /** The table's name, e.g. {@code saliency_errors}. */
    public String table() {
        return table;
    }
}
