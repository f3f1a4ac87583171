package io.cnnlens.jobs.adversarial;

import io.cnnlens.adversarial.Attack;
import io.cnnlens.adversarial.FoolingImages;
import io.cnnlens.adversarial.Pgd;
import io.cnnlens.adversarial.PixelSpace;
import io.cnnlens.image.ContentHash;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.ChosenInputs;
import io.cnnlens.jobs.spark.ErrorChannel;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBatches;
import io.cnnlens.jobs.spark.ModelPixels;
import io.cnnlens.jobs.spark.Progress;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.WrittenTable;
import io.cnnlens.model.ClassTargets;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import io.cnnlens.plot.ImageGrid;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

/**
 * The fool job: for each image and target, the lecture's fooling image (normalised-gradient
 * steps until the model says the target) and PGD within an L∞ ε (untargeted, and targeted). Rows
 * with success, steps, norms (0..255 pixel units), the target's probability and the adversarial
 * image; an errors table; a picture of original | perturbation (magnified) | adversarial. One
 * pass: each task holds one batch, its rows stream into the table's Parquet writer and its bad
 * inputs into the errors channel; the counts and per-method figures are read back from the
 * written tables before they are committed.
 */
public final class FoolJob implements Job<FoolOptions> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FoolJob.class);

    public static final String TABLE = "fool";
    public static final String ERRORS = "fool_errors";
    public static final String PICTURES = "pictures/fool";
    static final String PICTURE = "fool-grid.png";
    public static final List<String> METHODS = List.of("fool", "pgd", "pgd-targeted");
    /** Automatic partitioning gives a task at most this many images. */
    static final int IMAGES_PER_TASK = 512;

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.StringType, true),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("method", DataTypes.StringType, true),
            DataTypes.createStructField("original_pred", DataTypes.StringType, true),
            DataTypes.createStructField("target", DataTypes.StringType, true),
            DataTypes.createStructField("success", DataTypes.BooleanType, true),
            DataTypes.createStructField("steps", DataTypes.IntegerType, true),
            DataTypes.createStructField("l2", DataTypes.DoubleType, true),
            DataTypes.createStructField("linf", DataTypes.DoubleType, true),
            DataTypes.createStructField("target_probability", DataTypes.DoubleType, true),
            DataTypes.createStructField("adversarial_pred", DataTypes.StringType, true),
            DataTypes.createStructField("adversarial", DataTypes.BinaryType, true)});

    /** Per method: attempts, success rate, median steps, median L2 and L∞. */
    public record MethodSummary(String method, long attempts, double successRate, double medianSteps, double medianL2,
                                double medianLinf) {
        public String line() {
            return String.format(Locale.ROOT, "fool: %-13s attempts %d, success rate %.3f, median steps %.0f, median L2 %.1f, median L∞ %.1f",
                    method, attempts, successRate, medianSteps, medianL2, medianLinf);
        }
    }

    /** What it did. */
    public record Summary(long inputs, long images, long rows, long errors, double seconds, List<MethodSummary> methods,
                          String table, String errorsTable, String picture) {
        public String line() {
            return String.format(Locale.ROOT, "fool: inputs %d, images %d, rows %d, errors %d, %.1f s, %.2f images/s",
                    inputs, images, rows, errors, seconds, inputs / seconds);
        }

        /** The lines printed after the summary. */
        public List<String> details() {
            List<String> d = new ArrayList<>();
            methods.forEach(m -> d.add(m.line()));
            d.add("fool:    " + table);
            d.add("picture: " + picture);
            return d;
        }
    }

    public FoolJob() {
    }

    @Override
    public String name() {
        return "fool";
    }

    @Override
    public String[] description() {
        return new String[] {
                "Per image and target class: the lecture's fooling image (normalised-gradient steps on the target score until "
                        + "the model predicts it) and PGD within an L∞ ε (untargeted and targeted). Norms in 0..255 pixel units.",
                "Writes <out>/fool/ (image_id, path, label, method, original_pred, target, success, steps, l2, linf, "
                        + "target_probability, adversarial_pred, adversarial PNG), <out>/fool_errors/ and "
                        + "<out>/pictures/fool/fool-grid.png."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return FoolOptions.KEYS;
    }

    @Override
    public FoolOptions options(OptionValues values) {
        return FoolOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, ERRORS, PICTURES);
    }

    @Override
    public JobResult run(JobContext context, FoolOptions options) {
        Summary s = run(context.spark(), options);
        return new JobResult(s.line(), s.details());
    }

    /** Its section of the report. */
    @Override
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("fool", "Fooling images", "Original | perturbation (magnified) | adversarial, with predictions.",
                report.table(TABLE).map(t -> List.of(fooling(t))).orElse(List.of()));
    }

    private static Table fooling(Dataset<Row> f) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : f.groupBy("method").agg(count("*"), avg(expr("CASE WHEN success THEN 1.0D ELSE 0.0D END")),
                expr("percentile_approx(steps, 0.5)"), expr("percentile_approx(l2, 0.5)"), expr("percentile_approx(linf, 0.5)"))
                .orderBy("method").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.number(String.valueOf(r.getLong(1))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.getDouble(2))), Cell.number(String.valueOf(r.get(3))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.getDouble(4))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.getDouble(5))))));
        }
        return new Table("attacks", List.of("method", "attempts", "success rate", "median steps", "median L2", "median L∞"), rows,
                "Norms in 0..255 pixel units.");
    }

    public static Summary run(SparkSession spark, FoolOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        ModelSpec spec = ExecutorRuntime.model(s.model(), hadoop.get(), true).spec();
        int[] fixedTargets = targets(s.target(), spec);
        ChosenInputs chosen = ChosenInputs.of(spark, s.input().images(), s.input().source(), null, s.sample());
        long n = chosen.count();
        if (n == 0) {
            throw new IllegalArgumentException("no input images under " + s.input().images());
        }
        int partitions = chosen.partitions(spark, IMAGES_PER_TASK, s.partitions());
        int targetCount = fixedTargets == null ? 1 : fixedTargets.length;
        long rowsPerImage = s.methods().stream().mapToLong(m -> m.equals("pgd") ? 1 : targetCount).sum();
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "fool")) {
            ErrorChannel channel = ErrorChannel.open(committer, ERRORS, hadoop);
            String table = committer.staging(TABLE);
            try (Progress progress = Progress.start(spark, "fool", n)) {
                JavaRDD<Row> rows = chosen.rows().repartition(partitions).javaRDD()
                        .mapPartitions(new Partition(s, hadoop, fixedTargets, channel, progress.counter()));
                spark.createDataFrame(rows, SCHEMA).write().mode(SaveMode.ErrorIfExists).parquet(table);
            }
            LOG.info("pass done: {} inputs in {} partitions, rows written in {} s; counting and drawing the picture", n, partitions,
                    String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
            long errors = channel.commitTable(spark, committer);
            Dataset<Row> written = spark.read().schema(SCHEMA).parquet(table);
            // the pass wrote this many rows per method (as rowsPerImage counts them): the images
            // are counted from each method's rows, not by grouping the table by image
            List<String> rowsOfAnImage = new ArrayList<>();
            for (String m : s.methods()) {
                rowsOfAnImage.addAll(java.util.Collections.nCopies(m.equals("pgd") ? 1 : targetCount, m));
            }
            long rows = written.count();
            WrittenTable.ImageCount count = WrittenTable.images(written, "method", rowsOfAnImage);
            long images = count.images();
            if (images < 0 || images + errors != n || rows != images * rowsPerImage) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but "
                        + (images < 0 ? "rows per method " + count.rows() : images + " images") + " (" + rows
                        + " rows, " + rowsPerImage + " per image) + " + errors + " errors; nothing was committed");
            }
            List<MethodSummary> ms = methodSummaries(written, s.methods());
            committer.writeFile(PICTURES, PICTURE, PngWriter.encode(grid(written, chosen, s, spec, hadoop, rowsPerImage)));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            return new Summary(n, images, rows, errors, (System.nanoTime() - t0) / 1e9, ms, committer.finalPath(TABLE),
                    committer.finalPath(ERRORS), committer.finalPath(PICTURES) + "/" + PICTURE);
        }
    }

    /**
     * Attempts, success rate and the medians (the value at index ⌊n/2⌋ of the sorted values) per
     * method, computed by Spark from the written table: nothing of it is collected but the
     * figures.
     */
    static List<MethodSummary> methodSummaries(Dataset<Row> written, List<String> methods) {
        // attempts and successes of each method in one keyless pass (no grouping: no hash map)
        List<String> distinct = methods.stream().distinct().toList();
        List<org.apache.spark.sql.Column> conditions = new ArrayList<>();
        for (String m : distinct) {
            conditions.add(col("method").equalTo(m));
            conditions.add(col("method").equalTo(m).and(col("success")));
        }
        long[] tally = WrittenTable.countsWhere(written, conditions);
        Map<String, long[]> counts = new HashMap<>();
        for (int i = 0; i < distinct.size(); i++) {
            counts.put(distinct.get(i), new long[] {tally[2 * i], tally[2 * i + 1]});
        }
        Map<String, Map<String, Double>> medians = new HashMap<>();
        for (String c : List.of("steps", "l2", "linf")) {
            Dataset<Row> ranked = written.select(col("method"), col(c).cast(DataTypes.DoubleType).as("v"),
                    row_number().over(Window.partitionBy("method").orderBy(c)).as("rank"),
                    count(lit(1)).over(Window.partitionBy("method")).as("n"));
            for (Row r : ranked.filter(expr("rank = floor(n / 2) + 1")).select("method", "v").collectAsList()) {
                medians.computeIfAbsent(r.getString(0), k -> new HashMap<>()).put(c, r.getDouble(1));
            }
        }
        List<MethodSummary> out = new ArrayList<>();
        for (String m : methods) {
            long[] k = counts.getOrDefault(m, new long[2]);
            Map<String, Double> med = medians.getOrDefault(m, Map.of());
            out.add(new MethodSummary(m, k[0], k[0] == 0 ? Double.NaN : (double) k[1] / k[0], med.getOrDefault("steps", Double.NaN),
                    med.getOrDefault("l2", Double.NaN), med.getOrDefault("linf", Double.NaN)));
        }
        return out;
    }

    /** Fixed target classes, or null for "least likely" (per image). */
    static int[] targets(String t, ModelSpec spec) {
        String v = t == null ? "least-likely" : t.strip();
        if (v.equals("least-likely")) {
            return null;
        }
        return ClassTargets.indices(v, spec.labels(), "least-likely");
    }

    /** Executor side: inputs decoded and batched lazily (one batch in memory), every attack on each batch. */
    static final class Partition implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;
        private final FoolOptions s;
        private final HadoopConf hadoop;
        private final int[] fixedTargets;
        private final ErrorChannel channel;
        private final LongAccumulator progress;

        Partition(FoolOptions s, HadoopConf hadoop, int[] fixedTargets, ErrorChannel channel, LongAccumulator progress) {
            this.s = s;
            this.hadoop = hadoop;
            this.fixedTargets = fixedTargets;
            this.channel = channel;
            this.progress = progress;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
            ModelSpec spec = model.spec();
            PixelSpace ps = new PixelSpace(spec);
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder decoder = new ImageDecoder(s.input().maxPixels());
            ModelForward f = model.newForward();
            TaskContext tc = TaskContext.get();
            if (tc != null) {
                tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> f.close());
            }
            ImageBatches<ModelPixels> batches = new ImageBatches<>(rows, s.batchSize(), in -> {
                byte[] bytes = in.bytes(s.input().maxBytes(), hadoop.get());
                return new ModelPixels(in.path(), in.label(), ContentHash.of(bytes), pre.modelPixels(decoder.decode(bytes, pre.decodeTarget())).data());
            }, channel.writer(), progress);
            return ImageBatches.flatten(batches, b -> attack(f, ps, spec, b));
        }

        private List<Row> attack(ModelForward f, PixelSpace ps, ModelSpec spec, List<ModelPixels> items) {
            int n = items.size();
            int per = ps.perImage();
            float[] x = new float[n * per];
            for (int i = 0; i < n; i++) {
                System.arraycopy(items.get(i).pixels(), 0, x, i * per, per);
            }
            float[][] logits = ps.logits(f, x, n);
            int[] pred = new int[n];
            int[] least = new int[n];
            for (int i = 0; i < n; i++) {
                pred[i] = Predictions.argmax(logits[i]);
                least[i] = Predictions.argmin(logits[i]);
            }
            List<int[]> targetSets = new ArrayList<>();
            if (fixedTargets == null) {
                targetSets.add(least);
            } else {
                for (int t : fixedTargets) {
                    int[] ts = new int[n];
                    java.util.Arrays.fill(ts, t);
                    targetSets.add(ts);
                }
            }
            List<Row> out = new ArrayList<>();
            double alpha = s.alpha() > 0 ? s.alpha() : s.epsilon() / 4;
            for (String method : s.methods()) {
                List<int[]> sets = method.equals("pgd") ? List.of(pred) : targetSets;
                for (int[] ts : sets) {
                    Attack[] r = switch (method) {
                        case "fool" -> new FoolingImages(s.step(), s.maxSteps()).run(f, ps, x, n, ts);
                        case "pgd" -> new Pgd(s.epsilon(), alpha, s.pgdSteps(), s.seed()).run(f, ps, x, n, ts, false);
                        default -> new Pgd(s.epsilon(), alpha, s.pgdSteps(), s.seed()).run(f, ps, x, n, ts, true);
                    };
                    for (int i = 0; i < n; i++) {
                        ModelPixels it = items.get(i);
                        String target = method.equals("pgd") ? "not " + spec.labels().get(pred[i]) : spec.labels().get(ts[i]);
                        out.add(RowFactory.create(it.imageId(), it.path(), it.label(), method, spec.labels().get(pred[i]), target,
                                r[i].success(), r[i].steps(), r[i].l2(), r[i].linf(), r[i].targetProbability(),
                                spec.labels().get(r[i].predicted()), png(r[i].pixels(), spec)));
                    }
                }
            }
            return out;
        }
    }

    static byte[] png(float[] pixels, ModelSpec spec) {
        return PngWriter.encode(ImageGrid.toImage(new Pixels(spec.width(), spec.height(), spec.channels(), pixels)));
    }

    /** Rows: (image, method); columns: original | perturbation magnified | adversarial; read back from the written table. */
    private static BufferedImage grid(Dataset<Row> written, ChosenInputs chosen, FoolOptions s, ModelSpec spec, HadoopConf hadoop,
                                      long rowsPerImage) {
        // the first images by path, as a distinct over the paths would give them, from a top-k query
        List<String> paths = WrittenTable.firstDistinct(written, "path", s.pictureImages(), rowsPerImage);
        List<Row> rows = paths.isEmpty() ? List.of() : written.filter(col("path").isin(paths.toArray()))
                .orderBy("path", "method", "target").collectAsList();
        // the originals as the attacks saw them (model size and channels), from the inputs' bytes
        Map<String, BufferedImage> originals = new HashMap<>();
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder decoder = new ImageDecoder(s.input().maxPixels());
        chosen.bytesOf(paths, s.input().maxBytes(), hadoop.get()).forEach((path, bytes) -> {
            try {
                originals.put(path, PngWriter.decode(png(pre.modelPixels(decoder.decode(bytes, pre.decodeTarget())).data(), spec)));
            } catch (DecodeException | RuntimeException e) {
                // an empty tile
            }
        });
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        for (Row r : rows) {
            BufferedImage orig = originals.get(r.<String>getAs("path"));
            BufferedImage adv = PngWriter.decode(r.getAs("adversarial"));
            labels.add(String.format(Locale.ROOT, "%s → %s%s", r.<String>getAs("method"), r.<String>getAs("target"),
                    r.<Boolean>getAs("success") ? "" : " (failed)"));
            List<ImageGrid.Tile> tiles = new ArrayList<>();
            tiles.add(orig == null ? null : new ImageGrid.Tile(orig, "pred: " + r.<String>getAs("original_pred"), null));
            tiles.add(orig == null ? null : new ImageGrid.Tile(difference(orig, adv), String.format(Locale.ROOT, "L2 %.0f, L∞ %.0f",
                    r.<Double>getAs("l2"), r.<Double>getAs("linf")), null));
            tiles.add(new ImageGrid.Tile(adv, "pred: " + r.<String>getAs("adversarial_pred"), null));
            grid.add(tiles);
        }
        return ImageGrid.render("original | perturbation (magnified: grey = 0) | adversarial", labels, grid, 96);
    }

    /** 128 + δ·127/max|δ| per channel value. */
    static BufferedImage difference(BufferedImage a, BufferedImage b) {
        int w = a.getWidth();
        int h = a.getHeight();
        int max = 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int sh = 0; sh <= 16; sh += 8) {
                    max = Math.max(max, Math.abs(((b.getRGB(x, y) >> sh) & 0xff) - ((a.getRGB(x, y) >> sh) & 0xff)));
                }
            }
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int sh = 16; sh >= 0; sh -= 8) {
                    int d = ((b.getRGB(x, y) >> sh) & 0xff) - ((a.getRGB(x, y) >> sh) & 0xff);
                    rgb = (rgb << 8) | Math.max(0, Math.min(255, 128 + d * 127 / max));
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }
}
