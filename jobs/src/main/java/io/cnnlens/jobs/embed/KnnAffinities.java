package io.cnnlens.jobs.embed;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.embedding.SparseAffinities;
import io.cnnlens.jobs.spark.BlockedKnn;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * t-SNE's sparse input affinities built on executors: the exact k nearest neighbours of every
 * fitted point among the fitted points, by blocked matrix products (each pair of a query block
 * and a reference block is one {@link ExactKnn} product on an executor, partial top-k lists
 * merged per query block, as the neighbors job does), then each point's conditional p_{j|i}
 * calibrated to the perplexity there too ({@link SparseAffinities#conditional}); the driver only
 * gathers n × k (index, probability) pairs and symmetrises them.
 */
final class KnnAffinities {

    static final int QUERY_BLOCK = 2048;
    static final int REF_BLOCK = 8192;

    private KnnAffinities() {
    }

    /** A fitted point: its index in the fit (0 .. m−1), its input vector and its 2-D start. */
    record Item(int index, float[] x, float start0, float start1) implements Serializable {
    }

    /** One point's row of the conditional affinities. */
    record Conditional(int index, int[] neighbours, float[] p) implements Serializable {
    }

    /** What the driver gets: symmetrised P, the start (m×2), the seconds it took. */
    record Built(SparseAffinities.Csr p, double[] start, double seconds) {
    }

    static Built build(JavaRDD<Item> items, int m, int k, double perplexity) {
        long t0 = System.nanoTime();
        JavaRDD<BlockedKnn.Block> queries = blocks(items, QUERY_BLOCK).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<BlockedKnn.Block> refs = blocks(items, REF_BLOCK).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<Conditional> rows = BlockedKnn.search(queries, refs, k, ExactKnn.Metric.L2).flatMap(n -> {
                long[] keys = n.keys();
                ExactKnn.Result r = n.result();
                List<Conditional> out = new ArrayList<>(keys.length);
                for (int i = 0; i < keys.length; i++) {
                    int[] nb = new int[k];
                    double[] sq = new double[k];
                    for (int j = 0; j < k; j++) {
                        long key = r.key(i, j);
                        nb[j] = (int) key;
                        double dist = r.distance(i, j);
                        sq[j] = key < 0 ? Double.POSITIVE_INFINITY : dist * dist;
                    }
                    out.add(new Conditional((int) keys[i], nb, SparseAffinities.conditional(sq, perplexity)));
                }
                return out.iterator();
            });
            List<Conditional> got = rows.collect();
            List<Tuple2<Integer, float[]>> starts = items.map(it -> new Tuple2<>(it.index(), new float[] {it.start0(), it.start1()}))
                    .collect();
            int[] nb = new int[m * k];
            float[] p = new float[m * k];
            boolean[] seen = new boolean[m];
            for (Conditional c : got) {
                if (seen[c.index()]) {
                    throw new IllegalStateException("point " + c.index() + " came back twice from the kNN step");
                }
                seen[c.index()] = true;
                System.arraycopy(c.neighbours(), 0, nb, c.index() * k, k);
                System.arraycopy(c.p(), 0, p, c.index() * k, k);
            }
            if (got.size() != m) {
                throw new IllegalStateException("the kNN step returned " + got.size() + " rows for " + m + " points");
            }
            got = null;
            double[] start = new double[2 * m];
            for (Tuple2<Integer, float[]> s : starts) {
                start[2 * s._1()] = s._2()[0];
                start[2 * s._1() + 1] = s._2()[1];
            }
            SparseAffinities.Csr csr = SparseAffinities.symmetrise(m, k, nb, p);
            return new Built(csr, start, (System.nanoTime() - t0) / 1e9);
        } finally {
            refs.unpersist();
            queries.unpersist();
        }
    }

    /** Items cut into blocks of at most {@code size} rows within each partition (no shuffle), keyed by index. */
    static JavaRDD<BlockedKnn.Block> blocks(JavaRDD<Item> items, int size) {
        return BlockedKnn.blocks(items, size, it -> (long) it.index(), Item::x);
    }
}
