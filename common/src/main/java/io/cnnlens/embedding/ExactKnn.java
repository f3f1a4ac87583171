package io.cnnlens.embedding;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.Serializable;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Exact k nearest neighbours of a block of queries in a block of reference rows, by one matrix
 * product: {@code ‖q‖² + ‖r‖² − 2·QRᵀ} (PyTorch's float32 GEMM; the row constant ‖q‖² is left out of the ranking; for cosine,
 * {@code −Q̂R̂ᵀ} of unit rows), a top-(k + margin) per query
 * row, then the candidates' distances recomputed directly in double precision and re-sorted, so
 * rounding in the product cannot reorder neighbours. Blocks of a large collection are searched
 * one pair at a time and their results {@link Result#merge merged}; memory is one
 * {@code queries × references} float block. Rows whose keys are equal (a query and itself)
 * are never neighbours.
 *
 * <p>Distances: {@code L2} is the Euclidean distance; {@code COSINE} is {@code 1 − cos}
 * (a zero vector is at distance 1 from everything). Ties rank by the smaller reference key.
 */
public final class ExactKnn {

    public enum Metric { L2, COSINE }

    /** Candidates fetched beyond k before the exact re-ranking. */
    static final int MARGIN = 8;

    private ExactKnn() {
    }

    /** The k best (key, distance) per query, best first; key −1 (distance +∞) where fewer exist. */
    public record Result(int queries, int k, long[] keys, float[] distances) implements Serializable {

        public long key(int query, int rank) {
            return keys[query * k + rank];
        }

        public float distance(int query, int rank) {
            return distances[query * k + rank];
        }

        /** An empty result: no neighbours yet. */
        public static Result empty(int queries, int k) {
            long[] keys = new long[queries * k];
            float[] d = new float[queries * k];
            Arrays.fill(keys, -1);
            Arrays.fill(d, Float.POSITIVE_INFINITY);
            return new Result(queries, k, keys, d);
        }

        /** The k best of both, per query (same queries, same k). */
        public Result merge(Result o) {
            if (o.queries != queries || o.k != k) {
                throw new IllegalArgumentException("cannot merge results of different shapes");
            }
            long[] keys = new long[queries * k];
            float[] dist = new float[queries * k];
            for (int q = 0; q < queries; q++) {
                int a = 0;
                int b = 0;
                int base = q * k;
                for (int r = 0; r < k; r++) {
                    boolean takeA = better(distances[base + a], this.keys[base + a], o.distances[base + b], o.keys[base + b]);
                    if (takeA) {
                        keys[base + r] = this.keys[base + a];
                        dist[base + r] = distances[base + a];
                        a++;
                    } else {
                        keys[base + r] = o.keys[base + b];
                        dist[base + r] = o.distances[base + b];
                        b++;
                    }
                }
            }
            return new Result(queries, k, keys, dist);
        }

        /** Whether (da, ka) ranks before (db, kb): nearer, then the smaller key; key −1 (none) last. */
        static boolean better(float da, long ka, float db, long kb) {
            if (ka < 0) {
                return false;
            }
            if (kb < 0) {
                return true;
            }
            return da < db || (da == db && ka <= kb);
        }
    }

    /**
     * Searches {@code nr} reference rows for each of {@code nq} query rows (both row-major,
     * {@code d} columns). {@code queryKeys}/{@code refKeys} identify rows globally (≥ 0).
     */
    public static Result search(float[] queries, long[] queryKeys, float[] refs, long[] refKeys, int d, int k,
                                Metric metric) {
        return search(queries, queryKeys, refs, refKeys, d, k, 0, metric).rows();
    }

    /**
     * One product read both ways: each query row's k nearest references ({@link Both#rows}) and
     * each reference row's {@code kColumns} nearest queries ({@link Both#columns}, in reference
     * order; none when {@code kColumns} is 0). For a search of a few new rows against all whose
     * old rows also want their nearest new ones: half the work of two searches.
     */
    public static Both search(float[] queries, long[] queryKeys, float[] refs, long[] refKeys, int d, int k, int kColumns,
                              Metric metric) {
        int nq = queryKeys.length;
        int nr = refKeys.length;
        if (k < 1 || kColumns < 0) {
            throw new IllegalArgumentException("k must be at least 1 (and kColumns at least 0), not " + k + " (" + kColumns + ")");
        }
        if (queries.length != nq * d || refs.length != nr * d) {
            throw new IllegalArgumentException("matrix sizes do not match " + nq + "/" + nr + " rows of " + d);
        }
        if (nq == 0 || nr == 0) {
            return new Both(Result.empty(nq, k), Result.empty(nr, Math.max(kColumns, 1)));
        }
        float[] q = metric == Metric.COSINE ? unitRows(queries, nq, d) : queries;
        float[] r = metric == Metric.COSINE ? unitRows(refs, nr, d) : refs;
        int fetch = Math.min(nr, k + MARGIN + 1);
        int fetchColumns = Math.min(nq, kColumns + MARGIN + 1);
        long[] candidates;
        long[] columnCandidates = null;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray qa = m.create(FloatBuffer.wrap(q), new Shape(nq, d));
            NDArray ra = m.create(FloatBuffer.wrap(r), new Shape(nr, d));
            NDArray dist;
            if (metric == Metric.COSINE) {
                dist = qa.matMul(ra.transpose().neg()); // 1 − cos, less the constant 1
            } else {
                // ‖r‖² − 2·q·r: the row constant ‖q‖² does not change a row's order; scaling the
                // smaller factor keeps this to one pass over the product
                NDArray rn = ra.square().sum(new int[] {1}).reshape(1, nr);
                dist = qa.matMul(ra.transpose().mul(-2)).addi(rn);
            }
            candidates = dist.topK(fetch, 1, false, true).get(1).toLongArray();
            if (kColumns > 0) {
                if (metric == Metric.L2) {
                    // a column's order needs ‖q‖² − 2·q·r: take ‖r‖² out again and put ‖q‖² in
                    NDArray rn = ra.square().sum(new int[] {1}).reshape(1, nr);
                    NDArray qn = qa.square().sum(new int[] {1}).reshape(nq, 1);
                    dist = dist.subi(rn).addi(qn);
                }
                columnCandidates = dist.topK(fetchColumns, 0, false, true).get(1).toLongArray();
            }
        }
        Result rows = rerank(q, queryKeys, r, refKeys, d, k, candidates, fetch, false, metric);
        Result columns = kColumns == 0 ? Result.empty(nr, 1)
                : rerank(r, refKeys, q, queryKeys, d, kColumns, columnCandidates, fetchColumns, true, metric);
        return new Both(rows, columns);
    }

    /** Both directions of one product: the queries' nearest references and the references' nearest queries. */
    public record Both(Result rows, Result columns) implements Serializable {
    }

    /**
     * Each of {@code a}'s rows' k nearest of {@code b}'s, from {@code fetch} candidates per row
     * (indexes into b; row i's j-th at {@code i·fetch + j}, or at {@code j·na + i} when
     * {@code transposed}), their distances recomputed in double precision and re-sorted.
     */
    private static Result rerank(float[] a, long[] aKeys, float[] b, long[] bKeys, int d, int k, long[] candidates, int fetch,
                                 boolean transposed, Metric metric) {
        int na = aKeys.length;
        Result out = Result.empty(na, k);
        double[] cd = new double[fetch];
        int[] order = new int[fetch];
        for (int i = 0; i < na; i++) {
            int n = 0;
            for (int j = 0; j < fetch; j++) {
                int c = (int) candidates[transposed ? j * na + i : i * fetch + j];
                if (bKeys[c] == aKeys[i]) {
                    continue;
                }
                cd[n] = metric == Metric.COSINE ? 1 - dot(a, i, b, c, d) : squaredDistance(a, i, b, c, d);
                order[n++] = c;
            }
            sortByDistance(order, cd, n, bKeys);
            int base = i * k;
            for (int j = 0; j < Math.min(k, n); j++) {
                out.keys()[base + j] = bKeys[order[j]];
                out.distances()[base + j] = (float) (metric == Metric.COSINE ? cd[j] : Math.sqrt(cd[j]));
            }
        }
        return out;
    }

    static double squaredDistance(float[] a, int i, float[] b, int j, int d) {
        double s = 0;
        int ai = i * d;
        int bj = j * d;
        for (int c = 0; c < d; c++) {
            double t = (double) a[ai + c] - b[bj + c];
            s += t * t;
        }
        return s;
    }

    static double dot(float[] a, int i, float[] b, int j, int d) {
        double s = 0;
        int ai = i * d;
        int bj = j * d;
        for (int c = 0; c < d; c++) {
            s += (double) a[ai + c] * b[bj + c];
        }
        return s;
    }

    private static void sortByDistance(int[] idx, double[] dist, int n, long[] keys) {
        // insertion sort: n ≤ k + margin + 1
        for (int a = 1; a < n; a++) {
            int ci = idx[a];
            double cdv = dist[a];
            int b = a - 1;
            while (b >= 0 && (dist[b] > cdv || (dist[b] == cdv && keys[idx[b]] > keys[ci]))) {
                idx[b + 1] = idx[b];
                dist[b + 1] = dist[b];
                b--;
            }
            idx[b + 1] = ci;
            dist[b + 1] = cdv;
        }
    }

    /** Rows scaled to unit length (zero rows stay zero). */
    public static float[] unitRows(float[] x, int n, int d) {
        float[] out = new float[x.length];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int c = 0; c < d; c++) {
                s += (double) x[i * d + c] * x[i * d + c];
            }
            double inv = s > 0 ? 1 / Math.sqrt(s) : 0;
            for (int c = 0; c < d; c++) {
                out[i * d + c] = (float) (x[i * d + c] * inv);
            }
        }
        return out;
    }
}
