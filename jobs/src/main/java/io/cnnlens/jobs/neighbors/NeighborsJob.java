package io.cnnlens.jobs.neighbors;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.ErrorChannel;
import io.cnnlens.jobs.spark.ErrorStash;
import io.cnnlens.jobs.spark.Progress;
import io.cnnlens.features.ErrorRow;
import io.cnnlens.image.DecodeException;
import java.util.Optional;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.BlockedKnn;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
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
import scala.Tuple2;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.cnnlens.stats.Permutations;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;

/**
 * The neighbors job: exact k nearest neighbours of every image (or a sample of queries) in FC7
 * space and, to compare, in pixel space (images stretched to one small size). Reference rows
 * and queries are cut into blocks; each (query block, reference block) pair is one matrix
 * product on an executor ({@link ExactKnn}), and the partial top-k lists of a query block merge
 * by key, so no all-pairs matrix exists anywhere and the driver sees only the picture's rows.
 * An image that cannot be re-read for pixel space goes to {@code <out>/neighbors_errors/} (it
 * stays in FC7 space); pixel-space images + errors = inputs, checked before the commit. Writes
 * {@code <out>/neighbors/} and {@code <out>/pictures/neighbors/neighbors.png}.
 */
public final class NeighborsJob implements Job<NeighborsOptions> {

    public static final String NAME = "neighbors";
    public static final String TABLE = "neighbors";
    public static final String ERRORS = "neighbors_errors";
    public static final String PICTURES = "pictures/neighbors";

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("space", DataTypes.StringType, false),
            DataTypes.createStructField("metric", DataTypes.StringType, false),
            DataTypes.createStructField("query_key", DataTypes.LongType, false),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("neighbor_key", DataTypes.LongType, false),
            DataTypes.createStructField("distance", DataTypes.FloatType, false)});

    public static final StructType META = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("key", DataTypes.LongType, false),
            DataTypes.createStructField("image_id", DataTypes.StringType, false),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true)});

    /** Per space and metric: mean label agreement of the k neighbours and kNN-k (majority) accuracy. */
    public record Agreement(String space, String metric, double labelAgreement, double knnAccuracy, long queries) {
    }

    /** What it did. */
    public record Summary(long inputs, long queries, long errors, long rows, double seconds, List<Agreement> agreement,
                          double searchSeconds, double flops, String table, String picture, String errorsTable) {
        public String line() {
            return String.format(Locale.ROOT, "neighbors: inputs %d, queries %d, errors %d, rows %d, %.1f s, %.1f queries/s",
                    inputs, queries, errors, rows, seconds, queries / seconds);
        }
    }

    /** One image as the search sees it. */
    record Item(long key, String id, String path, String label, float[] fc7, float[] pixels) implements Serializable {
    }


    public NeighborsJob() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "Exact k nearest neighbours of every image (or of a sample of queries) among all images, in FC7 space "
                        + "and in pixel space (images stretched to one small size), by blocked matrix products on executors.",
                "Writes <out>/neighbors/ (query_id, query_path, query_label, space, metric, rank, neighbor_id, neighbor_path, "
                        + "neighbor_label, distance), <out>/neighbors_errors/ (path, stage, reason: images pixel space could not "
                        + "re-read) and <out>/pictures/neighbors/neighbors.png; prints the kNN label agreement in each space."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return NeighborsOptions.KEYS;
    }

    @Override
    public NeighborsOptions options(OptionValues values) {
        return NeighborsOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, ERRORS, PICTURES);
    }

    @Override
    public JobResult run(JobContext context, NeighborsOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        for (Agreement a : s.agreement()) {
            details.add(String.format(Locale.ROOT, "neighbors: %-6s %-6s label agreement of the %d neighbours %.4f, kNN-%d accuracy %.4f (%d labelled queries)",
                    a.space(), a.metric(), options.k(), a.labelAgreement(), options.k(), a.knnAccuracy(), a.queries()));
        }
        details.add(String.format(Locale.ROOT, "neighbors: search %.1f s, %.1f GFLOP/s in the distance products",
                s.searchSeconds(), s.flops() / s.searchSeconds() / 1e9));
        details.add("neighbors: " + s.table());
        details.add("errors:    " + s.errorsTable());
        details.add("picture:   " + s.picture());
        return new JobResult(s.line(), details);
    }

    /** Its section of the report. */
    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("neighbors", "Nearest neighbours", "FC7 space against pixel space; green = same label as the query.",
                report.table(TABLE).map(t -> List.of(neighbours(t))).orElse(List.of()));
    }

    private static Table neighbours(Dataset<Row> nb) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : nb.filter(col("query_label").isNotNull().and(col("neighbor_label").isNotNull()))
                .groupBy("space", "metric").agg(avg(expr("CASE WHEN query_label = neighbor_label THEN 1.0D ELSE 0.0D END")), count("*"))
                .orderBy("space", "metric").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.text(r.getString(1)),
                    Cell.number(String.format(Locale.ROOT, "%.4f", r.getDouble(2))), Cell.number(String.valueOf(r.getLong(3))))));
        }
        return new Table("label agreement of neighbours", List.of("space", "metric", "same label", "pairs"), rows, null);
    }

    public static Summary run(SparkSession spark, NeighborsOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        ModelSpec spec = ModelLocator.load(s.model(), hadoop.get());
        int pixelSize = s.pixelSize() > 0 ? s.pixelSize() : Math.min(32, Math.min(spec.height(), spec.width()));
        int channels = spec.channels();
        Dataset<Row> df = TableReader.read(spark, s.features(), "image_id", "path", "label", "fc7")
                .select("image_id", "path", "label", "fc7");
        long n = df.count();
        if (n < 2) {
            throw new IllegalArgumentException("the features table at " + s.features() + " has " + n
                    + " image(s); neighbours need at least 2");
        }
        if (s.k() < 1 || s.k() >= n) {
            throw new IllegalArgumentException("k = " + s.k() + " but the collection has " + n + " images, so each has at most "
                    + (n - 1) + " neighbours: use --k between 1 and " + (n - 1));
        }
        long maxPixels = s.maxPixels();
        long maxBytes = s.maxBytes();
        boolean pixelSpace = s.pixelSpace();
        List<Runnable> unpersist = new ArrayList<>();
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "neighbors")) {
            ErrorChannel channel = ErrorChannel.open(committer, ERRORS, hadoop);
            JavaRDD<Item> items;
            try (Progress progress = Progress.start(spark, NAME, n)) {
                LongAccumulator done = progress.counter();
                items = df.javaRDD().zipWithIndex().mapPartitions((Iterator<Tuple2<Row, Long>> it) -> {
                    ImageDecoder decoder = new ImageDecoder(maxPixels);
                    ErrorStash.Writer errors = channel.writer();
                    List<Item> out = new ArrayList<>();
                    while (it.hasNext()) {
                        Tuple2<Row, Long> t = it.next();
                        Row r = t._1();
                        float[] pix = null;
                        if (pixelSpace) {
                            try {
                                pix = Preprocessor.pixelVector(decoder.decode(ImageBytes.read(r.getString(1), -1, null,
                                        maxBytes, hadoop.get())), channels, pixelSize);
                            } catch (DecodeException e) {
                                errors.add(new ErrorRow(r.getString(1), e.stage(), e.getMessage()));
                            } catch (RuntimeException e) {
                                errors.add(new ErrorRow(r.getString(1), "decode", e.getClass().getSimpleName() + ": " + e.getMessage()));
                            }
                        }
                        List<Float> f = r.getList(3);
                        float[] fc7 = new float[f.size()];
                        for (int i = 0; i < fc7.length; i++) {
                            fc7[i] = f.get(i);
                        }
                        out.add(new Item(t._2(), r.getString(0), r.getString(1), r.isNullAt(2) ? null : r.getString(2), fc7, pix));
                        done.add(1);
                    }
                    errors.publish();
                    return out.iterator();
                }).persist(StorageLevel.MEMORY_AND_DISK());
                JavaRDD<Item> persisted = items;
                unpersist.add(persisted::unpersist);
                items.count();
            }
            // counted once, from the table the pass wrote (a recomputed partition rewrites its own stash file)
            long errorCount = channel.commitTable(spark, committer);
            Set<Long> queryKeys = chooseQueries(items, s.queries(), s.seed(), n);
            Broadcast<Set<Long>> qb = queryKeys == null ? null
                    : spark.sparkContext().broadcast(queryKeys, scala.reflect.ClassTag$.MODULE$.apply(Set.class));
            long queries = queryKeys == null ? n : queryKeys.size();

            List<String> spaces = pixelSpace ? List.of("fc7", "pixels") : List.of("fc7");
            JavaRDD<Row> all = null;
            long tSearch = System.nanoTime();
            double flops = 0;
            for (String space : spaces) {
                boolean pix = space.equals("pixels");
                JavaRDD<Item> usable = items.filter(it -> (pix ? it.pixels() : it.fc7()) != null);
                long usableCount = usable.count();
                if (pix && usableCount + errorCount != n) {
                    throw new IllegalStateException("counts do not reconcile: " + n + " inputs but " + usableCount
                            + " images in pixel space + " + errorCount + " errors; nothing was committed");
                }
                if (usableCount < 2) {
                    continue; // e.g. no image could be re-read for pixel space: counted as errors
                }
                Item firstItem = usable.first();
                int d = (pix ? firstItem.pixels() : firstItem.fc7()).length;
                JavaRDD<BlockedKnn.Block> refs = blocks(usable, s.refBlock(), pix).persist(StorageLevel.MEMORY_AND_DISK());
                unpersist.add(refs::unpersist);
                JavaRDD<Item> qItems = qb == null ? usable : usable.filter(it -> qb.value().contains(it.key()));
                JavaRDD<BlockedKnn.Block> qs = blocks(qItems, s.queryBlock(), pix).persist(StorageLevel.MEMORY_AND_DISK());
                unpersist.add(qs::unpersist);
                long nRef = usableCount;
                long nQ = qItems.count();
                for (ExactKnn.Metric metric : s.metrics()) {
                    int k = s.k();
                    String m = metric.name().toLowerCase(Locale.ROOT);
                    JavaRDD<Row> rows = BlockedKnn.search(qs, refs, k, metric).flatMap(nb -> {
                        List<Row> out = new ArrayList<>();
                        nb.forEach((query, rank, neighbour, distance) ->
                                out.add(RowFactory.create(space, m, query, rank, neighbour, distance)));
                        return out.iterator();
                    });
                    all = all == null ? rows : all.union(rows);
                    flops += 2.0 * nQ * nRef * d;
                }
            }
            if (all == null) {
                throw new IllegalStateException("no space had two usable images");
            }
            Dataset<Row> raw = spark.createDataFrame(all, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
            unpersist.add(raw::unpersist);
            long rowCount = raw.count();
            double searchSeconds = (System.nanoTime() - tSearch) / 1e9;
            Dataset<Row> meta = spark.createDataFrame(items.map(it -> RowFactory.create(it.key(), it.id(), it.path(), it.label())), META);
            Dataset<Row> q = meta.select(col("key").as("query_key"), col("image_id").as("query_id"),
                    col("path").as("query_path"), col("label").as("query_label"));
            Dataset<Row> nb = meta.select(col("key").as("neighbor_key"), col("image_id").as("neighbor_id"),
                    col("path").as("neighbor_path"), col("label").as("neighbor_label"));
            Dataset<Row> joined = raw.join(q, "query_key").join(nb, "neighbor_key")
                    .select("query_id", "query_path", "query_label", "space", "metric", "rank", "neighbor_id",
                            "neighbor_path", "neighbor_label", "distance", "query_key", "neighbor_key")
                    .persist(StorageLevel.MEMORY_AND_DISK());
            unpersist.add(joined::unpersist);
            List<Agreement> agreement = agreement(joined, s.k());
            joined.drop("query_key", "neighbor_key").write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(TABLE));
            String picture = "neighbors.png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(picture(joined, s, hadoop)));
            committer.commit(List.of(TABLE, ERRORS, PICTURES));
            return new Summary(n, queries, errorCount, rowCount, (System.nanoTime() - t0) / 1e9, agreement,
                    searchSeconds, flops, committer.finalPath(TABLE), committer.finalPath(PICTURES) + "/" + picture,
                    committer.finalPath(ERRORS));
        } finally {
            for (int i = unpersist.size() - 1; i >= 0; i--) {
                unpersist.get(i).run();
            }
        }
    }

    /** The query keys: all (null), or the {@code count} keys with the smallest seeded hash of their image. */
    private static Set<Long> chooseQueries(JavaRDD<Item> items, int count, long seed, long n) {
        if (count <= 0 || count >= n) {
            return null;
        }
        List<Tuple2<Long, Long>> picked = items.map(it -> new Tuple2<>(Permutations.mix(seed, it.key()), it.key()))
                .takeOrdered(count, new HashOrder());
        Set<Long> keys = new HashSet<>();
        for (Tuple2<Long, Long> t : picked) {
            keys.add(t._2());
        }
        return keys;
    }

    static final class HashOrder implements java.util.Comparator<Tuple2<Long, Long>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Long, Long> a, Tuple2<Long, Long> b) {
            int c = Long.compare(a._1(), b._1());
            return c != 0 ? c : Long.compare(a._2(), b._2());
        }
    }

    /** One space's vectors of {@code items} in blocks of at most {@code size} rows, keyed by row key. */
    private static JavaRDD<BlockedKnn.Block> blocks(JavaRDD<Item> items, int size, boolean pixels) {
        return BlockedKnn.blocks(items, size, Item::key, pixels ? Item::pixels : Item::fc7);
    }

    private static List<Agreement> agreement(Dataset<Row> joined, int k) {
        JavaPairRDD<String, double[]> perQuery = joined.select("space", "metric", "query_key", "query_label", "rank", "neighbor_label")
                .javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0) + "|" + r.getString(1) + "|" + r.getLong(2), r))
                .groupByKey()
                .mapToPair(t -> {
                    List<Row> rs = new ArrayList<>();
                    t._2().forEach(rs::add);
                    rs.sort(java.util.Comparator.comparingInt(r -> r.getInt(4)));
                    String truth = rs.get(0).isNullAt(3) ? null : rs.get(0).getString(3);
                    String[] parts = t._1().split("\\|");
                    if (truth == null) {
                        return new Tuple2<>(parts[0] + "|" + parts[1], new double[] {0, 0, 0});
                    }
                    Map<String, Integer> votes = new LinkedHashMap<>();
                    int same = 0;
                    int labelled = 0;
                    for (Row r : rs) {
                        if (r.isNullAt(5)) {
                            continue;
                        }
                        labelled++;
                        if (truth.equals(r.getString(5))) {
                            same++;
                        }
                        votes.merge(r.getString(5), 1, Integer::sum);
                    }
                    String winner = null;
                    int best = 0;
                    for (Map.Entry<String, Integer> e : votes.entrySet()) { // insertion order = nearest first: ties go to the nearest
                        if (e.getValue() > best) {
                            best = e.getValue();
                            winner = e.getKey();
                        }
                    }
                    return new Tuple2<>(parts[0] + "|" + parts[1],
                            new double[] {labelled == 0 ? 0 : (double) same / labelled, truth.equals(winner) ? 1 : 0, 1});
                });
        Map<String, double[]> sums = perQuery.reduceByKey((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]})
                .collectAsMap();
        List<Agreement> out = new ArrayList<>();
        new java.util.TreeMap<>(sums).forEach((key, v) -> {
            String[] p = key.split("\\|");
            out.add(new Agreement(p[0], p[1], v[2] == 0 ? Double.NaN : v[0] / v[2], v[2] == 0 ? Double.NaN : v[1] / v[2], (long) v[2]));
        });
        return out;
    }

    /** A few queries: the query, then its neighbours in FC7 space, and beneath them in pixel space. */
    private static BufferedImage picture(Dataset<Row> joined, NeighborsOptions s, HadoopConf hadoop) {
        String metric = s.metrics().get(0).name().toLowerCase(Locale.ROOT);
        List<Long> shown = joined.select("query_key").distinct().javaRDD().map(r -> r.getLong(0))
                .takeOrdered(s.pictureQueries(), new KeyHashOrder(s.seed()));
        Set<Long> shownSet = new HashSet<>(shown);
        List<Row> rows = joined.filter(col("metric").equalTo(metric)).javaRDD()
                .filter(r -> shownSet.contains(r.<Long>getAs("query_key"))).collect();
        Map<String, BufferedImage> thumbs = new HashMap<>();
        ImageDecoder decoder = new ImageDecoder(s.maxPixels());
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        for (Long qk : shown) {
            for (String space : List.of("fc7", "pixels")) {
                List<Row> mine = new ArrayList<>();
                for (Row r : rows) {
                    if (r.<Long>getAs("query_key").equals(qk) && space.equals(r.getAs("space"))) {
                        mine.add(r);
                    }
                }
                if (mine.isEmpty()) {
                    continue;
                }
                mine.sort(java.util.Comparator.comparingInt(r -> r.<Integer>getAs("rank")));
                Row first = mine.get(0);
                String qLabel = first.getAs("query_label");
                List<ImageGrid.Tile> tiles = new ArrayList<>();
                tiles.add(new ImageGrid.Tile(thumb(thumbs, decoder, first.getAs("query_path"), s.maxBytes(), hadoop),
                        (qLabel == null ? "?" : qLabel), new Color(0x1F4E9A)));
                for (Row r : mine) {
                    String l = r.getAs("neighbor_label");
                    boolean same = l != null && l.equals(qLabel);
                    tiles.add(new ImageGrid.Tile(thumb(thumbs, decoder, r.getAs("neighbor_path"), s.maxBytes(), hadoop),
                            (l == null ? "?" : l), same ? new Color(0x2E8B57) : new Color(0xC0392B)));
                }
                labels.add(space.equals("fc7") ? "FC7" : "pixels");
                grid.add(tiles);
            }
        }
        return ImageGrid.render(String.format(Locale.ROOT, "%d nearest neighbours (%s): FC7 space, and beneath it pixel space "
                + "(blue: query; green/red: same/other label)", s.k(), metric), labels, grid, 64);
    }

    private static BufferedImage thumb(Map<String, BufferedImage> cache, ImageDecoder decoder, String path, long maxBytes,
                                       HadoopConf hadoop) {
        return cache.computeIfAbsent(path, p -> {
            try {
                return ImageGrid.toImage(decoder.decode(ImageBytes.read(p, -1, null, maxBytes, hadoop.get())));
            } catch (Exception e) {
                BufferedImage blank = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                return blank;
            }
        });
    }

    static final class KeyHashOrder implements java.util.Comparator<Long>, Serializable {
        private static final long serialVersionUID = 1L;
        private final long seed;

        KeyHashOrder(long seed) {
            this.seed = seed;
        }

        @Override
        public int compare(Long a, Long b) {
            int c = Long.compare(Permutations.mix(seed + 1, a), Permutations.mix(seed + 1, b));
            return c != 0 ? c : Long.compare(a, b);
        }
    }
}
