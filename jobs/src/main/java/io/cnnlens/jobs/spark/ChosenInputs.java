package io.cnnlens.jobs.spark;

import io.cnnlens.image.DecodeException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * The inputs a job that explains or attacks single images works on: those of {@code --images}
 * whose path matches a pattern (if given), then a fixed sample of them by path hash (if
 * {@code sample > 0}; 0 = all), with their number and total bytes, counted in one pass.
 */
public record ChosenInputs(Dataset<Row> rows, long count, long bytes) {

    public static ChosenInputs of(SparkSession spark, String images, ImageSource.Options source, String pathPattern, int sample) {
        Dataset<Row> rows = ImageSource.read(spark, images, source).partitioned().apply(0);
        if (pathPattern != null && !pathPattern.isBlank()) {
            rows = rows.filter(col("path").rlike(pathPattern));
        }
        if (sample > 0) {
            rows = ImageSource.sample(rows, sample);
        }
        Row size = rows.agg(org.apache.spark.sql.functions.count(lit(1)),
                org.apache.spark.sql.functions.coalesce(org.apache.spark.sql.functions.sum(col("length")), lit(0L))).first();
        return new ChosenInputs(rows, size.getLong(0), size.getLong(1));
    }

    /**
     * {@code given} when positive; else as the features job splits
     * ({@link ImageSource.Inputs#partitions}: every core a task, no task over 1/8 of the inputs
     * or over {@link ImageSource#MAX_INPUTS_PER_TASK} of them, more when the bytes exceed
     * {@code spark.sql.files.maxPartitionBytes} per task) and more still when a task would get
     * over {@code perTask} inputs (jobs whose per-image work is heavier pass fewer), so that a long pass has short tasks (cheap
     * retries, no long tail) however large the collection. A task holds one batch at a time, so
     * its memory does not depend on how many inputs it gets.
     */
    public int partitions(SparkSession spark, int perTask, int given) {
        if (given > 0) {
            return given;
        }
        long maxPartitionBytes = org.apache.spark.network.util.JavaUtils.byteStringAsBytes(
                spark.conf().get("spark.sql.files.maxPartitionBytes", "128m"));
        int byBytes = new ImageSource.Inputs(count, bytes, null).partitions(spark.sparkContext().defaultParallelism(), maxPartitionBytes);
        long byCount = (count + perTask - 1) / perTask;
        return (int) Math.max(1, Math.min(Math.max(count, 1), Math.min(Integer.MAX_VALUE, Math.max(byBytes, byCount))));
    }

    /** The bytes of a few of these inputs (for a picture), by path; one that cannot be read is left out. */
    public Map<String, byte[]> bytesOf(Collection<String> paths, long maxBytes, Configuration conf) {
        Map<String, byte[]> out = new HashMap<>();
        if (paths.isEmpty()) {
            return out;
        }
        for (Row r : rows.filter(col("path").isin(paths.toArray())).select("path", "length", "content").collectAsList()) {
            try {
                out.putIfAbsent(r.getString(0), ImageBytes.read(r.getString(0), r.isNullAt(1) ? -1 : r.getLong(1),
                        r.isNullAt(2) ? null : (byte[]) r.get(2), maxBytes, conf));
            } catch (DecodeException e) {
                // the picture shows an empty tile
            }
        }
        return out;
    }
}
