package io.cnnlens.jobs.adversarial;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelPixels;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.adversarial.Attack;
import io.cnnlens.adversarial.FoolingImages;
import io.cnnlens.adversarial.Pgd;
import io.cnnlens.adversarial.PixelSpace;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import io.cnnlens.plot.ImageGrid;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;

/**
 * The fool job: for each image and target, the lecture's fooling image (normalised-gradient
 * steps until the model says the target) and PGD within an L∞ ε (untargeted, and targeted). Rows
 * with success, steps, norms (0..255 pixel units), the target's probability and the adversarial
 * image; an errors table; a picture of original | perturbation (magnified) | adversarial.
 */
public final class FoolJob {

    public static final String TABLE = "fool";
    public static final String ERRORS = "fool_errors";
    public static final String PICTURES = "pictures/fool";
    public static final List<String> METHODS = List.of("fool", "pgd", "pgd-targeted");

    public static final StructType COMBINED = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("kind", DataTypes.StringType, false),
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
            DataTypes.createStructField("original", DataTypes.BinaryType, true),
            DataTypes.createStructField("adversarial", DataTypes.BinaryType, true),
            DataTypes.createStructField("stage", DataTypes.StringType, true),
            DataTypes.createStructField("reason", DataTypes.StringType, true)});

    static final String[] ROW_COLUMNS = {"image_id", "path", "label", "method", "original_pred", "target", "success", "steps", "l2",
            "linf", "target_probability", "adversarial_pred", "adversarial"};

    /** What the job was asked to do. */
    public record Settings(String images, String out, String model, ImageSource.Options source, List<String> methods,
                           String target, double step, int maxSteps, double epsilon, double alpha, int pgdSteps, long seed,
                           int sample, int batchSize, long maxPixels, int pictureImages) implements Serializable {
    }

    /** Per method: attempts, success rate, median steps, median L2 and L∞. */
    public record MethodSummary(String method, long attempts, double successRate, double medianSteps, double medianL2,
                                double medianLinf) {
    }

    /** What it did. */
    public record Summary(long inputs, long images, long rows, long errors, double seconds, List<MethodSummary> methods,
                          String table, String picture) {
        public String line() {
            return String.format(Locale.ROOT, "fool: inputs %d, images %d, rows %d, errors %d, %.1f s, %.2f images/s",
                    inputs, images, rows, errors, seconds, inputs / seconds);
        }
    }

    /** Its section of the report. */
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

    private FoolJob() {
    }

    public static Summary run(SparkSession spark, Settings s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        ModelSpec spec = ExecutorRuntime.model(s.model(), hadoop.get(), true).spec();
        for (String m : s.methods()) {
            if (!METHODS.contains(m)) {
                throw new IllegalArgumentException("unknown attack '" + m + "'; known: " + METHODS);
            }
        }
        int[] fixedTargets = targets(s.target(), spec);
        Dataset<Row> inputs = ImageSource.read(spark, s.images(), s.source()).partitioned().apply(0);
        if (s.sample() > 0) {
            inputs = ImageSource.sample(inputs, s.sample());
        }
        long n = inputs.count();
        if (n == 0) {
            throw new IllegalArgumentException("no input images under " + s.images());
        }
        int partitions = (int) Math.max(1, Math.min(n / 16 + 1, (long) spark.sparkContext().defaultParallelism() * 4));
        Dataset<Row> all = spark.createDataFrame(inputs.repartition(partitions).javaRDD()
                .mapPartitions(new Partition(s, hadoop, fixedTargets)), COMBINED).persist(StorageLevel.MEMORY_AND_DISK());
        try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
            long rows = all.filter(col("kind").equalTo("ok")).count();
            long errors = all.filter(col("kind").equalTo("error")).count();
            long images = all.filter(col("kind").equalTo("ok")).select("path").distinct().count();
            if (images + errors != n) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + images + " images + " + errors
                        + " errors; nothing was committed");
            }
            all.filter(col("kind").equalTo("ok")).selectExpr(ROW_COLUMNS).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(TABLE));
            all.filter(col("kind").equalTo("error")).select("path", "stage", "reason").coalesce(1).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(ERRORS));
            String picture = "fool-grid.png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(grid(all, s)));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            List<MethodSummary> ms = new ArrayList<>();
            for (String m : s.methods()) {
                List<Row> r = all.filter(col("kind").equalTo("ok").and(col("method").equalTo(m))).select("success", "steps", "l2", "linf")
                        .collectAsList();
                double[] steps = r.stream().mapToDouble(x -> x.getInt(1)).sorted().toArray();
                double[] l2 = r.stream().mapToDouble(x -> x.getDouble(2)).sorted().toArray();
                double[] li = r.stream().mapToDouble(x -> x.getDouble(3)).sorted().toArray();
                long ok = r.stream().filter(x -> x.getBoolean(0)).count();
                ms.add(new MethodSummary(m, r.size(), r.isEmpty() ? Double.NaN : (double) ok / r.size(), median(steps), median(l2), median(li)));
            }
            return new Summary(n, images, rows, errors, (System.nanoTime() - t0) / 1e9, ms, committer.finalPath(TABLE),
                    committer.finalPath(PICTURES) + "/" + picture);
        } finally {
            all.unpersist();
        }
    }

    static double median(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
    }

    /** Fixed target classes, or null for "least likely" (per image). */
    static int[] targets(String t, ModelSpec spec) {
        String v = t == null ? "least-likely" : t.strip();
        if (v.equals("least-likely")) {
            return null;
        }
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].strip();
            int k = spec.labels().indexOf(p);
            if (k < 0 && p.matches("\\d+")) {
                k = Integer.parseInt(p);
            }
            if (k < 0 || k >= spec.classes()) {
                throw new IllegalArgumentException("unknown target class '" + p + "': use least-likely, class indices 0.."
                        + (spec.classes() - 1) + " or names of the model's classes");
            }
            out[i] = k;
        }
        return out;
    }

    static final class Partition implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;
        private final Settings s;
        private final HadoopConf hadoop;
        private final int[] fixedTargets;

        Partition(Settings s, HadoopConf hadoop, int[] fixedTargets) {
            this.s = s;
            this.hadoop = hadoop;
            this.fixedTargets = fixedTargets;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
            ModelSpec spec = model.spec();
            PixelSpace ps = new PixelSpace(spec);
            ImageDecoder decoder = new ImageDecoder(s.maxPixels());
            int batch = s.batchSize() > 0 ? s.batchSize() : 32;
            List<Row> out = new ArrayList<>();
            List<ModelPixels> pending = new ArrayList<>();
            try (ModelForward f = model.newForward()) {
                while (rows.hasNext() || !pending.isEmpty()) {
                    if (rows.hasNext()) {
                        ModelPixels p = ModelPixels.read(rows.next(), spec, decoder, hadoop);
                        if (!p.ok()) {
                            out.add(RowFactory.create("error", null, p.path(), p.label(), null, null, null, null, null, null, null, null,
                                    null, null, null, p.stage(), p.reason()));
                        } else {
                            pending.add(p);
                        }
                        if (pending.size() < batch && rows.hasNext()) {
                            continue;
                        }
                    }
                    if (!pending.isEmpty()) {
                        out.addAll(attack(f, ps, spec, pending));
                        pending.clear();
                    }
                }
            }
            return out.iterator();
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
                        out.add(RowFactory.create("ok", it.imageId(), it.path(), it.label(), method, spec.labels().get(pred[i]), target,
                                r[i].success(), r[i].steps(), r[i].l2(), r[i].linf(), r[i].targetProbability(),
                                spec.labels().get(r[i].predicted()), png(it.pixels(), spec), png(r[i].pixels(), spec), null, null));
                    }
                }
            }
            return out;
        }
    }

    static byte[] png(float[] pixels, ModelSpec spec) {
        return PngWriter.encode(ImageGrid.toImage(new Pixels(spec.width(), spec.height(), spec.channels(), pixels)));
    }

    /** Rows: (image, method); columns: original | perturbation magnified | adversarial. */
    private static BufferedImage grid(Dataset<Row> all, Settings s) {
        List<Row> first = all.filter(col("kind").equalTo("ok")).select("path").distinct().orderBy("path").limit(s.pictureImages())
                .collectAsList();
        List<String> paths = new ArrayList<>();
        first.forEach(r -> paths.add(r.getString(0)));
        List<Row> rows = all.filter(col("kind").equalTo("ok").and(col("path").isin(paths.toArray())))
                .orderBy("path", "method", "target").collectAsList();
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        for (Row r : rows) {
            BufferedImage orig = PngWriter.decode(r.getAs("original"));
            BufferedImage adv = PngWriter.decode(r.getAs("adversarial"));
            labels.add(String.format(Locale.ROOT, "%s → %s%s", r.<String>getAs("method"), r.<String>getAs("target"),
                    r.<Boolean>getAs("success") ? "" : " (failed)"));
            grid.add(List.of(new ImageGrid.Tile(orig, "pred: " + r.<String>getAs("original_pred"), null),
                    new ImageGrid.Tile(difference(orig, adv), String.format(Locale.ROOT, "L2 %.0f, L∞ %.0f", r.<Double>getAs("l2"),
                            r.<Double>getAs("linf")), null),
                    new ImageGrid.Tile(adv, "pred: " + r.<String>getAs("adversarial_pred"), null)));
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
