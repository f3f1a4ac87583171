package io.cnnlens.jobs.spark;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.model.TorchRuntime;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact k nearest neighbours on Spark by blocked matrix products (docs/methods.md#knn): the
 * vectors are cut into blocks within each partition (no shuffle), every pair of a query block and
 * a reference block is one {@link ExactKnn} product on an executor, and the partial top-k lists
 * merge per query block. Memory per task: two blocks and their product; time n_q·n_r·d
 * multiply-adds spread over the cluster. The neighbors job, t-SNE's affinities (embed) and the
 * audit's near-duplicates and outliers all search this way.
 */
public final class BlockedKnn {

    /** A block of vectors: their keys and a row-major matrix, {@code d} values per row. */
    public record Block(int id, long[] keys, float[] data, int d) implements Serializable {
    }

    /** One query block's answer: its keys, in row order, and the merged top-k of each row. */
    public record Neighbours(long[] keys, ExactKnn.Result result) implements Serializable {

        /** What each found neighbour is given: the query's key, rank 1..k, the neighbour's key, the distance. */
        public interface Visitor {
            void visit(long query, int rank, long neighbour, float distance);
        }

        /** Visits every query's neighbours in rank order; a query with fewer than k references has fewer. */
        public void forEach(Visitor v) {
            for (int i = 0; i < keys.length; i++) {
                for (int rank = 0; rank < result.k(); rank++) {
                    if (result.key(i, rank) >= 0) {
                        v.visit(keys[i], rank + 1, result.key(i, rank), result.distance(i, rank));
                    }
                }
            }
        }
    }

    private BlockedKnn() {
    }

    /**
     * {@code items} cut into blocks of at most {@code size} rows within each partition (no shuffle);
     * block ids are unique across partitions. Vectors of different lengths are an error.
     */
    public static <T> JavaRDD<Block> blocks(JavaRDD<T> items, int size, Function<T, Long> key, Function<T, float[]> vector) {
        return items.mapPartitionsWithIndex((part, it) -> {
            List<Block> out = new ArrayList<>();
            List<T> chunk = new ArrayList<>(size);
            while (it.hasNext()) {
                chunk.add(it.next());
                if (chunk.size() == size || !it.hasNext()) {
                    out.add(block(part * 1_000_000 + out.size(), chunk, key, vector));
                    chunk.clear();
                }
            }
            return out.iterator();
        }, true);
    }

    /** The k nearest references of every query row, by {@code metric}; a row is never its own neighbour (equal keys). */
    public static JavaRDD<Neighbours> search(JavaRDD<Block> queries, JavaRDD<Block> refs, int k, ExactKnn.Metric metric) {
        return queries.cartesian(refs)
                .mapToPair(p -> {
                    TorchRuntime.setIntraOpThreads(ExecutorRuntime.taskCpus());
                    Block q = p._1();
                    Block r = p._2();
                    return new Tuple2<>(q.id(), new Neighbours(q.keys(),
                            ExactKnn.search(q.data(), q.keys(), r.data(), r.keys(), q.d(), k, metric)));
                })
                .reduceByKey((a, b) -> new Neighbours(a.keys(), a.result().merge(b.result())))
                .values();
    }

    /**
     * One pass over every pair of blocks read both ways ({@link ExactKnn#search(float[], long[], float[], long[], int, int, int,
     * ExactKnn.Metric)}): each query's k nearest references, and each reference's {@code kColumns}
     * nearest queries. Half the products of two searches, for a few new rows against all whose
     * old rows also want the new ones. Both are materialised (persisted); unpersist them when done.
     */
    public static BothWays searchBothWays(JavaRDD<Block> queries, JavaRDD<Block> refs, int k, int kColumns, ExactKnn.Metric metric) {
        JavaPairRDD<Long, Neighbours> merged = queries.cartesian(refs)
                .flatMapToPair(p -> {
                    TorchRuntime.setIntraOpThreads(ExecutorRuntime.taskCpus());
                    Block q = p._1();
                    Block r = p._2();
                    ExactKnn.Both both = ExactKnn.search(q.data(), q.keys(), r.data(), r.keys(), q.d(), k, kColumns, metric);
                    // a block's answer by its id and the direction (even: rows, odd: columns)
                    return List.of(new Tuple2<>(2L * q.id(), new Neighbours(q.keys(), both.rows())),
                            new Tuple2<>(2L * r.id() + 1, new Neighbours(r.keys(), both.columns()))).iterator();
                })
                .reduceByKey((a, b) -> new Neighbours(a.keys(), a.result().merge(b.result())))
                .persist(StorageLevel.MEMORY_AND_DISK());
        return new BothWays(merged.filter(t -> t._1() % 2 == 0).values(), merged.filter(t -> t._1() % 2 == 1).values(), merged);
    }

    /** The two answers of {@link #searchBothWays}: the queries' lists, the references' lists, and the RDD both read. */
    public record BothWays(JavaRDD<Neighbours> rows, JavaRDD<Neighbours> columns, JavaPairRDD<Long, Neighbours> source) {
        public void unpersist() {
            source.unpersist(false);
        }
    }

    private static <T> Block block(int id, List<T> list, Function<T, Long> key, Function<T, float[]> vector) throws Exception {
        int d = vector.call(list.get(0)).length;
        long[] keys = new long[list.size()];
        float[] data = new float[list.size() * d];
        for (int i = 0; i < list.size(); i++) {
            float[] v = vector.call(list.get(i));
            if (v.length != d) {
                throw new IllegalArgumentException("vectors of different lengths (" + v.length + " and " + d + ")");
            }
            keys[i] = key.call(list.get(i));
            System.arraycopy(v, 0, data, i * d, d);
        }
        return new Block(id, keys, data, d);
    }
}
