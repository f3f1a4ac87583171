package io.cnnlens.jobs.spark;

import io.cnnlens.natives.OpenBlas;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark session a job runs in. Under spark-submit the master and settings come from
 * spark-submit (and {@code conf/spark-defaults-*.conf}); run locally, {@code --master} defaults
 * to {@code local[*]} and the UI is off. A session that already exists (a test's, a notebook's)
 * is reused and left running.
 */
public final class SparkSessions {

    /** A session and whether closing the handle should stop it. */
    public record Handle(SparkSession spark, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                spark.stop();
            }
        }
    }

    private SparkSessions() {
    }

    public static Handle open(String appName, String master) {
        OpenBlas.loadFirst();
        if (SparkSession.getActiveSession().isDefined()) {
            return new Handle(SparkSession.getActiveSession().get(), false);
        }
        if (SparkSession.getDefaultSession().isDefined()) {
            return new Handle(SparkSession.getDefaultSession().get(), false);
        }
        SparkSession.Builder b = withTables(SparkSession.builder().appName(appName));
        if (System.getProperty("spark.master") == null || master != null) {
            b.master(master == null ? "local[*]" : master);
        }
        if (System.getProperty("spark.master") == null) {
            b.config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "8")
                    // heartbeats carry running tasks' progress counts to the driver (Progress)
                    .config("spark.executor.heartbeatInterval", "3s");
        }
        return new Handle(b.getOrCreate(), true);
    }

    /**
     * The settings every session that writes cnnlens tables needs: Delta Lake's SQL extension and
     * catalog, and a small number of partitions for reading a table's Delta log (its default, 50,
     * is sized for logs of thousands of commits; cnnlens tables have one commit per run). It also
     * loads the bundled OpenBLAS before Spark MLlib can load the system's ({@link OpenBlas}).
     */
    public static SparkSession.Builder withTables(SparkSession.Builder b) {
        OpenBlas.loadFirst();
        return b.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                .config("spark.databricks.delta.snapshotPartitions", "2");
    }
}
