package io.cnnlens.jobs.saliency;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.attribution.Saliency;
import io.cnnlens.attribution.SaliencySettings;
import io.cnnlens.image.ContentHash;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import io.cnnlens.plot.Heatmap;
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
import org.apache.spark.util.LongAccumulator;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;

/**
 * The saliency job: for every image (or a sample, or those whose path matches a pattern), the
 * chosen methods' maps for a target class (predicted, the label, or a given class), as Parquet
 * rows with an overlay PNG, an errors table, and a picture grid of images × methods. Methods are
 * in {@code io.cnnlens.attribution}; this class only reads, batches and writes. Inputs = images
 * with maps + error rows, checked before the tables are committed.
 */
public final class SaliencyJob {

    public static final String TABLE = "saliency";
    public static final String ERRORS = "saliency_errors";
    public static final String PICTURES = "pictures/saliency";

    public static final StructType COMBINED = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("kind", DataTypes.StringType, false),
            DataTypes.createStructField("image_id", DataTypes.StringType, true),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("method", DataTypes.StringType, true),
            DataTypes.createStructField("target", DataTypes.StringType, true),
            DataTypes.createStructField("target_index", DataTypes.IntegerType, true),
            DataTypes.createStructField("target_probability", DataTypes.FloatType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("map", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("overlay", DataTypes.BinaryType, true),
            DataTypes.createStructField("stage", DataTypes.StringType, true),
            DataTypes.createStructField("reason", DataTypes.StringType, true)});

    static final String[] MAP_COLUMNS = {"image_id", "path", "label", "method", "target", "target_index", "target_probability",
            "height", "width", "map", "overlay"};
    static final String[] ERROR_COLUMNS = {"path", "stage", "reason"};

    /** What the job was asked to do. */
    public record Settings(String images, String out, String model, ImageSource.Options source, List<String> methods,
                           String target, SaliencySettings saliency, int sample, String pathPattern, int batchSize,
                           long maxPixels, int pictureImages, int partitions) implements java.io.Serializable {
    }

    /** What it did. */
    public record Summary(long inputs, long images, long rows, long errors, double seconds, Map<String, Double> secondsPerImage,
                          String table, String errorsTable, String picture) {
        public String line() {
            return String.format(Locale.ROOT, "saliency: inputs %d, images %d, rows %d, errors %d, %.1f s, %.2f images/s",
                    inputs, images, rows, errors, seconds, inputs / seconds);
        }
    }

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("saliency", "Saliency", "Images × methods for the target class.",
                report.table(TABLE).map(t -> List.of(saliencyImages(t))).orElse(List.of()));
    }

    private static Table saliencyImages(Dataset<Row> sal) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : sal.groupBy("method").agg(count("*"), avg("target_probability")).orderBy("method").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.number(String.valueOf(r.getLong(1))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.getDouble(2))))));
        }
        return new Table("maps", List.of("method", "images", "mean target probability"), rows, null);
    }

    private SaliencyJob() {
    }

    public static Summary run(SparkSession spark, Settings s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
        ModelSpec spec = model.spec();
        List<Saliency> methods = s.saliency().create(s.methods());
        for (Saliency m : methods) {
            if (m.name().equals("guided-backprop") && !model.hasStages()) {
                throw new IllegalArgumentException("guided-backprop needs the network as an ordered list of stages; model "
                        + spec.name() + " (TorchScript) does not expose them: leave it out of --methods");
            }
        }
        Target target = Target.parse(s.target(), spec);
        ImageSource.Inputs listed = ImageSource.read(spark, s.images(), s.source());
        Dataset<Row> inputs = listed.partitioned().apply(0);
        if (s.pathPattern() != null && !s.pathPattern().isBlank()) {
            inputs = inputs.filter(col("path").rlike(s.pathPattern()));
        }
        if (s.sample() > 0) {
            inputs = ImageSource.sample(inputs, s.sample());
        }
        long n = inputs.count();
        if (n == 0) {
            throw new IllegalArgumentException("no input images under " + s.images()
                    + (s.pathPattern() == null ? "" : " matching '" + s.pathPattern() + "'"));
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        int partitions = s.partitions() > 0 ? s.partitions() : (int) Math.max(1, Math.min(n / 8 + 1, (long) parallelism * 4));
        Map<String, LongAccumulator> nanos = new LinkedHashMap<>();
        for (Saliency m : methods) {
            nanos.put(m.name(), spark.sparkContext().longAccumulator("saliency " + m.name()));
        }
        Dataset<Row> all = spark.createDataFrame(inputs.repartition(partitions).javaRDD()
                .mapPartitions(new Partition(s, hadoop, target, nanos)), COMBINED).persist(StorageLevel.MEMORY_AND_DISK());
        try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
            long rows = all.filter(col("kind").equalTo("ok")).count();
            long errors = all.filter(col("kind").equalTo("error")).count();
            long images = rows / methods.size();
            if (rows % methods.size() != 0 || images + errors != n) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + images + " images with maps + "
                        + errors + " errors; nothing was committed");
            }
            all.filter(col("kind").equalTo("ok")).selectExpr(MAP_COLUMNS).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(TABLE));
            all.filter(col("kind").equalTo("error")).selectExpr(ERROR_COLUMNS).coalesce(1).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(ERRORS));
            String picture = "saliency-grid.png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(grid(all, methods, s, spec, hadoop)));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            Map<String, Double> per = new LinkedHashMap<>();
            nanos.forEach((k, v) -> per.put(k, images == 0 ? Double.NaN : v.value() / 1e9 / images));
            return new Summary(n, images, rows, errors, (System.nanoTime() - t0) / 1e9, per, committer.finalPath(TABLE),
                    committer.finalPath(ERRORS), committer.finalPath(PICTURES) + "/" + picture);
        } finally {
            all.unpersist();
        }
    }

    /** The target class rule: the predicted class, the image's label, or one fixed class. */
    record Target(String kind, int index) implements java.io.Serializable {
        static Target parse(String t, ModelSpec spec) {
            String v = t == null ? "predicted" : t.strip();
            if (v.equals("predicted") || v.equals("label")) {
                return new Target(v, -1);
            }
            int i = spec.labels().indexOf(v);
            if (i < 0 && v.matches("\\d+")) {
                i = Integer.parseInt(v);
            }
            if (i < 0 || i >= spec.classes()) {
                throw new IllegalArgumentException("unknown target '" + v + "': use predicted, label, a class index 0.."
                        + (spec.classes() - 1) + " or one of the model's classes " + spec.labels().subList(0, Math.min(12, spec.classes()))
                        + (spec.classes() > 12 ? " …" : ""));
            }
            return new Target("class", i);
        }
    }

    /** Executor side: decode, batch, run every method on the batch, one row per image and method. */
    static final class Partition implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;
        private final Settings s;
        private final HadoopConf hadoop;
        private final Target target;
        private final Map<String, LongAccumulator> nanos;

        Partition(Settings s, HadoopConf hadoop, Target target, Map<String, LongAccumulator> nanos) {
            this.s = s;
            this.hadoop = hadoop;
            this.target = target;
            this.nanos = nanos;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
            ModelSpec spec = model.spec();
            List<Saliency> methods = s.saliency().create(s.methods());
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder decoder = new ImageDecoder(s.maxPixels());
            int per = pre.floatsPerImage();
            int batch = s.batchSize() > 0 ? s.batchSize() : 16;
            List<Row> out = new ArrayList<>();
            try (ModelForward f = model.newForward()) {
                List<Object[]> pending = new ArrayList<>(); // {path, label, id, modelPixels, int target}
                while (rows.hasNext() || !pending.isEmpty()) {
                    if (rows.hasNext()) {
                        Row r = rows.next();
                        String path = r.getString(0);
                        String label = r.isNullAt(1) ? null : r.getString(1);
                        try {
                            byte[] bytes = ImageBytes.read(path, r.isNullAt(2) ? -1 : r.getLong(2), r.isNullAt(3) ? null : (byte[]) r.get(3),
                                    ImageBytes.MAX_BYTES, hadoop.get());
                            Pixels p = pre.modelPixels(decoder.decode(bytes));
                            int t = target.index();
                            if (target.kind().equals("label")) {
                                t = label == null ? -1 : spec.labels().indexOf(label);
                                if (t < 0) {
                                    out.add(error(path, "target", label == null ? "the image has no label (it is not in a class folder)"
                                            : "label '" + label + "' is not one of the model's classes"));
                                    continue;
                                }
                            }
                            pending.add(new Object[] {path, label, ContentHash.of(bytes), p, t});
                        } catch (DecodeException e) {
                            out.add(error(path, e.stage(), e.getMessage()));
                        } catch (RuntimeException e) {
                            out.add(error(path, "decode", e.getClass().getSimpleName() + ": " + e.getMessage()));
                        }
                        if (pending.size() < batch && rows.hasNext()) {
                            continue;
                        }
                    }
                    if (!pending.isEmpty()) {
                        out.addAll(runBatch(f, spec, pre, methods, pending, per));
                        pending.clear();
                    }
                }
            }
            return out.iterator();
        }

        private List<Row> runBatch(ModelForward f, ModelSpec spec, Preprocessor pre, List<Saliency> methods, List<Object[]> batch, int per) {
            int b = batch.size();
            float[] input = new float[b * per];
            int[] targets = new int[b];
            for (int i = 0; i < b; i++) {
                Pixels p = (Pixels) batch.get(i)[3];
                normalise(p, spec, input, i * per);
                targets[i] = (Integer) batch.get(i)[4];
            }
            float[][] logits = f.run(input, b, List.of(spec.logitsTap()), List.of()).values(spec.logitsTap());
            for (int i = 0; i < b; i++) {
                if (targets[i] < 0) {
                    targets[i] = Predictions.argmax(logits[i]);
                }
            }
            List<Row> out = new ArrayList<>();
            List<float[][]> maps = new ArrayList<>();
            for (Saliency m : methods) {
                long t0 = System.nanoTime();
                maps.add(m.maps(f, input, b, targets));
                nanos.get(m.name()).add(System.nanoTime() - t0);
            }
            for (int i = 0; i < b; i++) {
                Object[] item = batch.get(i);
                Pixels p = (Pixels) item[3];
                float prob = (float) Predictions.softmaxAt(logits[i], targets[i]);
                String tName = spec.labels().get(targets[i]);
                for (int k = 0; k < methods.size(); k++) {
                    Saliency m = methods.get(k);
                    float[] map = maps.get(k)[i];
                    int scale = Math.max(1, 160 / Math.max(p.width(), p.height()));
                    byte[] overlay = PngWriter.encode(Heatmap.overlay(p, map, m.signed(), scale, m.name()));
                    out.add(RowFactory.create("ok", item[2], item[0], item[1], m.name(), tName, targets[i], prob, p.height(), p.width(),
                            map, overlay, null, null));
                }
            }
            return out;
        }

        private static void normalise(Pixels p, ModelSpec spec, float[] out, int off) {
            int plane = p.width() * p.height();
            for (int c = 0; c < spec.channels(); c++) {
                for (int i = 0; i < plane; i++) {
                    out[off + c * plane + i] = (p.data()[c * plane + i] / 255f - spec.mean()[c]) / spec.std()[c];
                }
            }
        }

        private static Row error(String path, String stage, String reason) {
            return RowFactory.create("error", null, path, null, null, null, null, null, null, null, null, null, stage, reason);
        }
    }

    /** Images × methods: the input, then each method's overlay. */
    private static BufferedImage grid(Dataset<Row> all, List<Saliency> methods, Settings s, ModelSpec spec, HadoopConf hadoop) {
        List<Row> first = all.filter(col("kind").equalTo("ok")).select("path").distinct().orderBy("path").limit(s.pictureImages()).collectAsList();
        List<String> paths = new ArrayList<>();
        first.forEach(r -> paths.add(r.getString(0)));
        List<Row> rows = all.filter(col("kind").equalTo("ok").and(col("path").isin(paths.toArray())))
                .select("path", "label", "method", "target", "target_probability", "overlay").collectAsList();
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder decoder = new ImageDecoder(s.maxPixels());
        for (String path : paths) {
            List<ImageGrid.Tile> tiles = new ArrayList<>();
            String label = null;
            String tgt = null;
            float prob = 0;
            try {
                tiles.add(new ImageGrid.Tile(ImageGrid.toImage(pre.modelPixels(decoder.decode(
                        ImageBytes.read(path, -1, null, ImageBytes.MAX_BYTES, hadoop.get())))), "input", null));
            } catch (Exception e) {
                tiles.add(null);
            }
            for (Saliency m : methods) {
                for (Row r : rows) {
                    if (r.getString(0).equals(path) && r.getString(2).equals(m.name())) {
                        label = r.getString(1);
                        tgt = r.getString(3);
                        prob = r.getFloat(4);
                        tiles.add(new ImageGrid.Tile(PngWriter.decode((byte[]) r.get(5)), null, null));
                    }
                }
            }
            labels.add(String.format(Locale.ROOT, "%s → %s %.2f", label == null ? "?" : label, tgt, prob));
            grid.add(tiles);
        }
        return ImageGrid.render("saliency maps (rows: label → target class, its probability; columns: input, then one method each)", labels, grid, 200);
    }
}
