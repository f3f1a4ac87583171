package io.cnnlens.jobs.embed;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.embedding.InvertedLists;
import io.cnnlens.embedding.SparseAffinities;
import io.cnnlens.jobs.spark.BlockedKnn;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.model.TorchRuntime;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.mllib.clustering.KMeans;
import org.apache.spark.mllib.clustering.KMeansModel;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * t-SNE's sparse input affinities built on executors: the exact k nearest neighbours of every
 * fitted point among the fitted points, by blocked matrix products (each pair of a query block
 * and a reference block is one {@link ExactKnn} product on an executor, partial top-k lists
 * merged per query block, as the neighbors job does), then each point's conditional p_{j|i}
 * calibrated to the perplexity there too ({@link SparseAffinities#conditional}); the driver only
 * gathers n × k (index, probability) pairs and symmetrises them.
 *
 * <p>Above {@link #IVF_FROM} points (or when asked) the neighbours are approximate instead: inverted
 * lists ({@link InvertedLists}) over a k-means codebook of about √n centroids (Spark MLlib's
 * k-means on a sample), each point compared exactly with the points of its {@code probes} nearest
 * lists, on executors; the lists travel to the executors as one broadcast (the 50-D points:
 * 4·d bytes each). The recall against exact search is measured on a seeded sample of queries and
 * reported (docs/methods.md#barnes-hut-t-sne).
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

    /** Fitted points from which {@code auto} takes inverted lists instead of exact search. */
    static final int IVF_FROM = 200_000;
    /** Sampled queries the inverted lists' recall is measured on. */
    static final int RECALL_QUERIES = 1000;
    /** k-means training rows per centroid (FAISS warns below 39). */
    static final int TRAIN_PER_LIST = 64;
    static final int KMEANS_ITERATIONS = 10;
    /** Queries searched at once in a task of the inverted-list search. */
    static final int IVF_CHUNK = 16_384;

    /**
     * How the neighbours are found: {@code exact}, {@code ivf} (inverted lists), or {@code auto}
     * (exact below {@link #IVF_FROM} fitted points); {@code lists} 0 means about √m.
     */
    record Method(String name, int lists, int probes, long seed) implements Serializable {
        Method {
            if (!List.of("auto", "exact", "ivf").contains(name)) {
                throw new IllegalArgumentException("--tsne-knn must be auto, exact or ivf, not '" + name + "'");
            }
            if (lists < 0) {
                throw new IllegalArgumentException("--tsne-knn-lists must be at least 0, not " + lists);
            }
            if (probes < 1) {
                throw new IllegalArgumentException("--tsne-knn-probes must be at least 1, not " + probes);
            }
        }

        boolean ivf(int m) {
            return name.equals("ivf") || (name.equals("auto") && m >= IVF_FROM);
        }

        int listsFor(int m) {
            return lists > 0 ? Math.min(lists, m) : (int) Math.max(1, Math.round(Math.sqrt(m)));
        }
    }

    /**
     * What the driver gets: symmetrised P, the start (m×2), the seconds it took, and how the
     * neighbours were found (for the summary: "exact" or the lists, probes and measured recall).
     */
    record Built(SparseAffinities.Csr p, double[] start, double seconds, String neighbours, double recall) {
    }

    static Built build(JavaRDD<Item> items, int m, int k, double perplexity, Method method) {
        long t0 = System.nanoTime();
        boolean ivf = method.ivf(m) && m > k + 1;
        // the reference blocks serve the exact search, or the recall check of the approximate one
        JavaRDD<BlockedKnn.Block> refs = blocks(items, REF_BLOCK).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<BlockedKnn.Block> queries = null;
        Broadcast<InvertedLists> listsB = null;
        try {
            JavaRDD<Conditional> rows;
            String how = "exact";
            if (ivf) {
                InvertedLists lists = invertedLists(items, m, method.listsFor(m), method.seed());
                listsB = JavaSparkContext.fromSparkContext(items.context()).broadcast(lists);
                Broadcast<InvertedLists> lb = listsB;
                int probes = Math.min(method.probes(), lists.lists());
                how = String.format(Locale.ROOT, "inverted lists (%d lists, largest %d, %d probed)", lists.lists(),
                        lists.largestList(), probes);
                rows = items.mapPartitions(it -> {
                    TorchRuntime.setIntraOpThreads(ExecutorRuntime.taskCpus());
                    List<Conditional> out = new ArrayList<>();
                    List<Item> chunk = new ArrayList<>(IVF_CHUNK);
                    while (it.hasNext()) {
                        chunk.add(it.next());
                        if (chunk.size() == IVF_CHUNK || !it.hasNext()) {
                            int d = chunk.get(0).x().length;
                            float[] q = new float[chunk.size() * d];
                            long[] keys = new long[chunk.size()];
                            for (int i = 0; i < keys.length; i++) {
                                keys[i] = chunk.get(i).index();
                                System.arraycopy(chunk.get(i).x(), 0, q, i * d, d);
                            }
                            conditionals(keys, lb.value().search(q, keys, k, probes), k, perplexity, out);
                            chunk.clear();
                        }
                    }
                    return out.iterator();
                });
            } else {
                queries = blocks(items, QUERY_BLOCK).persist(StorageLevel.MEMORY_AND_DISK());
                rows = BlockedKnn.search(queries, refs, k, ExactKnn.Metric.L2).flatMap(n -> {
                    List<Conditional> out = new ArrayList<>(n.keys().length);
                    conditionals(n.keys(), n.result(), k, perplexity, out);
                    return out.iterator();
                });
            }
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
            double recall = ivf ? recall(items, refs, nb, m, k, method.seed()) : 1.0;
            if (ivf) {
                how += String.format(Locale.ROOT, ", recall@%d %.4f on %d sampled points", k, recall, Math.min(m, RECALL_QUERIES));
            }
            got = null;
            double[] start = new double[2 * m];
            for (Tuple2<Integer, float[]> s : starts) {
                start[2 * s._1()] = s._2()[0];
                start[2 * s._1() + 1] = s._2()[1];
            }
            SparseAffinities.Csr csr = SparseAffinities.symmetrise(m, k, nb, p);
            return new Built(csr, start, (System.nanoTime() - t0) / 1e9, how, recall);
        } finally {
            if (listsB != null) {
                listsB.destroy();
            }
            refs.unpersist();
            if (queries != null) {
                queries.unpersist();
            }
        }
    }

    /** Items cut into blocks of at most {@code size} rows within each partition (no shuffle), keyed by index. */
    static JavaRDD<BlockedKnn.Block> blocks(JavaRDD<Item> items, int size) {
        return BlockedKnn.blocks(items, size, it -> (long) it.index(), Item::x);
    }

    /** Each query's row of conditional affinities from its k neighbours (key −1: none). */
    private static void conditionals(long[] keys, ExactKnn.Result r, int k, double perplexity, List<Conditional> out) {
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
    }

    /**
     * The inverted lists of all m points: a k-means codebook of {@code lists} centroids fitted by
     * MLlib on a seeded sample of {@link #TRAIN_PER_LIST} rows per centroid, then every point
     * filed under its nearest centroid (on the driver, by matrix products).
     */
    static InvertedLists invertedLists(JavaRDD<Item> items, int m, int lists, long seed) {
        double fraction = Math.min(1.0, (double) TRAIN_PER_LIST * lists / m);
        JavaRDD<Vector> train = items.sample(false, fraction, seed).map(it -> {
            double[] v = new double[it.x().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = it.x()[i];
            }
            return Vectors.dense(v);
        }).cache();
        KMeansModel model;
        try {
            model = new KMeans().setK(lists).setMaxIterations(KMEANS_ITERATIONS).setSeed(seed).run(train.rdd());
        } finally {
            train.unpersist(false);
        }
        Vector[] centres = model.clusterCenters();
        int d = centres[0].size();
        float[] c = new float[centres.length * d];
        for (int l = 0; l < centres.length; l++) {
            double[] v = centres[l].toArray();
            for (int j = 0; j < d; j++) {
                c[l * d + j] = (float) v[j];
            }
        }
        List<Item> all = items.collect();
        long[] keys = new long[all.size()];
        float[] x = new float[all.size() * d];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = all.get(i).index();
            System.arraycopy(all.get(i).x(), 0, x, i * d, d);
        }
        all = null;
        return InvertedLists.of(c, d, keys, x);
    }

    /**
     * The share of the exact k nearest neighbours that the approximate lists {@code nb} (m × k)
     * hold, averaged over a seeded sample of at most {@link #RECALL_QUERIES} points.
     */
    static double recall(JavaRDD<Item> items, JavaRDD<BlockedKnn.Block> refs, int[] nb, int m, int k, long seed) {
        int q = Math.min(m, RECALL_QUERIES);
        java.util.Random rnd = new java.util.Random(seed);
        java.util.Set<Integer> chosen = new java.util.HashSet<>();
        while (chosen.size() < q) {
            chosen.add(rnd.nextInt(m));
        }
        JavaRDD<Item> sample = items.filter(it -> chosen.contains(it.index()));
        List<BlockedKnn.Neighbours> exact = BlockedKnn.search(blocks(sample, QUERY_BLOCK), refs, k, ExactKnn.Metric.L2).collect();
        long hit = 0;
        long total = 0;
        for (BlockedKnn.Neighbours n : exact) {
            for (int i = 0; i < n.keys().length; i++) {
                int p = (int) n.keys()[i];
                java.util.Set<Integer> approx = new java.util.HashSet<>();
                for (int j = 0; j < k; j++) {
                    approx.add(nb[p * k + j]);
                }
                for (int j = 0; j < k; j++) {
                    long key = n.result().key(i, j);
                    if (key >= 0) {
                        total++;
                        hit += approx.contains((int) key) ? 1 : 0;
                    }
                }
            }
        }
        return total == 0 ? 1.0 : (double) hit / total;
    }
}
