package io.cnnlens.jobs;

import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.Progress;
import org.apache.spark.sql.SparkSession;

/** What a job runs in: the Spark session (and its Hadoop configuration, for executors). */
public record JobContext(SparkSession spark) {

    /** The session's Hadoop configuration, in a form that travels to executors. */
    public HadoopConf hadoop() {
        return new HadoopConf(spark.sparkContext().hadoopConfiguration());
    }

    /** Progress of one pass over {@code total} inputs: images done of total, rate and time left, while it runs. */
    public Progress progress(String job, long total) {
        return Progress.start(spark, job, total);
    }
}
