package io.cnnlens.jobs.features;

import io.cnnlens.jobs.spark.ErrorStash;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import java.util.List;
import java.util.Locale;

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
        int partitions = s.partitions() > 0 ? s.partitions()
                : listed.partitions(spark.sparkContext().defaultParallelism(), maxPartitionBytes(spark));
        try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
            // one pass: feature rows go to the Parquet writer, error rows to a stash beside it;
            // the accumulators are applied once per partition of this, the RDD's only job
            LongAccumulator ok = spark.sparkContext().longAccumulator("feature rows");
            LongAccumulator errors = spark.sparkContext().longAccumulator("error rows");
            String stash = committer.staging("_error-stash");
            JavaRDD<Row> rows = listed.partitioned().apply(partitions).javaRDD()
                    .mapPartitions(new FeaturesPartition(new FeaturesPartition.Settings(s.model(), hadoop,
                            s.batchSize(), s.maxPixels(), s.maxBytes(), convTap, stash, ok, errors)));
            spark.createDataFrame(rows, FeaturesSchema.FEATURES_SCHEMA)
                    .write().mode(SaveMode.ErrorIfExists).options(FeaturesSchema.PARQUET_OPTIONS)
                    .parquet(committer.staging(FeaturesSchema.FEATURES));
            LOG.info("{} inputs in {} partitions: features computed and written in {} s", n, partitions, secondsSince(t0));
            String errorsDir = committer.staging(FeaturesSchema.ERRORS);
            ErrorStash.read(spark, stash, FeaturesSchema.ERRORS_SCHEMA, hadoop.get()).coalesce(1)
                    .write().mode(SaveMode.ErrorIfExists).parquet(errorsDir);
            long errorsWritten = errors.value() == 0 ? 0 : spark.read().parquet(errorsDir).count();
            if (ok.value() + errors.value() != n || errorsWritten != errors.value()) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + ok.value() + " rows + "
                        + errors.value() + " errors (" + errorsWritten + " error rows written); nothing was committed");
            }
            committer.commit(List.of(FeaturesSchema.FEATURES, FeaturesSchema.ERRORS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Summary(n, ok.value(), errors.value(), seconds,
                    committer.finalPath(FeaturesSchema.FEATURES), committer.finalPath(FeaturesSchema.ERRORS));
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

    /** Spark's {@code spark.sql.files.maxPartitionBytes} (128 MB unless set). */
    static long maxPartitionBytes(SparkSession spark) {
        return org.apache.spark.network.util.JavaUtils.byteStringAsBytes(
                spark.conf().get("spark.sql.files.maxPartitionBytes", "128m"));
    }

    private static String secondsSince(long t0) {
        return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9);
    }
}
