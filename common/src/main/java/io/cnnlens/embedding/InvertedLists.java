package io.cnnlens.embedding;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Approximate k nearest neighbours by inverted lists (Jégou et al. 2011's IVF, FAISS's
 * {@code IndexIVFFlat}): the reference rows are grouped by their nearest centroid (a k-means
 * codebook fitted elsewhere); a query is compared exactly, by {@link ExactKnn}'s matrix products,
 * with the rows of the {@code probes} lists whose centroids are nearest to it, and keeps the k
 * best. Recall grows with {@code probes}; {@code probes = lists} is exact search
 * (docs/methods.md#barnes-hut-t-sne). Distances are Euclidean; a row is never its own neighbour
 * (equal keys).
 */
public final class InvertedLists implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Rows per matrix product: queries and references of one list are searched in blocks of these. */
    static final int QUERY_BLOCK = 2048;
    static final int REF_BLOCK = 8192;

    private final int d;
    private final int lists;
    private final float[] centroids;
    private final int[] offsets;
    private final long[] keys;
    private final float[] rows;

    private InvertedLists(int d, float[] centroids, int[] offsets, long[] keys, float[] rows) {
        this.d = d;
        this.lists = centroids.length / d;
        this.centroids = centroids;
        this.offsets = offsets;
        this.keys = keys;
        this.rows = rows;
    }

    /**
     * Groups {@code rows} ({@code keys.length} × d, row-major; keys ≥ 0, distinct) by their nearest
     * of the {@code centroids} (lists × d).
     */
    public static InvertedLists of(float[] centroids, int d, long[] keys, float[] rows) {
        if (d < 1 || centroids.length == 0 || centroids.length % d != 0) {
            throw new IllegalArgumentException("centroids must be a non-empty lists x " + d + " matrix");
        }
        if (rows.length != keys.length * d) {
            throw new IllegalArgumentException(keys.length + " keys but " + rows.length / d + " rows of " + d);
        }
        int lists = centroids.length / d;
        int n = keys.length;
        int[] list = new int[n];
        for (int from = 0; from < n; from += REF_BLOCK) {
            int to = Math.min(n, from + REF_BLOCK);
            int[] near = nearest(centroids, lists, d, rows, from, to, 1);
            System.arraycopy(near, 0, list, from, to - from);
        }
        int[] offsets = starts(list, lists);
        int[] at = Arrays.copyOf(offsets, lists);
        long[] k2 = new long[n];
        float[] r2 = new float[n * d];
        for (int i = 0; i < n; i++) {
            int p = at[list[i]]++;
            k2[p] = keys[i];
            System.arraycopy(rows, i * d, r2, p * d, d);
        }
        return new InvertedLists(d, centroids.clone(), offsets, k2, r2);
    }

    public int lists() {
        return lists;
    }

    public int size() {
        return keys.length;
    }

    public int dimension() {
        return d;
    }

    /** Rows in the largest list. */
    public int largestList() {
        int max = 0;
        for (int l = 0; l < lists; l++) {
            max = Math.max(max, offsets[l + 1] - offsets[l]);
        }
        return max;
    }

    /**
     * The k nearest rows to each query ({@code queryKeys.length} × d, row-major), among the rows
     * of its {@code probes} nearest lists; key −1 where fewer than k rows were seen.
     */
    public ExactKnn.Result search(float[] queries, long[] queryKeys, int k, int probes) {
        int nq = queryKeys.length;
        if (queries.length != nq * d) {
            throw new IllegalArgumentException(nq + " query keys but " + queries.length / d + " rows of " + d);
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, not " + k);
        }
        int probe = Math.max(1, Math.min(probes, lists));
        int[] probed = nearest(centroids, lists, d, queries, 0, nq, probe);
        // queries of each list: counting sort of (query, list) pairs by list
        int[] count = starts(probed, lists);
        int[] at = Arrays.copyOf(count, lists);
        int[] byList = new int[probed.length];
        for (int i = 0; i < probed.length; i++) {
            byList[at[probed[i]]++] = i / probe;
        }
        ExactKnn.Result acc = ExactKnn.Result.empty(nq, k);
        for (int l = 0; l < lists; l++) {
            int rFrom = offsets[l];
            int rTo = offsets[l + 1];
            if (rFrom == rTo) {
                continue;
            }
            for (int qFrom = count[l]; qFrom < count[l + 1]; qFrom += QUERY_BLOCK) {
                int qTo = Math.min(count[l + 1], qFrom + QUERY_BLOCK);
                int m = qTo - qFrom;
                float[] q = new float[m * d];
                long[] qk = new long[m];
                for (int j = 0; j < m; j++) {
                    int qi = byList[qFrom + j];
                    System.arraycopy(queries, qi * d, q, j * d, d);
                    qk[j] = queryKeys[qi];
                }
                for (int from = rFrom; from < rTo; from += REF_BLOCK) {
                    int to = Math.min(rTo, from + REF_BLOCK);
                    ExactKnn.Result part = ExactKnn.search(q, qk, Arrays.copyOfRange(rows, from * d, to * d),
                            Arrays.copyOfRange(keys, from, to), d, k, ExactKnn.Metric.L2);
                    for (int j = 0; j < m; j++) {
                        mergeRow(acc, byList[qFrom + j], part, j);
                    }
                }
            }
        }
        return acc;
    }

    /** Where each list's entries start when {@code list} (list numbers) is sorted by list: lists + 1 offsets. */
    private static int[] starts(int[] list, int lists) {
        int[] offsets = new int[lists + 1];
        for (int l : list) {
            offsets[l + 1]++;
        }
        for (int l = 0; l < lists; l++) {
            offsets[l + 1] += offsets[l];
        }
        return offsets;
    }

    /** Row {@code q} of {@code acc} becomes the k best of itself and row {@code j} of {@code part}. */
    private static void mergeRow(ExactKnn.Result acc, int q, ExactKnn.Result part, int j) {
        int k = acc.k();
        long[] ak = acc.keys();
        float[] ad = acc.distances();
        long[] pk = part.keys();
        float[] pd = part.distances();
        int base = q * k;
        int pbase = j * k;
        long[] keys = new long[k];
        float[] dist = new float[k];
        int a = 0;
        int b = 0;
        for (int r = 0; r < k; r++) {
            boolean takeA = ExactKnn.Result.better(ad[base + a], ak[base + a], pd[pbase + b], pk[pbase + b]);
            if (takeA) {
                keys[r] = ak[base + a];
                dist[r] = ad[base + a++];
            } else {
                keys[r] = pk[pbase + b];
                dist[r] = pd[pbase + b++];
            }
        }
        System.arraycopy(keys, 0, ak, base, k);
        System.arraycopy(dist, 0, ad, base, k);
    }

    /**
     * The {@code probes} nearest centroids of rows {@code from}..{@code to} of {@code x}, as
     * (to − from) × probes list numbers, nearest first.
     */
    static int[] nearest(float[] centroids, int lists, int d, float[] x, int from, int to, int probes) {
        int n = to - from;
        int[] out = new int[n * probes];
        long[] centroidKeys = new long[lists];
        for (int l = 0; l < lists; l++) {
            centroidKeys[l] = l;
        }
        for (int b = 0; b < n; b += QUERY_BLOCK) {
            int e = Math.min(n, b + QUERY_BLOCK);
            long[] none = new long[e - b];
            Arrays.fill(none, Long.MAX_VALUE); // no centroid has this key, so none is skipped as "itself"
            ExactKnn.Result r = ExactKnn.search(Arrays.copyOfRange(x, (from + b) * d, (from + e) * d), none, centroids,
                    centroidKeys, d, probes, ExactKnn.Metric.L2);
            for (int i = 0; i < e - b; i++) {
                for (int p = 0; p < probes; p++) {
                    out[(b + i) * probes + p] = (int) r.key(i, p);
                }
            }
        }
        return out;
    }
}
