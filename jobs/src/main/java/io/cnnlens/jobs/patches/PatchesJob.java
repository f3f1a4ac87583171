package io.cnnlens.jobs.patches;

import io.cnnlens.jobs.ReportContext;
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
 * merge in a tree, so only channels × K hits reach the driver. Pass 2 reads just the images of
 * those hits and crops them. Writes {@code <out>/patches/} and {@code <out>/pictures/patches/}.
 */
public final class PatchesJob {

    public static final String TABLE = "patches";
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

    /** What the job was asked to do. */
    public record Settings(String features, String out, String model, String layer, int[] channels, int k,
                           int batchSize, long maxPixels, int partitions) {
    }

    /** What it did. */
    public record Summary(long inputs, long scanned, long errors, long rows, double seconds, String table, String picture,
                          String note) {
        public String line() {
            return String.format(Locale.ROOT, "patches: inputs %d, scanned %d, errors %d, rows %d, %.1f s, %.1f images/s",
                    inputs, scanned, errors, rows, seconds, inputs / seconds);
        }
    }

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("patches", "Maximally activating patches",
                "Per channel, the images with the highest activation over the collection, cropped to the receptive field.", List.of());
    }

    private PatchesJob() {
    }

    public static Summary run(SparkSession spark, Settings s) {
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
        if (s.k() < 1) {
            throw new IllegalArgumentException("--top must be at least 1");
        }
        Dataset<Row> images = TableReader.read(spark, s.features(), "image_id", "path")
                .select("image_id", "path").dropDuplicates("image_id");
        long n = images.count();
        if (n == 0) {
            throw new IllegalArgumentException("the features table at " + s.features() + " has no rows: nothing to mine");
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        int partitions = s.partitions() > 0 ? s.partitions() : (int) Math.max(1, Math.min(n / 64 + 1, (long) parallelism * 4));
        LongAccumulator errors = spark.sparkContext().longAccumulator("patches errors");
        JavaRDD<Row> rows = images.javaRDD().repartition(partitions);
        TopActivations top = rows.mapPartitions(new Scan(s.model(), hadoop, layer, channels, s.k(), s.batchSize(),
                s.maxPixels(), errors)).treeReduce(TopActivations::merge);

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
        List<Row> patches = new ArrayList<>(rows.mapPartitions(new Crop(s.model(), hadoop, layer, field, s.maxPixels(), wb))
                .collect());
        wb.destroy();
        patches.sort(java.util.Comparator.<Row>comparingInt(r -> indexOf(channels, r.getInt(1))).thenComparingInt(r -> r.getInt(2)));

        try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
            spark.createDataFrame(patches, SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists)
                    .parquet(committer.staging(TABLE));
            String picture = "patches-" + FileNames.safe(layer) + ".png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(grid(layer, field, channels, patches, s.k())));
            committer.commit(List.of(TABLE, PICTURES));
            long err = errors.value();
            String note = n - err < s.k() ? String.format(Locale.ROOT,
                    "only %d image(s) could be scanned, so each channel has %d patch(es) instead of %d", n - err, n - err, s.k()) : null;
            return new Summary(n, n - err, err, patches.size(), (System.nanoTime() - t0) / 1e9,
                    committer.finalPath(TABLE), committer.finalPath(PICTURES) + "/" + picture, note);
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

    /** Pass 1: every image through the model; a heap per channel per partition. */
    static final class Scan implements FlatMapFunction<Iterator<Row>, TopActivations> {
        private static final long serialVersionUID = 1L;
        private final String modelLocation;
        private final HadoopConf hadoop;
        private final String layer;
        private final int[] channels;
        private final int k;
        private final int batchSize;
        private final long maxPixels;
        private final LongAccumulator errors;

        Scan(String modelLocation, HadoopConf hadoop, String layer, int[] channels, int k, int batchSize, long maxPixels,
             LongAccumulator errors) {
            this.modelLocation = modelLocation;
            this.hadoop = hadoop;
            this.layer = layer;
            this.channels = channels;
            this.k = k;
            this.batchSize = batchSize;
            this.maxPixels = maxPixels;
            this.errors = errors;
        }

        @Override
        public Iterator<TopActivations> call(Iterator<Row> rows) {
            LoadedModel model = ExecutorRuntime.model(modelLocation, hadoop.get(), false);
            ModelSpec spec = model.spec();
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder decoder = new ImageDecoder(maxPixels);
            int per = pre.floatsPerImage();
            int batch = batchSize > 0 ? batchSize : (model.device().isGpu() ? 256 : 64);
            TopActivations top = new TopActivations(channels, k);
            float[] input = new float[batch * per];
            String[] ids = new String[batch];
            String[] paths = new String[batch];
            try (ModelForward f = model.newForward()) {
                int b = 0;
                while (rows.hasNext() || b > 0) {
                    if (rows.hasNext()) {
                        Row r = rows.next();
                        try {
                            Pixels p = decoder.decode(ImageBytes.read(r.getString(1), -1, null, ImageBytes.MAX_BYTES, hadoop.get()));
                            pre.apply(p, input, b * per);
                            ids[b] = r.getString(0);
                            paths[b] = r.getString(1);
                            b++;
                        } catch (DecodeException | RuntimeException e) {
                            errors.add(1);
                        }
                        if (b < batch && rows.hasNext()) {
                            continue;
                        }
                    }
                    if (b == 0) {
                        continue;
                    }
                    ModelForward.Outputs o = f.run(input, b, List.of(layer), List.of());
                    int[] sh = o.shape(layer);
                    float[][] maps = o.values(layer);
                    for (int i = 0; i < b; i++) {
                        top.offerMap(maps[i], 0, sh[1], sh[2], ids[i], paths[i]);
                    }
                    b = 0;
                    TaskContext tc = TaskContext.get();
                    if (tc != null && tc.isInterrupted()) {
                        break;
                    }
                }
            }
            return List.of(top).iterator();
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
        private final Broadcast<Map<String, List<Object[]>>> wanted;

        Crop(String modelLocation, HadoopConf hadoop, String layer, ReceptiveField.Field field, long maxPixels,
             Broadcast<Map<String, List<Object[]>>> wanted) {
            this.modelLocation = modelLocation;
            this.hadoop = hadoop;
            this.layer = layer;
            this.field = field;
            this.maxPixels = maxPixels;
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
                    p = pre.modelPixels(decoder.decode(ImageBytes.read(r.getString(1), -1, null, ImageBytes.MAX_BYTES, hadoop.get())));
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
