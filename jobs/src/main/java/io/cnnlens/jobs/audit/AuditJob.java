package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cnnlens.audit.AuditThresholds;
import io.cnnlens.audit.ConfidentLearning;
import io.cnnlens.audit.ImageQuality;
import io.cnnlens.audit.LinearMmd;
import io.cnnlens.audit.SplitFolders;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.features.FeaturesOptions;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.spark.VectorColumn;
import io.cnnlens.jobs.spark.TableVacuum;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_compact;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The dataset audit (docs/audit.md): features brought up to date incrementally, then each check
 * as a Delta table of the run's dated folder {@code <out>/audit/<run>/}, committed together, with
 * {@code summary.json} and {@code report.html} beside them. The report leads with what changed
 * since the previous audit (a diff of two snapshots of the features table, and each check's new
 * and resolved issues). Thresholds from a file: the command fails (exit 1) when one is crossed,
 * after everything is written. Wiring only; the methods are in {@code io.cnnlens.audit}.
 */
public final class AuditJob implements Job<AuditOptions> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AuditJob.class);

    public static final String NAME = "audit";
    public static final String SUMMARY = "summary.json";
    public static final String REPORT = "report.html";
    /** The label probes this run scored with (fitted now or kept from an earlier audit), for the next audit. */
    public static final String PROBES = "probes.json";

    public static final String UNREADABLE = "unreadable";
    public static final String EXACT = "exact_duplicates";
    public static final String NEAR = "near_duplicates";
    public static final String LABELS = "label_issues";
    public static final String OUTLIERS = "outliers";
    public static final String QUALITY = "quality";
    public static final String BALANCE = "class_balance";
    public static final String CONFIDENCE = "confidence";
    public static final String DRIFT = "drift";
    public static final String CHANGES = "changes";
    /** Each image's k nearest neighbours in fc7, by path: what the next audit's kNN starts from. */
    public static final String KNN = "knn";
    /**
     * The content pairs the thumbnails' neighbour lists proposed (image_id_a, image_id_b, their
     * thumbnail correlation and fc7 cosine distance): what the next audit keeps instead of searching again.
     */
    public static final String THUMBNAIL_PAIRS = "thumbnail_pairs";
    /**
     * Each content's k smallest thumbnail distances (image_id, distances: 1 − correlation, ascending):
     * the outliers by thumbnail read the k-th, and the next audit merges the list with its search of
     * the new contents instead of searching all.
     */
    public static final String THUMBNAIL_LISTS = "thumbnail_lists";
    /** summary.json's key for how the neighbour lists were searched: exact or graph. */
    static final String KNN_METHOD = "knn_method";
    /** Images whose graph-searched lists are compared with exact search for {@code knn.recall}. */
    static final int KNN_RECALL_SAMPLE = 1000;
    /** summary.json's key (and the report's row) for a previous snapshot that could not be read. */
    public static final String PREVIOUS_UNREADABLE = "previous_unreadable";
    public static final List<String> TABLES = List.of(UNREADABLE, EXACT, NEAR, LABELS, OUTLIERS, QUALITY, BALANCE, CONFIDENCE,
            DRIFT, CHANGES, KNN, THUMBNAIL_PAIRS, THUMBNAIL_LISTS);

    /** Quality flags, in the order of the {@code flags} column. */
    public static final List<String> FLAGS = List.of("dark", "bright", "blurry", "tiny", "extreme_aspect", "grey_in_colour");

    /** What the run did: its folder, the features step, the metrics the thresholds read, and the crossed ones. */
    public record Summary(String runDir, String previous, FeaturesJob.Summary features, Map<String, Double> metrics,
                          List<AuditThresholds.Crossed> crossed, Map<String, Double> seconds) {
        public String line() {
            return String.format(Locale.ROOT,
                    "audit: %d images, model ran on %d; unreadable %d, exact duplicates %d, near-duplicate pairs %d (leakage %d), "
                            + "label issues %d, outliers %d, quality flags %d, drift p %s; %.1f s",
                    features.rows(), features.modelRan(), m("unreadable.count"), m("exact_duplicates.images"), m("near_duplicates.pairs"),
                    m("leakage.pairs"), m("label_issues.count"), m("outliers.count"), m("quality.flagged"),
                    metrics.get("drift.p_value") == null ? "-" : String.format(Locale.ROOT, "%.3g", metrics.get("drift.p_value")),
                    seconds.getOrDefault("total", 0.0));
        }

        private long m(String k) {
            Double v = metrics.get(k);
            return v == null ? 0 : Math.round(v);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "Audit a growing collection: features updated incrementally (the model runs only on new content), then checks "
                        + "(unreadable, exact and near duplicates, split leakage, label issues by confident learning, outliers, "
                        + "quality flags, class balance, confidence, drift) as tables under <out>/audit/<run>/ with summary.json "
                        + "and report.html leading with what changed since the previous audit.",
                "Exits 1 when a threshold of --thresholds is crossed (after writing everything), for schedulers to alert on."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return AuditOptions.KEYS;
    }

    @Override
    public AuditOptions options(OptionValues values) {
        return AuditOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of("audit");
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, AuditOptions options) {
        Summary s = run(context.spark(), options);
        if (!s.crossed().isEmpty()) {
            throw new IllegalStateException(s.line() + "\nthresholds crossed: "
                    + String.join("; ", s.crossed().stream().map(AuditThresholds.Crossed::describe).toList())
                    + "\nreport: " + s.runDir() + "/" + REPORT);
        }
        return JobResult.of(s.line(), "run:     " + s.runDir(), "report:  " + s.runDir() + "/" + REPORT,
                "summary: " + s.runDir() + "/" + SUMMARY);
    }

    public static Summary run(SparkSession spark, AuditOptions o) {
        long t0 = System.nanoTime();
        Map<String, Double> seconds = new LinkedHashMap<>();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        AuditThresholds thresholds = readThresholds(o.thresholds(), hadoop);
        String runName = o.runName() != null ? o.runName()
                : DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        Path auditRoot = new Path(o.out(), NAME);
        Path runPath = new Path(auditRoot, runName);
        FileSystem fs = fs(runPath, hadoop);
        try {
            if (fs.exists(new Path(runPath, SUMMARY))) {
                throw new IllegalArgumentException("audit run " + runPath + " exists already; choose another --run");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Optional<PreviousAudit> prev = PreviousAudit.latest(fs, auditRoot, runName);

        FeaturesJob.Summary features = timed(seconds, "features", () -> FeaturesJob.run(spark, new FeaturesOptions(o.input(), o.out(),
                o.model(), null, FeaturesOptions.BATCH_SIZE_DEFAULT, FeaturesOptions.DECODE_THREADS_DEFAULT,
                FeaturesOptions.DECODE_QUEUE_DEFAULT, FeaturesOptions.PRECISION_DEFAULT, 0, true)));
        long featuresVersion = TableReader.tables(spark, o.out()).get("features");
        Dataset<Row> ft = TableReader.table(spark, o.out(), "features").orElseThrow();
        Dataset<Row> keyed = withKeys(spark, ft.select(col("image_id"), col("path"), col("label"), col("width"), col("height"),
                col("pred"), element_at(col("top5"), 1).getField("probability").as("confidence"), col("fc7"), col("model"))
                .withColumn("split", split(col("path"))));
        long n = keyed.count();
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("images", (double) n);
        metrics.put("features.model_ran", (double) features.modelRan());
        Map<String, Object> extra = new LinkedHashMap<>();
        String runDir = runPath.toString();
        Optional<LabelProbes.Fitted> probes = Optional.empty();
        String knnMethod = "exact";
        try (TableCommitter committer = new TableCommitter(spark, runDir, NAME)) {
            Checks checks = new Checks(spark, o, prev, committer, keyed, n, metrics, extra);
            timed(seconds, UNREADABLE, checks::unreadable);
            timed(seconds, EXACT, checks::exactDuplicates);
            Dataset<Row> measures = timed(seconds, QUALITY, () -> checks.quality(hadoop));
            int k = (int) Math.min(o.k(), Math.max(1, n - 1));
            AuditKnn.Method method = new AuditKnn.Method(o.knn(), o.knnGraphFrom(), o.block(), o.knnEf(), o.knnShardRows(),
                    spark.sparkContext().defaultParallelism(), runDir, hadoop);
            Dataset<Row> knn = timed(seconds, "knn", () -> checks.knn(k, method));
            knnMethod = checks.knnMethod;
            Dataset<Row> meta = keyed.select("key", "image_id", "path", "label", "split");
            ThumbnailPairs.Found thumbPairs = timed(seconds, NEAR, () -> checks.nearDuplicates(knn, measures, meta, k, method));
            measures.unpersist(); // read by the quality table and the thumbnail search, both done
            timed(seconds, OUTLIERS, () -> checks.outliers(knn, thumbPairs, meta, k));
            probes = timed(seconds, LABELS, () -> checks.labelIssues(fs, runName, featuresVersion));
            timed(seconds, BALANCE, checks::balanceAndConfidence);
            timed(seconds, DRIFT, checks::driftAndChanges);
            timed(seconds, "diff", checks::newAndResolved);
            committer.commit(TABLES);
        } finally {
            keyed.unpersist();
        }
        seconds.put("total", since(t0));
        List<AuditThresholds.Crossed> crossed = thresholds.check(metrics);
        Summary summary = new Summary(runDir, prev.map(PreviousAudit::name).orElse(null), features, metrics, crossed, seconds);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("run", runName);
        json.put("generated", Instant.now().toString());
        json.put("previous_run", summary.previous());
        json.put("features_version", featuresVersion);
        if (extra.containsKey(PREVIOUS_UNREADABLE)) {
            json.put(PREVIOUS_UNREADABLE, extra.get(PREVIOUS_UNREADABLE));
        }
        json.put("images", n);
        json.put(KNN_METHOD, knnMethod);
        json.put("features", Map.of("inputs", features.inputs(), "rows", features.rows(), "errors", features.errors(),
                "model_ran", features.modelRan(), "reused", features.reused(), "removed", features.removed()));
        json.put("metrics", metrics);
        json.put("thresholds", thresholds.describe());
        json.put("crossed", crossed.stream().map(AuditThresholds.Crossed::describe).toList());
        json.put("class_share", classShares(spark, runDir));
        json.put("examples", extra);
        json.put("seconds", seconds);
        json.put("options", o);
        try {
            write(fs, new Path(runPath, REPORT), AuditReport.render(spark, summary, runName, runDir, extra, o, knnMethod)
                    .getBytes(StandardCharsets.UTF_8));
            if (probes.isPresent()) {
                write(fs, new Path(runPath, PROBES), probes.get().json());
            }
            write(fs, new Path(runPath, SUMMARY), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the audit's summary into " + runDir + ": " + e.getMessage(), e);
        }
        LOG.info("{}", summary.line());
        return summary;
    }

    /**
     * The checks of one audit, each a table staged or written through the run's committer and its
     * counts in {@code metrics}; they share the session, the options, the previous audit and the
     * images with their kNN keys.
     */
    private static final class Checks {
        private final SparkSession spark;
        private final AuditOptions o;
        private final Optional<PreviousAudit> prev;
        private final TableCommitter committer;
        private final Dataset<Row> keyed;
        private final long n;
        private final Map<String, Double> metrics;
        private final Map<String, Object> extra;
        /** How {@link #knn} searched: exact or graph. */
        private String knnMethod = "exact";

        Checks(SparkSession spark, AuditOptions o, Optional<PreviousAudit> prev, TableCommitter committer, Dataset<Row> keyed, long n,
               Map<String, Double> metrics, Map<String, Object> extra) {
            this.spark = spark;
            this.o = o;
            this.prev = prev;
            this.committer = committer;
            this.keyed = keyed;
            this.n = n;
            this.metrics = metrics;
            this.extra = extra;
        }

        /** Unreadable files: the features job's error rows. */
        void unreadable() {
            Dataset<Row> unreadable = TableReader.table(spark, o.out(), "errors").orElseThrow().select("path", "stage", "reason");
            stage(committer, UNREADABLE, unreadable);
            metrics.put("unreadable.count", (double) unreadable.count());
        }

        /** Exact duplicates: one content hash at several paths. */
        void exactDuplicates() {
            Dataset<Row> copies = keyed.groupBy("image_id").agg(count(lit(1)).as("copies")).where(col("copies").gt(1));
            Dataset<Row> exact = keyed.join(copies, "image_id").select("image_id", "path", "split", "copies");
            stage(committer, EXACT, exact);
            metrics.put("exact_duplicates.images", (double) exact.count());
            metrics.put("exact_duplicates.groups", (double) copies.count());
        }

        /** Quality flags; returns every content's measures, persisted (the near-duplicates read the thumbnails). */
        Dataset<Row> quality(HadoopConf hadoop) {
            Dataset<Row> ids = keyed.groupBy("image_id").agg(min("path").as("path"));
            Optional<Dataset<Row>> prevQuality = prev.flatMap(pa -> TableReader.table(spark, pa.dir(), QUALITY))
                    .flatMap(QualityPass::reusable);
            Dataset<Row> toMeasure = prevQuality.map(q -> ids.join(q.select("image_id"), ids.col("image_id").equalTo(q.col("image_id")), "left_anti"))
                    .orElse(ids);
            Dataset<Row> measured = QualityPass.measure(toMeasure, o.input().maxPixels(), o.input().maxBytes(), hadoop)
                    .localCheckpoint(true);
            long decoded = measured.count();
            // kept: the quality table and the near-duplicates' thumbnails read it again
            Dataset<Row> measures = prevQuality.map(q -> measured.unionByName(q.join(ids.select("image_id"), "image_id")))
                    .orElse(measured).persist(StorageLevel.MEMORY_AND_DISK());
            long colour = measures.where(col("channels").equalTo(3).and(col("grey").equalTo(false))).count();
            boolean colourSet = colour * 2 > n;
            Column minSide = least(col("width"), col("height"));
            Column maxSide = greatest(col("width"), col("height"));
            Dataset<Row> quality = keyed.select("image_id", "path", "label", "width", "height").join(measures, "image_id")
                    .withColumn("flags", array_compact(array(
                            // by the brightest 1 % and the darkest 5 % of pixels (docs/methods.md#image-quality): a thin
                            // bright object on black is dark on average, not dark
                            when(col("brightness_p99").lt(o.dark()), lit("dark")),
                            when(col("brightness_p5").gt(o.bright()), lit("bright")),
                            // fine detail's share of the contrast (null for a flat image: not blurry)
                            when(col("relative_laplacian_variance").lt(o.blurRelative()), lit("blurry")),
                            when(minSide.lt(o.tinySide()), lit("tiny")),
                            when(maxSide.divide(minSide).gt(o.extremeAspect()), lit("extreme_aspect")),
                            when(lit(colourSet).and(col("grey")), lit("grey_in_colour")))));
            written(committer, QUALITY, quality);
            Dataset<Row> q = staged(spark, committer, QUALITY);
            Row fc = q.agg(count(when(size(col("flags")).gt(0), 1)),
                    FLAGS.stream().map(fl -> count(when(org.apache.spark.sql.functions.array_contains(col("flags"), fl), 1)))
                            .toArray(Column[]::new)).first();
            metrics.put("quality.flagged", (double) fc.getLong(0));
            for (int i = 0; i < FLAGS.size(); i++) {
                metrics.put("quality." + FLAGS.get(i), (double) fc.getLong(i + 1));
            }
            metrics.put("quality.decoded", (double) decoded);
            return measures;
        }

        /** Each image's k nearest neighbours in fc7 (near-duplicates, leakage, outliers), written as the {@code knn} table. */
        Dataset<Row> knn(int k, AuditKnn.Method method) {
            Dataset<Row> knn;
            Dataset<Row> vectors = keyed.select("key", "path", "image_id", "model", "fc7");
            if (n < 2) {
                knn = spark.createDataFrame(List.of(), AuditKnn.SCHEMA);
                metrics.put("knn.searched", (double) n);
                metrics.put("knn.kept", 0.0);
                metrics.put("knn.recall", 1.0);
            } else {
                AuditKnn.Result found = AuditKnn.search(spark, vectors,
                        n >= o.knnKeepFrom() ? prev.flatMap(pa -> TableReader.table(spark, pa.dir(), KNN)) : Optional.empty(), k, method);
                knn = found.knn();
                metrics.put("knn.searched", (double) found.searched());
                metrics.put("knn.kept", (double) found.kept());
                // a graph's lists are approximate: their recall against exact search, on a sample (exact lists: 1 by construction)
                metrics.put("knn.recall", found.graph() ? AuditKnn.recall(spark, knn, vectors, k, KNN_RECALL_SAMPLE, o.seed(), o.block()) : 1.0);
                knnMethod = found.graph() ? "graph" : "exact";
            }
            written(committer, KNN, AuditKnn.table(knn, keyed));
            return knn;
        }

        /** Near-duplicates and leakage; returns the thumbnail search, whose k-th distances the outliers read. */
        ThumbnailPairs.Found nearDuplicates(Dataset<Row> knn, Dataset<Row> measures, Dataset<Row> meta, int k, AuditKnn.Method method) {
            // candidates, from three searches: each image's k nearest in fc7, and each content's k nearest by thumbnail
            // correlation, among all and among the other splits. In fc7 a crowd of look-alikes (plain bags) can push a
            // resized copy out of the first k; the thumbnails rank copies first, and the lists across splits keep one
            // split's look-alikes from hiding a copy in another (docs/methods.md#near-duplicates). Either way the pair
            // needs both thresholds.
            Dataset<Row> fc7Pairs = knn.where(col("distance").leq(1 - o.nearDuplicateCosine()))
                    .select(least(col("query_key"), col("neighbor_key")).as("a"), greatest(col("query_key"), col("neighbor_key")).as("b"),
                            col("distance"));
            ThumbnailPairs.Found thumbPairs = ThumbnailPairs.find(spark, committer, keyed, measures, k, o, method,
                    n >= o.knnKeepFrom() ? prev : Optional.empty(), metrics);
            // confirmed on 16x16 grey thumbnails: fc7 alone does not separate copies from look-alikes (docs/methods.md#near-duplicates)
            Dataset<Row> confirmed = NearDuplicates.confirm(fc7Pairs, thumbPairs, meta, measures, o.nearDuplicateCosine(),
                    o.nearDuplicatePixels(), metrics);
            // the previous audit's pairs of two unchanged paths still meet the definition: kept, so that a pair new
            // images pushed out of the lists is not reported as resolved
            Dataset<Row> near = prev.map(pa -> NearDuplicates.withPrevious(spark, pa, confirmed, meta, o, metrics)).orElse(confirmed);
            written(committer, NEAR, near);
            Dataset<Row> nearStaged = staged(spark, committer, NEAR);
            metrics.put("near_duplicates.pairs", (double) nearStaged.count());
            metrics.put("leakage.pairs", (double) nearStaged.where(col("leakage")).count());
            return thumbPairs;
        }

        /** Outliers by fc7 and by thumbnail. */
        void outliers(Dataset<Row> knn, ThumbnailPairs.Found thumbPairs, Dataset<Row> meta, int k) {
            // two measures, each its own top fraction (docs/methods.md#outliers): the k-th neighbour in fc7, and the
            // k-th nearest other content by thumbnail correlation, where images the model maps among the classes
            // (pure noise) stand apart
            Dataset<Row> kth = knn.where(col("rank").equalTo(k)).select(col("query_key").as("key"), col("distance").as("kth_distance"));
            Dataset<Row> thumbnailKth = meta.select("key", "image_id").join(thumbPairs.kth(), "image_id")
                    .select("key", "thumbnail_kth_distance");
            double cut = outlierCut(kth, "kth_distance", o.outlierFraction());
            double thumbnailCut = outlierCut(thumbnailKth, "thumbnail_kth_distance", o.outlierFraction());
            Column byFc7 = col("kth_distance").geq(cut);
            Column byThumbnail = col("thumbnail_kth_distance").geq(thumbnailCut);
            Dataset<Row> outliers = kth.join(thumbnailKth, columns("key"), "full_outer")
                    .where(byFc7.or(byThumbnail)).join(meta, "key")
                    .select(col("path"), col("label"), col("split"), col("kth_distance"), col("thumbnail_kth_distance"),
                            concat_ws(", ", when(byFc7, lit("fc7")), when(byThumbnail, lit("thumbnail"))).as("flagged_by"));
            stage(committer, OUTLIERS, outliers);
            Row flagged = staged(spark, committer, OUTLIERS).agg(count(lit(1)), count(when(byFc7, 1)), count(when(byThumbnail, 1))).first();
            metrics.put("outliers.count", (double) flagged.getLong(0));
            metrics.put("outliers.fc7", (double) flagged.getLong(1));
            metrics.put("outliers.thumbnail", (double) flagged.getLong(2));
            extra.put("outlier_cut", cut);
            extra.put("thumbnail_outlier_cut", thumbnailCut);
        }

        /** Label issues by confident learning; returns the probes it scored with, for the next audit. */
        Optional<LabelProbes.Fitted> labelIssues(FileSystem fs, String runName, long featuresVersion) {
            Optional<LabelProbes.Fitted> probes = Optional.empty();
            List<String> classes = keyed.where(col("label").isNotNull()).select("label").distinct().orderBy("label")
                    .collectAsList().stream().map(r -> r.getString(0)).toList();
            List<Row> issueRows = new ArrayList<>();
            double probeAccuracy = Double.NaN;
            metrics.put("probe.refit", null);
            metrics.put("probe.changed_since_fit", null);
            if (classes.size() >= 2) {
                List<Row> idx = new ArrayList<>();
                for (int i = 0; i < classes.size(); i++) {
                    idx.add(RowFactory.create(classes.get(i), i));
                }
                Dataset<Row> index = spark.createDataFrame(idx, new StructType().add("label", DataTypes.StringType).add("label_index",
                        DataTypes.IntegerType));
                Dataset<Row> labelled = keyed.join(index, "label").select("path", "image_id", "label_index", "fc7");
                Optional<LabelProbes.Fitted> kept = keptProbes(spark, fs, prev, o, keyed, classes, n, metrics);
                LabelProbes.Scored sc = kept.isPresent()
                        ? new LabelProbes.Scored(LabelProbes.score(labelled, kept.get()).localCheckpoint(true), kept.get())
                        : LabelProbes.fit(labelled, classes, o.folds(), o.seed(), runName, featuresVersion);
                metrics.put("probe.refit", kept.isPresent() ? 0.0 : 1.0);
                extra.put("probe.fitted_run", sc.probes().run());
                probes = Optional.of(sc.probes());
                List<Row> scored = sc.rows().collectAsList();
                double[][] p = new double[scored.size()][];
                int[] y = new int[scored.size()];
                int right = 0;
                for (int i = 0; i < p.length; i++) {
                    Row r = scored.get(i);
                    y[i] = r.getInt(1);
                    List<Double> pr = r.getList(2);
                    p[i] = new double[classes.size()];
                    int best = 0;
                    for (int j = 0; j < Math.min(pr.size(), p[i].length); j++) {
                        p[i][j] = pr.get(j);
                        best = p[i][j] > p[i][best] ? j : best;
                    }
                    right += best == y[i] ? 1 : 0;
                }
                probeAccuracy = p.length == 0 ? Double.NaN : right / (double) p.length;
                ConfidentLearning.Result cl = ConfidentLearning.find(p, y);
                int rank = 0;
                for (ConfidentLearning.Issue is : cl.issues()) {
                    issueRows.add(RowFactory.create(scored.get(is.index()).getString(0), classes.get(is.given()), classes.get(is.suggested()),
                            is.selfConfidence(), ++rank));
                }
            }
            Dataset<Row> labelIssues = spark.createDataFrame(issueRows, new StructType().add("path", DataTypes.StringType)
                    .add("given_label", DataTypes.StringType).add("suggested_label", DataTypes.StringType)
                    .add("self_confidence", DataTypes.DoubleType).add("rank", DataTypes.IntegerType));
            stage(committer, LABELS, labelIssues);
            metrics.put("label_issues.count", (double) issueRows.size());
            metrics.put("label_issues.fraction", n == 0 ? 0 : issueRows.size() / (double) n);
            metrics.put("probe.accuracy", probeAccuracy);
            return probes;
        }

        /** Class balance (share now, at the previous audit, change) and the confidence distribution. */
        void balanceAndConfidence() {
            Map<String, Double> share = new LinkedHashMap<>();
            List<Row> balanceRows = new ArrayList<>();
            double maxChange = 0;
            for (Row r : keyed.groupBy("label").agg(count(lit(1)).as("images")).orderBy("label").collectAsList()) {
                String label = r.isNullAt(0) ? "(none)" : r.getString(0);
                double s = r.getLong(1) / (double) n;
                share.put(label, s);
                Double before = prev.map(pa -> pa.classShare(label)).orElse(null);
                if (before != null) {
                    maxChange = Math.max(maxChange, Math.abs(s - before));
                }
                balanceRows.add(RowFactory.create(label, r.getLong(1), s, before, before == null ? null : s - before));
            }
            if (prev.isPresent()) {
                prev.get().summary().path("class_share").fieldNames().forEachRemaining(label -> {
                    if (!share.containsKey(label)) {
                        double before = prev.get().classShare(label);
                        balanceRows.add(RowFactory.create(label, 0L, 0.0, before, -before));
                    }
                });
                for (Row r : balanceRows) {
                    maxChange = Math.max(maxChange, r.isNullAt(4) ? 0 : Math.abs(r.getDouble(4)));
                }
            }
            metrics.put("class_share.max_change", prev.isPresent() ? maxChange : null);
            stage(committer, BALANCE, spark.createDataFrame(balanceRows, new StructType().add("label", DataTypes.StringType)
                    .add("images", DataTypes.LongType).add("share", DataTypes.DoubleType).add("previous_share", DataTypes.DoubleType)
                    .add("change", DataTypes.DoubleType)));
            Dataset<Row> conf = keyed.where(col("confidence").isNotNull())
                    .select(least(floor(col("confidence").multiply(10)), lit(9)).cast("int").as("bin"))
                    .groupBy("bin").agg(count(lit(1)).as("images")).orderBy("bin")
                    .select(col("bin").divide(10.0).as("from"), col("bin").plus(1).divide(10.0).as("to"), col("images"));
            stage(committer, CONFIDENCE, conf);
        }

        /** Drift of the images added since the previous audit against its snapshot (linear-time MMD on fc7), and the changes by path. */
        void driftAndChanges() {
            List<Row> driftRows = new ArrayList<>();
            metrics.put("drift.p_value", null);
            metrics.put("drift.mmd2", null);
            Dataset<Row> changes = spark.createDataFrame(List.of(), new StructType().add("path", DataTypes.StringType)
                    .add("change", DataTypes.StringType).add("image_id", DataTypes.StringType).add("previous_image_id", DataTypes.StringType));
            Dataset<Row> snapshot = null; // the features table as the previous audit saw it
            if (prev.isPresent() && prev.get().featuresVersion() >= 0) {
                String featuresPath = new Path(o.out(), "features").toString();
                Optional<String> gone = TableReader.unreadable(spark, featuresPath, prev.get().featuresVersion());
                if (gone.isPresent()) {
                    // a scheduled audit that ran less often than the retention: say so, and audit the rest
                    String why = String.format(Locale.ROOT, "the features table as audit %s saw it is no longer readable (%s; %s = %.0f h): "
                            + "drift and changes not computed", prev.get().name(), gone.get(), TableVacuum.RETAIN_HOURS,
                            TableVacuum.retainHours(spark));
                    LOG.warn("audit: {}", why);
                    extra.put(PREVIOUS_UNREADABLE, why);
                } else {
                    // read by four queries: once (Delta finds an old version's files again for every query)
                    snapshot = TableReader.load(spark, new TableReader.Located(featuresPath, true,
                            Optional.of(prev.get().featuresVersion()))).select("image_id", "path", "fc7")
                            .persist(StorageLevel.MEMORY_AND_DISK());
                }
            }
            if (snapshot != null) {
                Dataset<Row> before = snapshot;
                Dataset<Row> added = keyed.join(before.select("image_id"), keyed.col("image_id").equalTo(before.col("image_id")), "left_anti");
                long newImages = added.count();
                if (newImages >= 4 && before.count() >= 4) {
                    float[][] x = sample(before, o.driftSample(), o.seed());
                    float[][] y = sample(added, o.driftSample(), o.seed());
                    LinearMmd.Result r = LinearMmd.test(x, y, o.seed());
                    metrics.put("drift.p_value", r.pValue());
                    metrics.put("drift.mmd2", r.mmd2());
                    driftRows.add(RowFactory.create((long) x.length, (long) y.length, r.pairs(), r.mmd2(), r.z(), r.pValue(),
                            o.driftLevel(), r.pValue() < o.driftLevel(), r.bandwidth()));
                }
                metrics.put("drift.new_images", (double) newImages);
                // what changed: a diff of the two snapshots by path
                Dataset<Row> now = keyed.select(col("path"), col("image_id"));
                Dataset<Row> was = before.select(col("path").as("p0"), col("image_id").as("previous_image_id"));
                changes = now.join(was, now.col("path").equalTo(was.col("p0")), "full_outer")
                        .select(org.apache.spark.sql.functions.coalesce(col("path"), col("p0")).as("path"),
                                when(col("p0").isNull(), lit("added")).when(col("path").isNull(), lit("removed"))
                                        .when(col("image_id").notEqual(col("previous_image_id")), lit("changed")).as("change"),
                                col("image_id"), col("previous_image_id"))
                        .where(col("change").isNotNull());
            }
            stage(committer, DRIFT, spark.createDataFrame(driftRows, new StructType().add("reference_images", DataTypes.LongType)
                    .add("new_images", DataTypes.LongType).add("pairs", DataTypes.IntegerType).add("mmd2", DataTypes.DoubleType)
                    .add("z", DataTypes.DoubleType).add("p_value", DataTypes.DoubleType).add("level", DataTypes.DoubleType)
                    .add("drifted", DataTypes.BooleanType).add("bandwidth", DataTypes.DoubleType)));
            stage(committer, CHANGES, changes);
            Dataset<Row> ch = staged(spark, committer, CHANGES);
            Map<String, Long> changed = new LinkedHashMap<>();
            ch.groupBy("change").count().collectAsList().forEach(r -> changed.put(r.getString(0), r.getLong(1)));
            for (String c : List.of("added", "removed", "changed")) {
                metrics.put("changes." + c, snapshot != null ? (double) changed.getOrDefault(c, 0L) : null);
            }
            if (snapshot != null) {
                snapshot.unpersist();
            }
        }

        /** New and resolved issues against the previous audit's tables. */
        void newAndResolved() {
            // full outer join, then one pass for the counts and one for the examples
            Map<String, Dataset<Row>> current = issueKeys(name -> Optional.of(committer.uncommitted(name)));
            Map<String, Dataset<Row>> previous = prev.map(pa -> issueKeys(name -> TableReader.locate(spark, new Path(pa.dir(), name).toString())
                    .map(at -> TableReader.load(spark, at)))).orElse(Map.of());
            Dataset<Row> now = null;
            Dataset<Row> was = null;
            for (Map.Entry<String, Dataset<Row>> e : current.entrySet()) {
                Dataset<Row> c = e.getValue().select(lit(e.getKey()).as("check"), col("issue"));
                now = now == null ? c : now.unionByName(c);
                if (previous.containsKey(e.getKey())) {
                    Dataset<Row> w = previous.get(e.getKey()).select(lit(e.getKey()).as("check"), col("issue"));
                    was = was == null ? w : was.unionByName(w);
                }
            }
            Map<String, long[]> counted = new LinkedHashMap<>();
            Map<String, List<String>> examples = new LinkedHashMap<>();
            if (prev.isPresent() && now != null) {
                Dataset<Row> before = was != null ? was : spark.createDataFrame(List.of(), now.schema());
                Dataset<Row> moved = now.distinct().withColumn("now", lit(true))
                        .join(before.distinct().withColumn("was", lit(true)), columns("check", "issue"), "full_outer")
                        .where(col("now").isNull().or(col("was").isNull()))
                        .select(col("check"), col("issue"), when(col("now").isNull(), lit("resolved")).otherwise(lit("new")).as("status"))
                        .localCheckpoint(true);
                for (Row r : moved.groupBy("check", "status").agg(count(lit(1))).collectAsList()) {
                    counted.computeIfAbsent(r.getString(0), x -> new long[2])[r.getString(1).equals("new") ? 0 : 1] = r.getLong(2);
                }
                org.apache.spark.sql.expressions.WindowSpec first = org.apache.spark.sql.expressions.Window.partitionBy("check", "status")
                        .orderBy("issue");
                for (Row r : moved.withColumn("n", org.apache.spark.sql.functions.row_number().over(first)).where(col("n").leq(10))
                        .orderBy("check", "status", "issue").collectAsList()) {
                    examples.computeIfAbsent(r.getString(2) + "." + r.getString(0), x -> new ArrayList<>()).add(r.getString(1));
                }
            }
            for (String check : current.keySet()) {
                long[] nr = counted.getOrDefault(check, new long[2]);
                metrics.put("new." + check, prev.isPresent() ? (double) nr[0] : null);
                metrics.put("resolved." + check, prev.isPresent() ? (double) nr[1] : null);
                if (prev.isPresent() && previous.containsKey(check)) {
                    extra.put("new." + check, examples.getOrDefault("new." + check, List.of()));
                    extra.put("resolved." + check, examples.getOrDefault("resolved." + check, List.of()));
                }
            }
        }
    }

    /**
     * The previous audit's label probes when they may score this collection again: same classes,
     * folds, seed and fc7 size, and no more than {@code --probe-refit} of the images new or changed
     * since the features version they were fitted on (docs/audit.md#incremental-audits). Empty: fit anew.
     */
    private static Optional<LabelProbes.Fitted> keptProbes(SparkSession spark, FileSystem fs, Optional<PreviousAudit> prev, AuditOptions o,
                                                           Dataset<Row> keyed, List<String> classes, long n, Map<String, Double> metrics) {
        if (prev.isEmpty() || o.probeRefit() <= 0 || n == 0) {
            return Optional.empty();
        }
        Path file = new Path(prev.get().dir(), PROBES);
        LabelProbes.Fitted kept;
        try {
            if (!fs.exists(file)) {
                return Optional.empty();
            }
            try (java.io.InputStream in = fs.open(file)) {
                kept = LabelProbes.Fitted.of(new ObjectMapper().readTree(in));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("label probes: cannot read {} ({}); fitting anew", file, e.getMessage());
            return Optional.empty();
        }
        int dimension = keyed.select(size(col("fc7"))).first().getInt(0);
        if (!kept.fits(classes, o.folds(), o.seed(), dimension)) {
            LOG.info("label probes of {}: other classes, folds, seed, fold column or fc7 size; fitting anew", kept.run());
            return Optional.empty();
        }
        String featuresPath = new Path(o.out(), "features").toString();
        Optional<String> gone = TableReader.unreadable(spark, featuresPath, kept.featuresVersion());
        if (gone.isPresent()) {
            // the fit's snapshot was vacuumed away (older than the tables' retention): nothing to compare with
            LOG.info("label probes of {}: {}; fitting anew", kept.run(), gone.get());
            return Optional.empty();
        }
        Dataset<Row> atFit = TableReader.load(spark, new TableReader.Located(featuresPath, true, Optional.of(kept.featuresVersion())))
                .select("path", "image_id");
        long changed = keyed.select("path", "image_id").join(atFit, columns("path", "image_id"), "left_anti").count();
        double fraction = changed / (double) n;
        metrics.put("probe.changed_since_fit", fraction);
        if (fraction > o.probeRefit()) {
            LOG.info("label probes of {}: {} of {} images new or changed since their fit (above --probe-refit {}); fitting anew",
                    kept.run(), changed, n, o.probeRefit());
            return Optional.empty();
        }
        LOG.info("label probes: scoring with those fitted in audit {} ({} of {} images new or changed since)", kept.run(), changed, n);
        return Optional.of(kept);
    }

    /** Each check's issues as one string column {@code issue} (a path, or "path_a | path_b" for a pair). */
    static Map<String, Dataset<Row>> issueKeys(java.util.function.Function<String, Optional<Dataset<Row>>> read) {
        Map<String, Dataset<Row>> out = new LinkedHashMap<>();
        read.apply(UNREADABLE).ifPresent(d -> out.put(UNREADABLE, d.select(col("path").as("issue"))));
        read.apply(EXACT).ifPresent(d -> out.put(EXACT, d.select(col("path").as("issue"))));
        read.apply(NEAR).ifPresent(d -> {
            out.put(NEAR, d.select(org.apache.spark.sql.functions.concat_ws(" | ", col("path_a"), col("path_b")).as("issue")));
            out.put("leakage", d.where(col("leakage")).select(org.apache.spark.sql.functions.concat_ws(" | ", col("path_a"), col("path_b")).as("issue")));
        });
        read.apply(LABELS).ifPresent(d -> out.put(LABELS, d.select(col("path").as("issue"))));
        read.apply(OUTLIERS).ifPresent(d -> out.put(OUTLIERS, d.select(col("path").as("issue"))));
        read.apply(QUALITY).ifPresent(d -> out.put(QUALITY, d.where(size(col("flags")).gt(0))
                .select(org.apache.spark.sql.functions.concat_ws(" ", col("path"), org.apache.spark.sql.functions.concat_ws(",", col("flags"))).as("issue"))));
        return out;
    }

    private static Map<String, Double> classShares(SparkSession spark, String runDir) {
        Map<String, Double> m = new LinkedHashMap<>();
        TableReader.table(spark, runDir, BALANCE).ifPresent(b -> b.where(col("images").gt(0)).orderBy("label").collectAsList()
                .forEach(r -> m.put(r.getString(0), r.getDouble(2))));
        return m;
    }

    /** A seeded sample of at most {@code m} fc7 rows (smallest hash of image and seed), unit length. */
    private static float[][] sample(Dataset<Row> d, int m, long seed) {
        List<Row> rows = d.orderBy(xxhash64(col("image_id"), lit(seed))).limit(m).select("fc7").collectAsList();
        float[][] x = new float[rows.size()][];
        for (int i = 0; i < x.length; i++) {
            x[i] = VectorColumn.floats(rows.get(i).getList(0));
            double s = 0;
            for (float v : x[i]) {
                s += v * v;
            }
            float inv = s > 0 ? (float) (1 / Math.sqrt(s)) : 0;
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] *= inv;
            }
        }
        return x;
    }

    /**
     * {@code d} with a {@code key} column: a 63-bit hash of the path, the same in every run, so the
     * kNN's ties rank alike from one audit to the next (AuditKnn). Two paths with one hash (about
     * n²/2⁶⁴ likely) would make two images one, so then the keys are the rows' indexes instead.
     */
    private static Dataset<Row> withKeys(SparkSession spark, Dataset<Row> d) {
        Dataset<Row> hashed = d.select(org.apache.spark.sql.functions.xxhash64(col("path")).bitwiseAND(lit(Long.MAX_VALUE)).as("key"),
                col("*")).persist(StorageLevel.MEMORY_AND_DISK());
        Row counts = hashed.agg(count(lit(1)), org.apache.spark.sql.functions.countDistinct(col("key"))).first();
        if (counts.getLong(0) == counts.getLong(1)) {
            return hashed;
        }
        hashed.unpersist();
        LOG.warn("two paths share a key hash; the kNN keys are row indexes this run");
        StructType schema = new StructType().add("key", DataTypes.LongType, false);
        for (StructField f : d.schema().fields()) {
            schema = schema.add(f);
        }
        StructType s = schema;
        return spark.createDataFrame(d.javaRDD().zipWithIndex().map(t -> {
            Object[] v = new Object[s.size()];
            v[0] = t._2();
            for (int i = 1; i < v.length; i++) {
                v[i] = t._1().get(i - 1);
            }
            return RowFactory.create(v);
        }), s).persist(StorageLevel.MEMORY_AND_DISK());
    }

    /** The split of an image by the folders of its path ({@link SplitFolders}), null when none. */
    static Column split(Column path) {
        return udf((UDF1<String, String>) SplitFolders::of, DataTypes.StringType).apply(path);
    }

    /** Join columns as the Scala sequence Spark's {@code join(…, usingColumns, joinType)} takes. */
    static scala.collection.immutable.Seq<String> columns(String... names) {
        return scala.jdk.javaapi.CollectionConverters.asScala(List.of(names)).toSeq();
    }

    /**
     * The smallest value flagged when the top {@code fraction} of {@code column} is: the exact
     * (1 − fraction) quantile, the value of rank ⌈(1 − fraction)·n⌉ (+∞ when nothing is flagged). An
     * approximate quantile depends on how the rows are partitioned, and a later audit's table must
     * equal a full recompute.
     */
    static double outlierCut(Dataset<Row> scores, String column, double fraction) {
        if (fraction <= 0) {
            return Double.POSITIVE_INFINITY;
        }
        long n = scores.count();
        if (n < 2) {
            return Double.POSITIVE_INFINITY;
        }
        int above = (int) Math.max(1, n - (long) Math.ceil((1 - fraction) * n) + 1);
        List<Row> top = scores.select(column).orderBy(col(column).desc()).limit(above).collectAsList();
        return top.isEmpty() ? Double.POSITIVE_INFINITY : ((Number) top.get(top.size() - 1).get(0)).doubleValue();
    }

    static Dataset<Row> prefixed(Dataset<Row> d, String prefix) {
        return d.select(java.util.Arrays.stream(d.columns()).map(c -> col(c).as(prefix + c)).toArray(Column[]::new));
    }

    static void stage(TableCommitter committer, String table, Dataset<Row> rows) {
        long t = System.nanoTime();
        rows.write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(table));
        LOG.info("audit: {} staged in {} s", table, since(t));
    }

    static Dataset<Row> staged(SparkSession spark, TableCommitter committer, String table) {
        return committer.uncommitted(table);
    }

    /**
     * Writes a large check table (n rows or more) straight into its Delta table, with no staged
     * copy for the commit to rewrite; it becomes current with the others at the commit.
     */
    static void written(TableCommitter committer, String table, Dataset<Row> rows) {
        committer.write(table, rows, Map.of());
    }

    private static AuditThresholds readThresholds(String file, HadoopConf hadoop) {
        if (file == null) {
            return AuditThresholds.none();
        }
        Path p = new Path(file);
        try (Reader r = new InputStreamReader(fs(p, hadoop).open(p), StandardCharsets.UTF_8)) {
            return AuditThresholds.read(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --thresholds " + file + ": " + e.getMessage(), e);
        }
    }

    private static void write(FileSystem fs, Path p, byte[] bytes) throws IOException {
        FileSystem target = fs instanceof org.apache.hadoop.fs.LocalFileSystem local ? local.getRaw() : fs;
        try (FSDataOutputStream out = target.create(p, true)) {
            out.write(bytes);
        }
    }

    private static FileSystem fs(Path p, HadoopConf hadoop) {
        try {
            return p.getFileSystem(hadoop.get());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + p + ": " + e.getMessage(), e);
        }
    }

    /** Runs one step of the audit and records its seconds under {@code step}. */
    private static <T> T timed(Map<String, Double> seconds, String step, java.util.function.Supplier<T> body) {
        long t = System.nanoTime();
        T result = body.get();
        seconds.put(step, since(t));
        return result;
    }

    private static void timed(Map<String, Double> seconds, String step, Runnable body) {
        timed(seconds, step, () -> {
            body.run();
            return null;
        });
    }

    private static double since(long t) {
        return Math.round((System.nanoTime() - t) / 1e7) / 100.0;
    }
}
