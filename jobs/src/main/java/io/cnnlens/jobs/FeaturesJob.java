package io.cnnlens.jobs;

import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;

/**
 * The features job: every input image → one row of predictions and features in
 * {@code <out>/features/}, or one row in {@code <out>/errors/}. Inputs = rows + errors, checked
 * before the tables are committed. Spark wiring only; the work is in
 * {@link io.cnnlens.features.FeatureExtractor}.
 */
public final class FeaturesJob {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FeaturesJob.class);

    /** What the job was asked to do. */
    public record Settings(String images, String out, String model, ImageSource.Options source,
                           int batchSize, long maxPixels, long maxBytes, String convTap, int partitions) {
    }

    /** What it did. */
    public record Summary(long inputs, long rows, long errors, double seconds, String featuresPath, String errorsPath) {
        public double imagesPerSecond() {
            return inputs / seconds;
        }

        public String line() {
            return String.format(Locale.ROOT, "features: inputs %d, rows %d, errors %d, %.1f s, %.1f images/s",
                    inputs, rows, errors, seconds, imagesPerSecond());
        }
    }

    private FeaturesJob() {
    }

    public static Summary run(SparkSession spark, Settings s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        // fail fast on the driver for a bad spec, tap or weights file, before any task starts
        ModelSpec spec = ModelLocator.load(s.model(), hadoop.get());
        if (s.maxBytes() <= 0 || s.maxBytes() > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("--max-bytes must be between 1 and " + (Integer.MAX_VALUE - 64));
        }
        String convTap = s.convTap() == null ? spec.convTap() : s.convTap();
        checkTaps(ExecutorRuntime.model(s.model(), hadoop.get(), false), convTap);
        LOG.info("model checked in {} s", secondsSince(t0));
        ImageSource.Inputs listed = ImageSource.read(spark, s.images(), s.source());
        long n = listed.count();
        LOG.info("{} inputs listed in {} s", n, secondsSince(t0));
        if (n == 0) {
            throw new IllegalArgumentException("no input files under " + s.images());
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        int partitions = s.partitions() > 0 ? s.partitions()
                : (int) Math.max(parallelism, Math.min(n / 64 + 1, (long) parallelism * 4));
        JavaRDD<Row> rows = listed.partitioned().apply(partitions).javaRDD()
                .mapPartitions(new FeaturesPartition(s.model(), hadoop, s.batchSize(), s.maxPixels(), s.maxBytes(), convTap));
        Dataset<Row> all = spark.createDataFrame(rows, FeatureTables.COMBINED).persist(StorageLevel.MEMORY_AND_DISK());
        try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
            long ok = 0;
            long errors = 0;
            for (Row r : all.groupBy("kind").count().collectAsList()) {
                if ("ok".equals(r.getString(0))) {
                    ok = r.getLong(1);
                } else {
                    errors = r.getLong(1);
                }
            }
            LOG.info("features computed in {} s", secondsSince(t0));
            if (ok + errors != n) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + ok + " rows + "
                        + errors + " errors; nothing was committed");
            }
            all.filter(col("kind").equalTo("ok")).select(cols(FeatureTables.FEATURE_COLUMNS))
                    .write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(FeatureTables.FEATURES));
            all.filter(col("kind").equalTo("error")).select(cols(FeatureTables.ERROR_COLUMNS))
                    .coalesce(1)
                    .write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(FeatureTables.ERRORS));
            committer.commit(List.of(FeatureTables.FEATURES, FeatureTables.ERRORS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Summary(n, ok, errors, seconds,
                    committer.finalPath(FeatureTables.FEATURES), committer.finalPath(FeatureTables.ERRORS));
        } finally {
            all.unpersist();
        }
    }

    /** One forward pass of a blank image on the driver: an unknown tap fails here, before any task. */
    private static void checkTaps(LoadedModel model, String convTap) {
        ModelSpec spec = model.spec();
        try (ModelForward f = model.newForward()) {
            ModelForward.Outputs o = f.run(new float[spec.channels() * spec.height() * spec.width()], 1,
                    List.of(spec.featuresTap(), spec.logitsTap()), convTap.isEmpty() ? List.of() : List.of(convTap));
            int logits = o.values(spec.logitsTap())[0].length;
            if (logits != spec.classes()) {
                throw new IllegalArgumentException("model " + spec.name() + " gives " + logits + " logits but its labels file lists "
                        + spec.classes() + " classes");
            }
        }
    }

    private static String secondsSince(long t0) {
        return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9);
    }

    private static org.apache.spark.sql.Column[] cols(String[] names) {
        org.apache.spark.sql.Column[] c = new org.apache.spark.sql.Column[names.length];
        for (int i = 0; i < names.length; i++) {
            c[i] = col(names[i]);
        }
        return c;
    }
}
