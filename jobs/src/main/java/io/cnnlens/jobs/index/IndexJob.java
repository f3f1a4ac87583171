package io.cnnlens.jobs.index;

import io.cnnlens.index.GraphShard;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Item;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.Progress;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.apache.spark.sql.functions.col;

/**
 * The index job (docs/index.md): an approximate nearest-neighbour index over a vector column of a
 * features table. Each Spark task builds one shard (a JVector graph over its partition's rows) in a
 * local folder and copies its files to {@code <out>/index/shards/}; the driver then writes
 * {@code manifest.json}. The index is files, so it outlives any executor. {@code --mode add}
 * indexes the table's images not yet in the index as new shards (merging small shards when there
 * are too many); {@code --mode delete} records tombstones.
 */
public final class IndexJob implements Job<IndexOptions> {

    public static final String NAME = "index";

    /** What it did. */
    public record Summary(String mode, long rows, int newShards, int shards, long stored, long live, double buildSeconds,
                          double seconds, long bytes, String index, List<String> notes) {
        public String line() {
            return String.format(Locale.ROOT, "index: %s, rows %d, new shards %d, shards %d, live %d of %d stored, build %.1f s, %.1f s, %d bytes",
                    mode, rows, newShards, shards, live, stored, buildSeconds, seconds, bytes);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "An approximate nearest-neighbour index (JVector graphs) over a features table's vector column (fc7 by default), "
                        + "one shard per Spark task; --mode add indexes new images as new shards, --mode delete removes image ids.",
                "Writes <out>/index/ (manifest.json, shards/<name>/{graph.jv, vectors.f32, items.bin}); prints rows, shards and build time."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return IndexOptions.KEYS;
    }

    @Override
    public IndexOptions options(OptionValues values) {
        return IndexOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(NAME);
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, IndexOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        details.add("index:   " + s.index());
        return new JobResult(s.line(), details, s.notes());
    }

    public static Summary run(SparkSession spark, IndexOptions o) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        IndexStore store = new IndexStore(o.index(), hadoop.get());
        String now = Instant.now().toString();
        List<String> notes = new ArrayList<>();
        if (o.mode().equals("delete")) {
            return delete(store, o, hadoop, t0, now);
        }
        IndexManifest old = store.manifest().orElse(null);
        if (o.mode().equals("add") && old == null) {
            throw new IllegalArgumentException("--mode add but there is no index at " + store.path() + ": build one first (--mode build)");
        }
        if (old != null && o.mode().equals("add")) {
            if (!old.column().equals(o.column()) || old.metricValue() != o.metric()) {
                throw new IllegalArgumentException("the index at " + store.path() + " is over " + old.column() + " (" + old.metric()
                        + "), not " + o.column() + " (" + o.metric().key() + ")");
            }
        }
        String featuresPath = new org.apache.hadoop.fs.Path(o.features(), "features").toString();
        TableReader.Located at = TableReader.locate(spark, featuresPath).orElseGet(() -> TableReader.require(spark, o.features()));
        Dataset<Row> df = TableReader.load(spark, at);
        for (String c : List.of("image_id", "path", "label", o.column())) {
            if (!List.of(df.columns()).contains(c)) {
                throw new IllegalArgumentException("the table at " + at.path() + " has no column '" + c + "'; is it a features table?");
            }
        }
        df = df.filter(col(o.column()).isNotNull()).select("image_id", "path", "label", o.column());
        Set<String> present = new HashSet<>();
        if (old != null && o.mode().equals("add")) {
            IndexManifest m = old;
            // ids held, deleted ones included (a deleted image added again is a new row)
            for (IndexManifest.Shard sh : m.shards()) {
                try (GraphShard g = GraphShard.open(store.local(sh.name()), m.metricValue())) {
                    for (Item it : g.items()) {
                        present.add(it.imageId());
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            present.removeAll(m.deletedSet());
        }
        Broadcast<Set<String>> skip = spark.sparkContext().broadcast(present, scala.reflect.ClassTag$.MODULE$.apply(Set.class));
        long rows = df.count();
        long fresh = present.isEmpty() ? rows : df.javaRDD().filter(r -> !skip.value().contains(id(r))).count();
        if (fresh == 0) {
            notes.add("index: every image of " + at.describe() + " is in the index already; nothing added");
            IndexManifest m = old;
            return new Summary(o.mode(), 0, 0, m.shards().size(), m.stored(), m.live(), 0, seconds(t0), store.bytes(m), store.path(), notes);
        }
        int parts = o.partitions() > 0 ? o.partitions() : (int) Math.max(1, (fresh + o.shardRows() - 1) / o.shardRows());
        String tag = "s" + Long.toString(System.currentTimeMillis(), 36);
        String column = o.column();
        var metric = o.metric();
        var params = o.params();
        int threads = o.buildThreads();
        String index = store.path();
        List<IndexManifest.Shard> built;
        long tb = System.nanoTime();
        try (Progress progress = Progress.start(spark, NAME, fresh)) {
            built = buildShards(df.javaRDD().filter(r -> !skip.value().contains(id(r))), parts, tag, metric, params, threads, index,
                    hadoop, progress.counter());
        }
        double buildSeconds = (System.nanoTime() - tb) / 1e9;
        int dim = built.isEmpty() ? 0 : dimensionOf(store, built.get(0), metric);
        IndexManifest.Source source = new IndexManifest.Source(at.path(), at.version().orElse(null), fresh, now);
        IndexManifest m;
        if (old == null || o.mode().equals("build")) {
            m = new IndexManifest(IndexManifest.FORMAT, o.model(), o.column(), metric.key(), dim, params, List.of(), List.of(), List.of(), now, now)
                    .plus(built, source, now);
        } else {
            if (dim != old.dimension()) {
                throw new IllegalArgumentException("the new rows have " + dim + " values, the index's " + old.dimension());
            }
            m = old.plus(built, source, now);
            m = Compaction.maybe(store, m, o.compactBelow(), o.maxSmallShards(), now, notes);
        }
        store.write(m);
        List<String> removed = store.removeUnlisted(m);
        if (!removed.isEmpty() && old != null && o.mode().equals("build")) {
            notes.add("index: the previous index's " + removed.size() + " shard folder(s) removed");
        }
        return new Summary(o.mode(), fresh, built.size(), m.shards().size(), m.stored(), m.live(), buildSeconds, seconds(t0),
                store.bytes(m), store.path(), notes);
    }

    /**
     * Builds one shard per partition of {@code rows} (image_id, path, label, vector as a list of
     * floats; a null image_id takes the path) after a repartition into {@code parts}: each task
     * builds its graph in a local folder and uploads it to {@code <index>/shards/<tag>-pNNNNN}.
     * Returns the shards built (empty partitions build none); {@code done} counts rows.
     */
    public static List<IndexManifest.Shard> buildShards(org.apache.spark.api.java.JavaRDD<Row> rows, int parts, String tag,
                                                        io.cnnlens.index.Metric metric, io.cnnlens.index.GraphParams params, int threads,
                                                        String index, HadoopConf hadoop, LongAccumulator done) {
        return rows.repartition(parts).mapPartitionsWithIndex((Integer part, Iterator<Row> it) -> {
            List<Item> items = new ArrayList<>();
            List<float[]> vectors = new ArrayList<>();
            while (it.hasNext()) {
                Row r = it.next();
                items.add(new Item(id(r), r.getString(1), r.isNullAt(2) ? null : r.getString(2)));
                vectors.add(io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(3)));
                if (done != null) {
                    done.add(1);
                }
            }
            if (items.isEmpty()) {
                return java.util.Collections.emptyIterator();
            }
            String name = String.format(Locale.ROOT, "%s-p%05d", tag, part);
            java.nio.file.Path local = Files.createTempDirectory("cnnlens-index-");
            try {
                int n = threads > 0 ? threads : ExecutorRuntime.taskCpus();
                GraphShard.Built b = GraphShard.build(items, vectors.toArray(new float[0][]), metric, params, local.resolve(name), n);
                new IndexStore(index, hadoop.get()).upload(local.resolve(name), name);
                return List.of(new IndexManifest.Shard(name, b.count(), b.seconds(), 0)).iterator();
            } finally {
                IndexStore.deleteLocal(local);
            }
        }, false).collect();
    }

    private static int dimensionOf(IndexStore store, IndexManifest.Shard s, io.cnnlens.index.Metric metric) {
        try (GraphShard g = GraphShard.open(store.local(s.name()), metric)) {
            return g.dimension();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Summary delete(IndexStore store, IndexOptions o, HadoopConf hadoop, long t0, String now) {
        IndexManifest m = store.require();
        Set<String> ids = new HashSet<>();
        for (String s : o.ids()) {
            if (!s.isBlank()) {
                ids.add(s.strip());
            }
        }
        if (o.idsFile() != null && !o.idsFile().isBlank()) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(o.idsFile());
            try (var in = p.getFileSystem(hadoop.get()).open(p)) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank()) {
                        ids.add(line.strip());
                    }
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read --ids-file " + p + ": " + e.getMessage(), e);
            }
        }
        Set<String> held = new HashSet<>();
        for (IndexManifest.Shard sh : m.shards()) {
            try (GraphShard g = GraphShard.open(store.local(sh.name()), m.metricValue())) {
                for (Item it : g.items()) {
                    if (ids.contains(it.imageId())) {
                        held.add(it.imageId());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Set<String> deleted = new java.util.TreeSet<>(m.deleted());
        int before = deleted.size();
        deleted.addAll(held);
        List<String> notes = new ArrayList<>();
        if (held.size() < ids.size()) {
            notes.add("index: " + (ids.size() - held.size()) + " of the " + ids.size() + " ids are not in the index");
        }
        IndexManifest next = m.withShards(m.shards(), m.sources(), new ArrayList<>(deleted), now);
        next = Compaction.maybe(store, next, o.compactBelow(), o.maxSmallShards(), now, notes);
        store.write(next);
        store.removeUnlisted(next);
        return new Summary("delete", deleted.size() - before, 0, next.shards().size(), next.stored(), next.live(), 0, seconds(t0),
                store.bytes(next), store.path(), notes);
    }

    static String id(Row r) {
        return r.isNullAt(0) ? r.getString(1) : r.getString(0);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
