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

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.Progress;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
import org.apache.spark.sql.Dataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;

/**
 * The features job: every input image → one row of predictions and features in
 * {@code <out>/features/}, or one row in {@code <out>/errors/}. Inputs = rows + errors, checked
 * before the tables are committed. Spark wiring only; the work is in
 * {@link io.cnnlens.features.FeatureExtractor}.
 */
public final class FeaturesJob implements Job<FeaturesOptions> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FeaturesJob.class);


    /** What it did. */
    public record Summary(long inputs, long rows, long errors, double seconds, String featuresPath, String errorsPath,
                          long modelRan, long reused, long removed) {
        public Summary(long inputs, long rows, long errors, double seconds, String featuresPath, String errorsPath) {
            this(inputs, rows, errors, seconds, featuresPath, errorsPath, inputs, 0, 0);
        }

        public double imagesPerSecond() {
            return inputs / seconds;
        }

        public String line() {
            return String.format(Locale.ROOT, "features: inputs %d, rows %d, errors %d, %.1f s, %.1f images/s",
                    inputs, rows, errors, seconds, imagesPerSecond())
                    + (reused > 0 || removed > 0 || modelRan != inputs
                    ? String.format(Locale.ROOT, "; incremental: model ran on %d, reused %d, removed %d", modelRan, reused, removed) : "");
        }
    }

    @Override
    public String name() {
        return "features";
    }

    @Override
    public String[] description() {
        return new String[] {
                "Run the model over every image and write <out>/features/ (image_id, path, label, pred, top5, "
                        + "fc7, logits, conv_max, ...) and <out>/errors/ (path, stage, reason) as Parquet.",
                "Every input file gives exactly one row in one of the two tables; a re-run replaces both."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return FeaturesOptions.KEYS;
    }

    @Override
    public FeaturesOptions options(OptionValues values) {
        return FeaturesOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(FeaturesSchema.FEATURES, FeaturesSchema.ERRORS);
    }

    /** The features job keeps the name its users read: {@code <out>/errors}. */
    @Override
    public String errorsTable() {
        return FeaturesSchema.ERRORS;
    }

    @Override
    public JobResult run(JobContext context, FeaturesOptions options) {
        Summary s = run(context.spark(), options);
        return JobResult.of(s.line(), "features: " + s.featuresPath(), "errors:   " + s.errorsPath());
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        return report.table(FeaturesSchema.FEATURES).map(FeaturesJob::summarySection);
    }

    public static Summary run(SparkSession spark, FeaturesOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        // fail fast on the driver for a bad spec, tap or weights file, before any task starts
        ModelSpec spec = ModelLocator.load(s.model(), hadoop.get());
        String convTap = s.convLayer() == null ? spec.convTap() : s.convLayer();
        checkTaps(ExecutorRuntime.model(s.model(), hadoop.get(), false), convTap);
        LOG.info("model checked in {} s", secondsSince(t0));
        ImageSource.Inputs listed = ImageSource.read(spark, s.input().images(), s.input().source());
        long n = listed.count();
        LOG.info("{} inputs listed in {} s", n, secondsSince(t0));
        if (n == 0) {
            throw new IllegalArgumentException("no input files under " + s.input().images());
        }
        int partitions = s.partitions() > 0 ? s.partitions()
                : listed.partitions(spark.sparkContext().defaultParallelism(), maxPartitionBytes(spark));
        FeaturesReuse.Plan plan = s.incremental() ? FeaturesReuse.plan(spark, s.out(), spec.name(), convTap,
                listed.partitioned().apply(partitions), s.input().maxBytes(), hadoop).orElse(null) : null;
        long toRun = plan == null ? n : plan.toRunCount();
        if (plan != null) {
            LOG.info("incremental: {} of {} inputs reuse their rows, the model runs on {}; {} rows removed", plan.reusedCount(), n,
                    toRun, plan.removed());
        }
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "features")) {
            // one pass: feature rows go to the Delta table's writer, error rows to a stash beside it;
            // the accumulators are applied once per partition of this, the RDD's only job
            LongAccumulator ok = spark.sparkContext().longAccumulator("feature rows");
            LongAccumulator errors = spark.sparkContext().longAccumulator("error rows");
            String stash = committer.staging("error-stash");
            try (Progress progress = Progress.start(spark, "features", toRun)) {
                Dataset<Row> inputs = plan == null ? listed.partitioned().apply(partitions)
                        : plan.toRun().repartition((int) Math.max(1, Math.min(partitions, (toRun + 63) / 64)));
                JavaRDD<Row> rows = inputs.javaRDD()
                        .mapPartitions(new FeaturesPartition(new FeaturesPartition.Settings(s.model(), hadoop,
                                s.batchSize(), s.decodeThreads(), s.decodeQueue(), s.input().maxPixels(), s.input().maxBytes(),
                                convTap, stash, ok, errors, progress.counter())));
                // straight into the Delta table's next version: no staged copy to rewrite at commit
                if (plan == null) {
                    committer.write(FeaturesSchema.FEATURES, spark.createDataFrame(rows, FeaturesSchema.FEATURES_SCHEMA),
                            FeaturesSchema.PARQUET_OPTIONS);
                } else {
                    // the new rows are written once (a MERGE reads its source twice), then merged with the reused ones
                    String fresh = committer.staging("features-fresh");
                    spark.createDataFrame(rows, FeaturesSchema.FEATURES_SCHEMA).write().options(FeaturesSchema.PARQUET_OPTIONS)
                            .parquet(fresh);
                    if (plan.onlyAdded()) {
                        // a collection that only grew: its new paths are appended, no row of the table is read again
                        committer.append(FeaturesSchema.FEATURES, plan.reusedAtNewPaths().unionByName(spark.read().parquet(fresh)),
                                FeaturesSchema.PARQUET_OPTIONS);
                    } else {
                        committer.merge(FeaturesSchema.FEATURES, plan.reused().unionByName(spark.read().parquet(fresh)), "path",
                                List.of("image_id", "label", "model", "conv_layer"));
                    }
                }
            } finally {
                if (plan != null) {
                    plan.release().run();
                }
            }
            LOG.info("{} inputs in {} partitions: features computed and written in {} s", n, partitions, secondsSince(t0));
            String errorsDir = committer.staging(FeaturesSchema.ERRORS);
            ErrorStash.read(spark, stash, FeaturesSchema.ERRORS_SCHEMA, hadoop.get()).coalesce(1)
                    .write().mode(SaveMode.ErrorIfExists).parquet(errorsDir);
            long errorsWritten = errors.value() == 0 ? 0 : spark.read().parquet(errorsDir).count();
            long reused = plan == null ? 0 : plan.reusedCount();
            if (reused + ok.value() + errors.value() != n || errorsWritten != errors.value()) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + reused + " reused rows + "
                        + ok.value() + " rows + " + errors.value() + " errors (" + errorsWritten
                        + " error rows written); nothing was committed");
            }
            committer.commit(List.of(FeaturesSchema.FEATURES, FeaturesSchema.ERRORS));
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Summary(n, reused + ok.value(), errors.value(), seconds,
                    committer.finalPath(FeaturesSchema.FEATURES), committer.finalPath(FeaturesSchema.ERRORS),
                    toRun, reused, plan == null ? 0 : plan.removed());
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

    /** The report's summary: images, accuracy against folder labels, model, the first images by path. */
    private static Section summarySection(Dataset<Row> f) {
        long rows = f.count();
        List<HtmlReport.Row> stats = new ArrayList<>();
        stats.add(new HtmlReport.Row(List.of(Cell.text("images with features"), Cell.number(String.valueOf(rows)))));
        Row acc = f.filter(col("label").isNotNull()).agg(count("*"), avg(expr("CASE WHEN label = pred THEN 1.0D ELSE 0.0D END"))).first();
        if (acc.getLong(0) > 0) {
            stats.add(new HtmlReport.Row(List.of(Cell.text("labelled images"), Cell.number(String.valueOf(acc.getLong(0))))));
            stats.add(new HtmlReport.Row(List.of(Cell.text("prediction = folder label"),
                    Cell.number(String.format(Locale.ROOT, "%.4f", acc.getDouble(1))))));
        }
        List<String> models = new ArrayList<>();
        f.select("model").distinct().collectAsList().forEach(r -> models.add(r.getString(0)));
        stats.add(new HtmlReport.Row(List.of(Cell.text("model"), Cell.text(String.join(", ", models)))));
        List<HtmlReport.Row> sample = new ArrayList<>();
        for (Row r : f.select("path", "label", "pred", "top5").orderBy("path").limit(12).collectAsList()) {
            String path = r.getString(0);
            Row top = r.<Row>getList(3).get(0);
            sample.add(new HtmlReport.Row(List.of(Cell.text(path.substring(path.lastIndexOf('/') + 1)), Cell.text(r.getString(1)),
                    Cell.text(r.getString(2)), Cell.number(String.format(Locale.ROOT, "%.3f", top.getFloat(1))))));
        }
        return new Section("summary", "Summary", "The features job's table: one row per image.",
                List.of(new Table("numbers", List.of("what", "value"), stats, null),
                        new Table("first images by path", List.of("file", "label", "prediction", "probability"), sample, null)),
                List.of());
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
