package io.cnnlens.jobs.saliency;

import io.cnnlens.attribution.Saliency;
import io.cnnlens.attribution.SaliencyMethods;
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
import io.cnnlens.jobs.spark.InputRow;
import io.cnnlens.jobs.spark.Progress;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.WrittenTable;
import io.cnnlens.model.ClassTargets;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import io.cnnlens.plot.Heatmap;
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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;

/**
 * The saliency job: for every image (or a sample, or those whose path matches a pattern), the
 * chosen methods' maps for a target class (predicted, the label, or a given class), as Parquet
 * rows with an overlay PNG, an errors table, and a picture grid of images × methods. Methods are
 * in {@code io.cnnlens.attribution}; this class only reads, batches and writes. One pass: each
 * task holds one batch, its map rows stream into the table's Parquet writer and its bad inputs
 * into the errors channel; inputs = images with maps + error rows, counted from the written
 * tables before they are committed. Methods the model cannot run (guided backprop on a
 * TorchScript model) are left out with the reason.
 */
public final class SaliencyJob implements Job<SaliencyOptions> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SaliencyJob.class);

    public static final String TABLE = "saliency";
    public static final String ERRORS = "saliency_errors";
    public static final String PICTURES = "pictures/saliency";
    static final String PICTURE = "saliency-grid.png";
    /** Automatic partitioning gives a task at most this many images. */
    static final int IMAGES_PER_TASK = 512;

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
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
            DataTypes.createStructField("overlay", DataTypes.BinaryType, true)});

    /** What it did; {@code leftOut}: the methods asked for that the model cannot run, with the reason. */
    public record Summary(long inputs, long images, long rows, long errors, double seconds, Map<String, Double> secondsPerImage,
                          Map<String, String> leftOut, String table, String errorsTable, String picture) {
        public String line() {
            return String.format(Locale.ROOT, "saliency: inputs %d, images %d, rows %d, errors %d, %.1f s, %.2f images/s",
                    inputs, images, rows, errors, seconds, inputs / seconds);
        }

        /** What the user must be told: the methods the model could not run, and why. */
        public List<String> notes() {
            List<String> d = new ArrayList<>();
            leftOut.forEach((m, why) -> d.add("saliency: " + m + " left out: " + why));
            return d;
        }

        /** The lines printed after the summary. */
        public List<String> details() {
            List<String> d = new ArrayList<>();
            secondsPerImage.forEach((m, sec) -> d.add(String.format(Locale.ROOT, "saliency: %-21s %.4f s per image", m, sec)));
            d.add("saliency: " + table);
            d.add("errors:   " + errorsTable);
            d.add("picture:  " + picture);
            return d;
        }
    }

    public SaliencyJob() {
    }

    @Override
    public String name() {
        return "saliency";
    }

    @Override
    public String[] description() {
        return new String[] {
                "Saliency maps of every image (or a sample) for a target class: vanilla gradient, guided backprop, SmoothGrad, "
                        + "integrated gradients, occlusion and Shapley values.",
                "Writes <out>/saliency/ (image_id, path, label, method, target, target_index, target_probability, height, width, "
                        + "map, overlay PNG), <out>/saliency_errors/ (path, stage, reason) and "
                        + "<out>/pictures/saliency/saliency-grid.png (images × methods)."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return SaliencyOptions.KEYS;
    }

    @Override
    public SaliencyOptions options(OptionValues values) {
        return SaliencyOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, ERRORS, PICTURES);
    }

    /** Only when none of the methods asked for can run on this model (each one's reason). */
    @Override
    public Optional<String> cannotRun(JobContext context, SaliencyOptions options) {
        LoadedModel model = ExecutorRuntime.model(options.model(), context.spark().sparkContext().hadoopConfiguration(), true);
        Map<String, String> leftOut = leftOut(options.methods(), model.hasStages());
        if (leftOut.size() < options.methods().size()) {
            return Optional.empty();
        }
        return Optional.of("model " + model.spec().name() + " cannot run any of the methods asked for: " + String.join("; ", leftOut.values()));
    }

    @Override
    public JobResult run(JobContext context, SaliencyOptions options) {
        Summary s = run(context.spark(), options);
        return new JobResult(s.line(), s.details(), s.notes());
    }

    /** The methods asked for that a model cannot run, each with its reason, in the order asked. */
    static Map<String, String> leftOut(List<String> methods, boolean hasStages) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String m : methods) {
            SaliencyMethods.byName(m).flatMap(r -> r.unsupportedReason(hasStages)).ifPresent(why -> out.put(m, why));
        }
        return out;
    }

    /** Its section of the report. */
    @Override
    public Optional<Section> report(ReportContext report) {
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

    public static Summary run(SparkSession spark, SaliencyOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
        ModelSpec spec = model.spec();
        Map<String, String> leftOut = leftOut(s.methods(), model.hasStages());
        List<String> names = s.methods().stream().filter(m -> !leftOut.containsKey(m)).toList();
        if (names.isEmpty()) {
            throw new IllegalArgumentException("model " + spec.name() + " cannot run any of the methods asked for: "
                    + String.join("; ", leftOut.values()));
        }
        List<Saliency> methods = s.saliency().create(names);
        Target target = Target.parse(s.target(), spec);
        ChosenInputs chosen = ChosenInputs.of(spark, s.input().images(), s.input().source(), s.pathPattern(), s.sample());
        long n = chosen.count();
        if (n == 0) {
            throw new IllegalArgumentException("no input images under " + s.input().images()
                    + (s.pathPattern() == null ? "" : " matching '" + s.pathPattern() + "'"));
        }
        int partitions = chosen.partitions(spark, IMAGES_PER_TASK, s.partitions());
        Map<String, LongAccumulator> nanos = new LinkedHashMap<>();
        for (Saliency m : methods) {
            nanos.put(m.name(), spark.sparkContext().longAccumulator("saliency " + m.name()));
        }
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "saliency")) {
            ErrorChannel channel = ErrorChannel.open(committer, ERRORS, hadoop);
            String table = committer.staging(TABLE);
            try (Progress progress = Progress.start(spark, "saliency", n)) {
                JavaRDD<Row> rows = chosen.rows().repartition(partitions).javaRDD()
                        .mapPartitions(new Partition(s, names, hadoop, target, nanos, channel, progress.counter()));
                spark.createDataFrame(rows, SCHEMA).write().mode(SaveMode.ErrorIfExists).parquet(table);
            }
            // the memory bench (tests/bench/saliency-memory.sh) splits its samples at this line
            LOG.info("pass done: {} inputs in {} partitions, maps written in {} s; counting and drawing the picture", n, partitions,
                    String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
            long errors = channel.commitTable(spark, committer);
            Dataset<Row> written = spark.read().schema(SCHEMA).parquet(table);
            long rows = written.count();
            // every image has one row per method: the images are counted from each method's rows,
            // not by grouping the table by image (a distinct over every path)
            WrittenTable.ImageCount count = WrittenTable.images(written, "method", methods.stream().map(Saliency::name).toList());
            long images = count.images();
            if (images < 0 || rows != images * methods.size() || images + errors != n) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but "
                        + (images < 0 ? "rows per method " + count.rows() : images + " images") + " with maps ("
                        + rows + " rows for " + methods.size() + " methods) + " + errors + " errors; nothing was committed");
            }
            committer.writeFile(PICTURES, PICTURE, PngWriter.encode(grid(written, chosen, methods, s, spec, hadoop)));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            Map<String, Double> per = new LinkedHashMap<>();
            nanos.forEach((k, v) -> per.put(k, images == 0 ? Double.NaN : v.value() / 1e9 / images));
            return new Summary(n, images, rows, errors, (System.nanoTime() - t0) / 1e9, per, leftOut, committer.finalPath(TABLE),
                    committer.finalPath(ERRORS), committer.finalPath(PICTURES) + "/" + PICTURE);
        }
    }

    /** The target class rule: the predicted class, the image's label, or one fixed class. */
    record Target(String kind, int index) implements java.io.Serializable {
        static Target parse(String t, ModelSpec spec) {
            String v = t == null ? "predicted" : t.strip();
            if (v.equals("predicted") || v.equals("label")) {
                return new Target(v, -1);
            }
            return new Target("class", ClassTargets.index(v, spec.labels(), "predicted", "label"));
        }
    }

    /** One decoded input: path, label, content id, model pixels, target index (−1: the predicted class). */
    record Item(String path, String label, String id, Pixels pixels, int target) {
    }

    /**
     * Executor side: inputs decoded and batched lazily (one batch in memory), every method run on
     * each batch, one row per image and method; bad inputs (and, for the label target, images
     * without a known label) go to the errors channel.
     */
    static final class Partition implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;
        private final SaliencyOptions s;
        private final List<String> names;
        private final HadoopConf hadoop;
        private final Target target;
        private final Map<String, LongAccumulator> nanos;
        private final ErrorChannel channel;
        private final LongAccumulator progress;

        Partition(SaliencyOptions s, List<String> names, HadoopConf hadoop, Target target, Map<String, LongAccumulator> nanos,
                  ErrorChannel channel, LongAccumulator progress) {
            this.s = s;
            this.names = names;
            this.hadoop = hadoop;
            this.target = target;
            this.nanos = nanos;
            this.channel = channel;
            this.progress = progress;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
            ModelSpec spec = model.spec();
            List<Saliency> methods = s.saliency().create(names);
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder decoder = new ImageDecoder(s.input().maxPixels());
            int per = pre.floatsPerImage();
            ModelForward f = model.newForward();
            TaskContext tc = TaskContext.get();
            if (tc != null) {
                tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> f.close());
            }
            ImageBatches<Item> batches = new ImageBatches<>(rows, s.batchSize(), in -> decode(in, spec, pre, decoder),
                    channel.writer(), progress);
            return ImageBatches.flatten(batches, b -> runBatch(f, spec, methods, b, per));
        }

        private Item decode(InputRow in, ModelSpec spec, Preprocessor pre, ImageDecoder decoder) throws DecodeException {
            byte[] bytes = in.bytes(s.input().maxBytes(), hadoop.get());
            Pixels p = pre.modelPixels(decoder.decode(bytes, pre.decodeTarget()));
            int t = target.index();
            if (target.kind().equals("label")) {
                t = in.label() == null ? -1 : spec.labels().indexOf(in.label());
                if (t < 0) {
                    throw new DecodeException("target", in.label() == null ? "the image has no label (it is not in a class folder)"
                            : "label '" + in.label() + "' is not one of the model's classes");
                }
            }
            return new Item(in.path(), in.label(), ContentHash.of(bytes), p, t);
        }

        private List<Row> runBatch(ModelForward f, ModelSpec spec, List<Saliency> methods, List<Item> batch, int per) {
            int b = batch.size();
            float[] input = new float[b * per];
            int[] targets = new int[b];
            for (int i = 0; i < b; i++) {
                normalise(batch.get(i).pixels(), spec, input, i * per);
                targets[i] = batch.get(i).target();
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
                Item item = batch.get(i);
                Pixels p = item.pixels();
                float prob = (float) Predictions.softmaxAt(logits[i], targets[i]);
                String tName = spec.labels().get(targets[i]);
                for (int k = 0; k < methods.size(); k++) {
                    Saliency m = methods.get(k);
                    float[] map = maps.get(k)[i];
                    int scale = Math.max(1, 160 / Math.max(p.width(), p.height()));
                    byte[] overlay = PngWriter.encode(Heatmap.overlay(p, map, m.signed(), scale, m.name()));
                    out.add(RowFactory.create(item.id(), item.path(), item.label(), m.name(), tName, targets[i], prob, p.height(),
                            p.width(), map, overlay));
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
    }

    /** Images × methods: the input, then each method's overlay; the rows are read back from the written table. */
    private static BufferedImage grid(Dataset<Row> written, ChosenInputs chosen, List<Saliency> methods, SaliencyOptions s,
                                      ModelSpec spec, HadoopConf hadoop) {
        // the first images by path, as a distinct over the paths would give them, from a top-k query
        List<String> paths = WrittenTable.firstDistinct(written, "path", s.pictureImages(), methods.size());
        List<Row> rows = paths.isEmpty() ? List.of() : written.filter(col("path").isin(paths.toArray()))
                .select("path", "label", "method", "target", "target_probability", "overlay").collectAsList();
        Map<String, byte[]> inputs = chosen.bytesOf(paths, s.input().maxBytes(), hadoop.get());
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder decoder = new ImageDecoder(s.input().maxPixels());
        for (String path : paths) {
            List<ImageGrid.Tile> tiles = new ArrayList<>();
            String label = null;
            String tgt = null;
            float prob = 0;
            try {
                tiles.add(new ImageGrid.Tile(ImageGrid.toImage(pre.modelPixels(decoder.decode(inputs.get(path), pre.decodeTarget()))), "input", null));
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
