package io.cnnlens.jobs.index;

import io.cnnlens.index.GraphParams;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Metric;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.VectorColumn;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

/**
 * The k nearest references of every query row through a graph index built for the purpose
 * (docs/audit.md#knn-by-graph): the references are cut into {@code shards} partitions, each Spark
 * task builds one shard (the index job's {@link IndexJob#buildShards}) under a work folder, and
 * each query partition then opens every shard and keeps its k nearest, re-ranked by the exact
 * distance (double precision) and ordered by (distance, key) as the exact search orders them. A
 * query's own key is never its neighbour.
 *
 * <p>Cost, for n_r references in s shards and n_q queries: the build is about n_r·log(n_r/s)
 * distance evaluations (spread over s tasks), the search about n_q·s·ef·log(n_r/s); exact search is
 * n_q·n_r. Memory: every query task holds the whole index (vectors and graph) on its heap.
 */
public final class GraphKnn {

    /** Shards of the references, the search beam, and how each shard's graph is built. */
    public record Settings(int shards, int ef, GraphParams graph) implements java.io.Serializable {
        public Settings {
            if (shards < 1) {
                throw new IllegalArgumentException("shards must be at least 1, not " + shards);
            }
            if (ef < 1) {
                throw new IllegalArgumentException("ef must be at least 1, not " + ef);
            }
        }
    }

    private GraphKnn() {
    }

    /**
     * Rows (query key, rank 1..k, neighbour key, distance) for {@code queries} among {@code refs},
     * both RDDs of (long key, vector as a list of floats). The index is built in {@code work} (a
     * folder on any Hadoop file system that the executors reach); the caller removes it once the
     * returned rows are materialised.
     */
    public static JavaRDD<Row> search(JavaRDD<Row> queries, JavaRDD<Row> refs, int k, Metric metric, Settings s, String work,
                                      HadoopConf hadoop) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, not " + k);
        }
        String tag = "g" + Long.toString(System.nanoTime(), 36);
        JavaRDD<Row> items = refs.map(r -> RowFactory.create(Long.toString(r.getLong(0)), "", null, r.get(1))); // the vector as Spark holds it
        List<IndexManifest.Shard> built = IndexJob.buildShards(items, s.shards(), tag, metric, s.graph(), 0, work, hadoop, null);
        if (built.isEmpty()) {
            return org.apache.spark.api.java.JavaSparkContext.fromSparkContext(queries.context()).emptyRDD();
        }
        String now = Instant.now().toString();
        // kept in memory only, never written: the shards give the dimension when opened
        IndexManifest m = new IndexManifest(IndexManifest.FORMAT, null, "vector", metric.key(), 0, s.graph(), List.of(), List.of(),
                List.of(), now, now).plus(built, new IndexManifest.Source(work, null, built.stream().mapToLong(IndexManifest.Shard::count).sum(), now), now);
        int ef = Math.max(s.ef(), k + 1);
        return queries.mapPartitions((Iterator<Row> it) -> {
            if (!it.hasNext()) {
                return java.util.Collections.emptyIterator();
            }
            List<Row> out = new ArrayList<>();
            try (ShardedSearch index = new IndexStore(work, hadoop.get()).open(m)) {
                while (it.hasNext()) {
                    Row r = it.next();
                    long query = r.getLong(0);
                    List<Hit> hits = new ArrayList<>(index.search(VectorColumn.floats(r.getList(1)), k + 1, ef, true));
                    hits.sort(Comparator.comparingDouble(Hit::distance).thenComparingLong(h -> Long.parseLong(h.item().imageId())));
                    int rank = 0;
                    for (Hit h : hits) {
                        long key = Long.parseLong(h.item().imageId());
                        if (key != query && rank < k) {
                            out.add(RowFactory.create(query, ++rank, key, h.distance()));
                        }
                    }
                }
            }
            return out.iterator();
        });
    }

    /** How many shards {@code n} references take: at most {@code shardRows} each, and at least one per core while shards keep {@code minRows}. */
    public static int shards(long n, int shardRows, int cores, int minRows) {
        long bySize = (n + shardRows - 1) / shardRows;
        long byCores = Math.min(cores, Math.max(1, n / Math.max(1, minRows)));
        return (int) Math.max(1, Math.max(bySize, byCores));
    }

    /** The work folder's name for one search: unique within a run. */
    public static String workFolder(String parent, String what) {
        return parent + "/_graph_" + what + "_" + Long.toString(System.nanoTime(), 36);
    }
}
