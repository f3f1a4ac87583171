package io.cnnlens.jobs.patches;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.ErrorChannel;
import io.cnnlens.jobs.spark.ImageBatches;
import io.cnnlens.jobs.spark.Progress;
import scala.Tuple2;
import java.util.Optional;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;

import io.cnnlens.activation.ReceptiveField;
import io.cnnlens.activation.TopActivations;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.image.Resize;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import io.cnnlens.jobs.spark.FileNames;

/**
 * The patches job: for one layer and a list of its channels, the K images whose activation
 * (spatial maximum of the channel) is highest over the whole collection, each cropped to the
 * receptive field of its maximum unit. Pass 1 runs the model over every image of the features
 * table, each partition keeping a bounded heap per channel ({@link TopActivations}); the heaps
 * merge in a tree, so only channels × K hits reach the driver. An image that cannot be re-read
 * goes to {@code <out>/patches_errors/}; inputs = scanned + errors, checked before the commit.
 * Pass 2 reads just the images of those hits and crops them. Writes {@code <out>/patches/} and
 * {@code <out>/pictures/patches/}.
 */
public final class PatchesJob implements Job<PatchesOptions> {

    public static final String NAME = "patches";
    public static final String TABLE = "patches";
    public static final String ERRORS = "patches_errors";
    public static final String PICTURES = "pictures/patches";

    public static final StructType BOX = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("x0", DataTypes.IntegerType, false),
            DataTypes.createStructField("y0", DataTypes.IntegerType, false),
            DataTypes.createStructField("x1", DataTypes.IntegerType, false),
            DataTypes.createStructField("y1", DataTypes.IntegerType, false)});

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("layer", DataTypes.StringType, false),
            DataTypes.createStructField("channel", DataTypes.IntegerType, false),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("image_id", DataTypes.StringType, false),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("activation", DataTypes.FloatType, false),
            DataTypes.createStructField("unit_y", DataTypes.IntegerType, false),
            DataTypes.createStructField("unit_x", DataTypes.IntegerType, false),
            DataTypes.createStructField("box", BOX, false),
            DataTypes.createStructField("patch", DataTypes.BinaryType, false)});

    /** What it did. */
    public record Summary(long inputs, long scanned, long errors, long rows, double seconds, String table, String picture,
                          String note, String errorsTable) {
        public String line() {
            return String.format(Locale.ROOT, "patches: inputs %d, scanned %d, errors %d, rows %d, %.1f s, %.1f images/s",
                    inputs, scanned, errors, rows, seconds, inputs / seconds);
        }
    }

    public PatchesJob() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "For a conv layer and its channels, find the top-K images by activation over the whole collection "
                        + "and crop each to the receptive field of its strongest unit.",
                "Writes <out>/patches/ (layer, channel, rank, image_id, path, activation, unit_y, unit_x, box, patch PNG), "
                        + "<out>/patches_errors/ (path, stage, reason: images that could not be re-read) "
                        + "and <out>/pictures/patches/patches-<layer>.png (one row per channel)."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return PatchesOptions.KEYS;
    }

    @Override
    public PatchesOptions options(OptionValues values) {
        return PatchesOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, ERRORS, PICTURES);
    }

    /**
     * The model must give the conv tap asked for ({@code --layer}, else the spec's
     * {@code taps.conv}) and its receptive field (the spec's {@code layers.geometry}); one forward
     * pass of a blank image tells which taps the model has.
     */
    @Override
    public Optional<String> cannotRun(JobContext context, PatchesOptions options) {
        LoadedModel model = ExecutorRuntime.model(options.model(), context.hadoop().get(), false);
        ModelSpec spec = model.spec();
        Map<String, int[]> taps;
        try (ModelForward f = model.newForward()) {
            taps = f.tapShapes();
        }
        List<String> conv = new ArrayList<>();
        taps.forEach((name, shape) -> {
            if (shape.length == 3) {
                conv.add(name);
            }
        });
        String has = conv.isEmpty() ? "it has no conv taps (its taps: " + String.join(", ", taps.keySet()) + ")"
                : "its conv taps: " + String.join(", ", conv);
        String layer = options.layer() == null ? spec.convTap() : options.layer();
        String asked = options.layer() == null ? "the spec's taps.conv" : "--layer";
        if (layer == null || layer.isEmpty()) {
            return Optional.of("model " + spec.name() + " names no conv tap (taps.conv) and no --layer was given; " + has);
        }
        int[] shape = taps.get(layer);
        if (shape == null) {
            return Optional.of("model " + spec.name() + " has no tap '" + layer + "' (" + asked + "); " + has);
        }
        if (shape.length != 3) {
            return Optional.of("tap '" + layer + "' (" + asked + ") of model " + spec.name() + " is not a conv layer (shape "
                    + java.util.Arrays.toString(shape) + " per image); " + has);
        }
        try {
            ReceptiveField.parse(spec.geometry()).of(layer);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        return Optional.empty();
    }

    @Override
    public JobResult run(JobContext context, PatchesOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = List.of("patches: " + s.table(), "errors:  " + s.errorsTable(), "picture: " + s.picture());
        return new JobResult(s.line(), details, s.note() == null ? List.of() : List.of("patches: note: " + s.note()));
    }

    /** Its section of the report. */
    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("patches", "Maximally activating patches",
                "Per channel, the images with the highest activation over the collection, cropped to the receptive field.", List.of());
    }

    public static Summary run(SparkSession spark, PatchesOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), false);
        ModelSpec spec = model.spec();
        String layer = s.layer() == null ? spec.convTap() : s.layer();
        ReceptiveField.Field field = ReceptiveField.parse(spec.geometry()).of(layer);
        int[] shape = model.convShape(layer);
        int[] channels = s.channels() == null || s.channels().length == 0 ? allChannels(shape[0]) : s.channels().clone();
        for (int c : channels) {
            if (c < 0 || c >= shape[0]) {
                throw new IllegalArgumentException("layer " + layer + " has channels 0.." + (shape[0] - 1) + "; there is no channel " + c);
            }
        }
        Dataset<Row> images = TableReader.read(spark, s.features(), "image_id", "path")
                .select("image_id", "path").dropDuplicates("image_id");
        long n = images.count();
        if (n == 0) {
            throw new IllegalArgumentException("the features table at " + s.features() + " has no rows: nothing to mine");
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        int partitions = s.partitions() > 0 ? s.partitions() : (int) Math.max(1, Math.min(n / 64 + 1, (long) parallelism * 4));
        JavaRDD<Row> rows = images.javaRDD().repartition(partitions);
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "patches")) {
            ErrorChannel channel = ErrorChannel.open(committer, ERRORS, hadoop);
            // pass 1: each partition's heaps and how many images it scanned, merged in a tree
            Tuple2<Long, TopActivations> scan;
            try (Progress progress = Progress.start(spark, NAME, n)) {
                scan = rows.mapPartitions(new Scan(s.model(), hadoop, layer, channels, s.k(), s.batchSize(), s.maxPixels(),
                        s.maxBytes(), channel, progress.counter())).treeReduce((a, b) -> new Tuple2<>(a._1() + b._1(), a._2().merge(b._2())));
            }
            long scanned = scan._1();
            TopActivations top = scan._2();
            long err = channel.commitTable(spark, committer);
            if (scanned + err != n) {
                throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + scanned + " scanned + " + err
                        + " errors; nothing was committed");
            }

            // pass 2: crop the winners
            Map<String, List<Object[]>> wanted = new HashMap<>();
            for (int i = 0; i < channels.length; i++) {
                List<TopActivations.Hit> hits = top.sorted(i);
                for (int r = 0; r < hits.size(); r++) {
                    TopActivations.Hit h = hits.get(r);
                    wanted.computeIfAbsent(h.imageId(), x -> new ArrayList<>()).add(new Object[] {channels[i], r, h});
                }
            }
            Broadcast<Map<String, List<Object[]>>> wb = spark.sparkContext().broadcast(wanted,
                    scala.reflect.ClassTag$.MODULE$.apply(Map.class));
            List<Row> patches;
            try {
                patches = new ArrayList<>(rows.mapPartitions(new Crop(s.model(), hadoop, layer, field, s.maxPixels(), s.maxBytes(), wb))
                        .collect());
            } finally {
                wb.destroy();
            }
            patches.sort(java.util.Comparator.<Row>comparingInt(r -> indexOf(channels, r.getInt(1))).thenComparingInt(r -> r.getInt(2)));

            spark.createDataFrame(patches, SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(TABLE));
            String picture = "patches-" + FileNames.safe(layer) + ".png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(grid(layer, field, channels, patches, s.k())));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            String note = scanned < s.k() ? String.format(Locale.ROOT,
                    "only %d image(s) could be scanned, so each channel has %d patch(es) instead of %d", scanned, scanned, s.k()) : null;
            return new Summary(n, scanned, err, patches.size(), (System.nanoTime() - t0) / 1e9,
                    committer.finalPath(TABLE), committer.finalPath(PICTURES) + "/" + picture, note, committer.finalPath(ERRORS));
        }
    }

    private static int[] allChannels(int c) {
        int[] out = new int[c];
        for (int i = 0; i < c; i++) {
            out[i] = i;
        }
        return out;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** One row per channel, K patches each, padded to the full receptive field. */
    private static BufferedImage grid(String layer, ReceptiveField.Field field, int[] channels, List<Row> patches, int k) {
        Map<Integer, List<ImageGrid.Tile>> byChannel = new java.util.LinkedHashMap<>();
        for (int c : channels) {
            byChannel.put(c, new ArrayList<>());
        }
        Map<Integer, Integer> active = new HashMap<>();
        for (Row r : patches) {
            int c = r.getInt(1);
            float a = r.getFloat(5);
            if (!(a > 0)) {
                // a ReLU unit at 0 did not fire: any image ties there, so its "patch" means nothing
                byChannel.get(c).add(null);
                continue;
            }
            active.merge(c, 1, Integer::sum);
            BufferedImage crop = PngWriter.decode((byte[]) r.get(9));
            Row box = r.getStruct(8);
            BufferedImage tile = new BufferedImage(field.size(), field.size(), BufferedImage.TYPE_INT_RGB);
            Graphics2D g = tile.createGraphics();
            g.setColor(new Color(128, 128, 128));
            g.fillRect(0, 0, field.size(), field.size());
            int[] full = field.box(r.getInt(6), r.getInt(7));
            g.drawImage(crop, box.getInt(0) - full[0], box.getInt(1) - full[1], null);
            g.dispose();
            byChannel.get(c).add(new ImageGrid.Tile(tile, String.format(Locale.ROOT, "%.2f", a), null));
        }
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> rows = new ArrayList<>();
        byChannel.forEach((c, tiles) -> {
            int fired = active.getOrDefault(c, 0);
            labels.add(fired == 0 ? "ch " + c + " (never active)"
                    : fired < tiles.size() ? "ch " + c + " (active on " + fired + " image" + (fired == 1 ? ")" : "s)")
                    : "ch " + c);
            rows.add(tiles);
        });
        int tile = Math.max(48, Math.min(96, field.size() * 2));
        return ImageGrid.render(String.format(Locale.ROOT, "%s: top-%d patches per channel (receptive field %d px, grey = outside the image)",
                layer, k, field.size()), labels, rows, tile);
    }

    /** One image ready for the model: its id and path, and its preprocessed floats. */
    private record Scanned(String id, String path, float[] input) {
    }

    /**
     * Pass 1: every image through the model, one batch in memory at a time ({@link ImageBatches});
     * a heap per channel per partition, and the count of images scanned. An image that cannot be
     * re-read goes to the errors channel.
     */
    static final class Scan implements FlatMapFunction<Iterator<Row>, Tuple2<Long, TopActivations>> {
        private static final long serialVersionUID = 1L;
        private final String modelLocation;
        private final HadoopConf hadoop;
        private final String layer;
        private final int[] channels;
        private final int k;
        private final int batchSize;
        private final long maxPixels;
        private final long maxBytes;
        private final ErrorChannel errors;
        private final LongAccumulator progress;

        Scan(String modelLocation, HadoopConf hadoop, String layer, int[] channels, int k, int batchSize, long maxPixels,
             long maxBytes, ErrorChannel errors, LongAccumulator progress) {
            this.modelLocation = modelLocation;
            this.hadoop = hadoop;
            this.layer = layer;
            this.channels = channels;
            this.k = k;
            this.batchSize = batchSize;
            this.maxPixels = maxPixels;
            this.maxBytes = maxBytes;
            this.errors = errors;
            this.progress = progress;
        }

        @Override
        public Iterator<Tuple2<Long, TopActivations>> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(modelLocation, hadoop.get(), false);
            ModelSpec spec = model.spec();
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder decoder = new ImageDecoder(maxPixels);
            org.apache.hadoop.conf.Configuration conf = hadoop.get();
            int per = pre.floatsPerImage();
            int batch = batchSize > 0 ? batchSize : (model.device().isGpu() ? 256 : 64);
            TopActivations top = new TopActivations(channels, k);
            // the features table's (image_id, path) as image inputs: the label slot carries the image id
            Iterator<Row> inputs = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    Row r = rows.next();
                    return RowFactory.create(r.getString(1), r.getString(0), null, null);
                }
            };
            ImageBatches<Scanned> batches = new ImageBatches<>(inputs, batch, in -> {
                float[] x = new float[per];
                pre.apply(decoder.decode(in.bytes(maxBytes, conf), pre.decodeTarget()), x, 0);
                return new Scanned(in.label(), in.path(), x);
            }, errors.writer(), progress);
            long scanned = 0;
            float[] input = new float[batch * per];
            try (ModelForward f = model.newForward()) {
                while (batches.hasNext()) {
                    List<Scanned> b = batches.next();
                    for (int i = 0; i < b.size(); i++) {
                        System.arraycopy(b.get(i).input(), 0, input, i * per, per);
                    }
                    ModelForward.Outputs o = f.run(input, b.size(), List.of(layer), List.of());
                    int[] sh = o.shape(layer);
                    float[][] maps = o.values(layer);
                    for (int i = 0; i < b.size(); i++) {
                        top.offerMap(maps[i], 0, sh[1], sh[2], b.get(i).id(), b.get(i).path());
                    }
                    scanned += b.size();
                    TaskContext tc = TaskContext.get();
                    if (tc != null && tc.isInterrupted()) {
                        throw new org.apache.spark.TaskKilledException("interrupted");
                    }
                }
            }
            return List.of(new Tuple2<>(scanned, top)).iterator();
        }
    }

    /** Pass 2: crop the receptive field of each winning unit from the model-input-sized image. */
    static final class Crop implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;
        private final String modelLocation;
        private final HadoopConf hadoop;
        private final String layer;
        private final ReceptiveField.Field field;
        private final long maxPixels;
        private final long maxBytes;
        private final Broadcast<Map<String, List<Object[]>>> wanted;

        Crop(String modelLocation, HadoopConf hadoop, String layer, ReceptiveField.Field field, long maxPixels, long maxBytes,
             Broadcast<Map<String, List<Object[]>>> wanted) {
            this.modelLocation = modelLocation;
            this.hadoop = hadoop;
            this.layer = layer;
            this.field = field;
            this.maxPixels = maxPixels;
            this.maxBytes = maxBytes;
            this.wanted = wanted;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            Map<String, List<Object[]>> w = wanted.value();
            List<Row> out = new ArrayList<>();
            Preprocessor pre = null;
            ImageDecoder decoder = new ImageDecoder(maxPixels);
            while (rows.hasNext()) {
                Row r = rows.next();
                List<Object[]> hits = w.get(r.getString(0));
                if (hits == null) {
                    continue;
                }
                if (pre == null) {
                    pre = new Preprocessor(ExecutorRuntime.model(modelLocation, hadoop.get(), false).spec());
                }
                Pixels p;
                try {
                    p = pre.modelPixels(decoder.decode(ImageBytes.read(r.getString(1), -1, null, maxBytes, hadoop.get()), pre.decodeTarget()));
                } catch (DecodeException | RuntimeException e) {
                    continue; // read in pass 1 but not now (changed or removed since): its hits are left out
                }
                for (Object[] hit : hits) {
                    TopActivations.Hit h = (TopActivations.Hit) hit[2];
                    int[] b = field.clippedBox(h.y(), h.x(), p.width(), p.height());
                    Pixels crop = Resize.crop(p, b[0], b[1], Math.max(1, b[2] - b[0]), Math.max(1, b[3] - b[1]));
                    out.add(RowFactory.create(layer, hit[0], hit[1], h.imageId(), r.getString(1), h.activation(), h.y(), h.x(),
                            RowFactory.create(b[0], b[1], b[2], b[3]), PngWriter.encode(ImageGrid.toImage(crop))));
                }
            }
            return out.iterator();
        }
    }
}
