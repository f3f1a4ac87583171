package io.cnnlens.jobs.index;

import io.cnnlens.features.ImageInput;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.PngWriter;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.plot.ImageGrid;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * The search job (docs/index.md#search): the k nearest indexed images of query images (run
 * through the index's model as features does), of image ids held in the index, or of every row
 * of a features table (Spark tasks, each opening the index's files once per executor). Every
 * shard is searched and the lists merged; {@code --rerank} re-ranks by exact distance. Writes
 * {@code <out>/search/} and {@code <out>/pictures/search/search.png} (each query beside its
 * neighbours); prints the top k of the first queries.
 */
public final class SearchJob implements Job<SearchOptions> {

    public static final String NAME = "search";
    public static final String TABLE = "search";
    public static final String PICTURES = "pictures/search";

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("query", DataTypes.StringType, false),
            DataTypes.createStructField("query_path", DataTypes.StringType, true),
            DataTypes.createStructField("query_label", DataTypes.StringType, true),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("neighbour", DataTypes.StringType, false),
            DataTypes.createStructField("distance", DataTypes.FloatType, false),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true)});

    /** What it did. */
    public record Summary(long queries, long errors, long rows, double seconds, String table, String picture, List<String> shown) {
        public String line() {
            return String.format(Locale.ROOT, "search: queries %d, errors %d, rows %d, %.1f s", queries, errors, rows, seconds);
        }
    }

    /** One query: an id (image id or path), where its image is, its label, its vector (null: error). */
    record Query(String id, String path, String label, float[] vector, String error) {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "The k nearest indexed images of query images (through the index's model), of image ids in the index, "
                        + "or of a features table's rows (Spark tasks); every shard searched, the lists merged.",
                "Writes <out>/search/ (query, query_path, query_label, rank, neighbour, distance, path, label) and "
                        + "<out>/pictures/search/search.png; prints the top k of the first queries."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return SearchOptions.KEYS;
    }

    @Override
    public SearchOptions options(OptionValues values) {
        return SearchOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, PICTURES);
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, SearchOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>(s.shown());
        details.add("search:  " + s.table());
        details.add("picture: " + s.picture());
        return new JobResult(s.line(), details);
    }

    public static Summary run(SparkSession spark, SearchOptions o) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        IndexStore store = new IndexStore(o.index(), hadoop.get());
        IndexManifest m = store.require();
        int k = o.k();
        int ef = o.ef();
        boolean rerank = o.rerank();
        try (TableCommitter committer = new TableCommitter(spark, o.out(), NAME)) {
            Dataset<Row> result;
            long queries;
            long errors = 0;
            if (o.queries() != null && !o.queries().isBlank()) {
                Dataset<Row> q = TableReader.read(spark, o.queries(), "image_id", "path", "label", m.column())
                        .filter(col(m.column()).isNotNull()).select("image_id", "path", "label", m.column());
                String index = o.index();
                JavaRDD<Row> rows = q.javaRDD().mapPartitions(it -> {
                    ShardedSearch s = OpenIndexes.get(index, m, hadoop.get());
                    List<Row> out = new ArrayList<>();
                    while (it.hasNext()) {
                        Row r = it.next();
                        float[] a = io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(3));
                        String id = r.isNullAt(0) ? r.getString(1) : r.getString(0);
                        rows(out, new Query(id, r.getString(1), r.isNullAt(2) ? null : r.getString(2), a, null), s.search(a, k, ef, rerank));
                    }
                    return out.iterator();
                });
                result = spark.createDataFrame(rows, SCHEMA);
                result.write().mode(org.apache.spark.sql.SaveMode.ErrorIfExists).parquet(committer.staging(TABLE));
                queries = q.count();
            } else {
                ShardedSearch s = store.open(m);
                List<Query> qs = new ArrayList<>();
                if (!o.ids().isEmpty()) {
                    for (String id : o.ids()) {
                        var found = s.find(id);
                        qs.add(found.map(h -> new Query(id, h.item().path(), h.item().label(), h.vector(), null))
                                .orElse(new Query(id, null, null, null, "the index holds no live image with id " + id)));
                    }
                } else {
                    QueryImages qi = new QueryImages(m.model(), m.column(), o.maxPixels(), hadoop.get());
                    List<ImageInput> inputs = new ArrayList<>();
                    for (String p : o.images()) {
                        inputs.add(new ImageInput(p, null, () -> ImageBytes.read(p, -1, null, o.maxBytes(), hadoop.get())));
                    }
                    for (QueryImages.Result r : qi.vectors(inputs)) {
                        qs.add(new Query(r.path(), r.path(), null, r.vector(), r.ok() ? null : r.stage() + ": " + r.reason()));
                    }
                }
                List<Row> out = new ArrayList<>();
                for (Query q : qs) {
                    if (q.vector() == null) {
                        errors++;
                        continue;
                    }
                    rows(out, q, s.search(q.vector(), k, ef, rerank));
                }
                result = spark.createDataFrame(out, SCHEMA);
                result.write().mode(org.apache.spark.sql.SaveMode.ErrorIfExists).parquet(committer.staging(TABLE));
                queries = qs.size();
                for (Query q : qs) {
                    if (q.error() != null) {
                        System.err.println("search: " + q.id() + ": " + q.error());
                    }
                }
            }
            Dataset<Row> written = spark.read().parquet(committer.staging(TABLE));
            long rowCount = written.count();
            List<Row> firstRows = written.filter(col("rank").leq(k)).orderBy("query", "rank").limit(Math.max(1, o.pictureQueries()) * k).collectAsList();
            List<String> shown = new ArrayList<>();
            String last = null;
            for (Row r : firstRows) {
                if (!r.getString(0).equals(last)) {
                    last = r.getString(0);
                    shown.add("query " + last + (r.isNullAt(2) ? "" : " (" + r.getString(2) + ")") + ":");
                }
                shown.add(String.format(Locale.ROOT, "  %3d  %.4f  %s  %s", r.getInt(3), r.getFloat(5), r.getString(4),
                        r.isNullAt(7) ? "" : r.getString(7)));
            }
            String picture = "search.png";
            committer.writeFile(PICTURES, picture, PngWriter.encode(picture(firstRows, o, hadoop, m)));
            committer.commit(List.of(TABLE, PICTURES));
            return new Summary(queries, errors, rowCount, (System.nanoTime() - t0) / 1e9, committer.finalPath(TABLE),
                    committer.finalPath(PICTURES) + "/" + picture, shown);
        }
    }

    private static void rows(List<Row> out, Query q, List<Hit> hits) {
        int rank = 1;
        for (Hit h : hits) {
            out.add(RowFactory.create(q.id(), q.path(), q.label(), rank++, h.item().imageId(), h.distance(), h.item().path(), h.item().label()));
        }
    }

    private static BufferedImage picture(List<Row> rows, SearchOptions o, HadoopConf hadoop, IndexManifest m) {
        Map<String, BufferedImage> cache = new HashMap<>();
        ImageDecoder decoder = new ImageDecoder(o.maxPixels());
        List<String> labels = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        String last = null;
        List<ImageGrid.Tile> tiles = null;
        String qLabel = null;
        for (Row r : rows) {
            if (!r.getString(0).equals(last)) {
                last = r.getString(0);
                qLabel = r.isNullAt(2) ? null : r.getString(2);
                tiles = new ArrayList<>();
                grid.add(tiles);
                labels.add(shortName(last));
                tiles.add(new ImageGrid.Tile(thumb(cache, decoder, r.getString(1), o.maxBytes(), hadoop), qLabel == null ? "query" : qLabel,
                        new Color(0x1F4E9A)));
            }
            String l = r.isNullAt(7) ? null : r.getString(7);
            Color c = qLabel == null || l == null ? Color.GRAY : (qLabel.equals(l) ? new Color(0x2E8B57) : new Color(0xC0392B));
            tiles.add(new ImageGrid.Tile(thumb(cache, decoder, r.getString(6), o.maxBytes(), hadoop),
                    String.format(Locale.ROOT, "%s %.2f", l == null ? "" : l, r.getFloat(5)), c));
        }
        return ImageGrid.render(String.format(Locale.ROOT, "search: %d nearest indexed images (%s, %s; blue: query, green/red: same/other label)",
                o.k(), m.column(), m.metric()), labels, grid, 64);
    }

    private static String shortName(String s) {
        int i = s.lastIndexOf('/');
        String n = i >= 0 ? s.substring(i + 1) : s;
        return n.length() > 18 ? n.substring(0, 18) : n;
    }

    static BufferedImage thumb(Map<String, BufferedImage> cache, ImageDecoder decoder, String path, long maxBytes, HadoopConf hadoop) {
        if (path == null) {
            return new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        }
        return cache.computeIfAbsent(path, p -> {
            try {
                return ImageGrid.toImage(decoder.decode(ImageBytes.read(p, -1, null, maxBytes, hadoop.get())));
            } catch (DecodeException | RuntimeException e) {
                return new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
            }
        });
    }
}
