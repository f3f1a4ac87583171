package io.cnnlens.embedding;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * How well a space or a 2-D map keeps neighbourhoods, on points held in memory (a sample of at
 * most tens of thousands): leave-one-out kNN classification accuracy, and trustworthiness
 * (Venna & Kaski 2001, as scikit-learn's {@code trustworthiness}):
 * {@code T(k) = 1 − 2/(n·k·(2n − 3k − 1)) · Σ_i Σ_{j ∈ U_i} (r(i, j) − k)}, where U_i are the
 * map's k nearest neighbours of i that are not among its k nearest in the original space and
 * r(i, j) is j's rank by distance from i in the original space.
 */
public final class MapQuality {

    private static final int BLOCK = 512;

    private MapQuality() {
    }

    /**
     * Leave-one-out kNN accuracy: each point with a label (≥ 0) is classified by the majority
     * label among its k nearest others (ties: the label of the nearest tied neighbour).
     */
    public static double knnAccuracy(float[] x, int n, int d, int[] labels, int k, ExactKnn.Metric metric) {
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            keys[i] = i;
        }
        int correct = 0;
        int counted = 0;
        for (int start = 0; start < n; start += BLOCK) {
            int b = Math.min(BLOCK, n - start);
            float[] q = Arrays.copyOfRange(x, start * d, (start + b) * d);
            ExactKnn.Result r = ExactKnn.search(q, Arrays.copyOfRange(keys, start, start + b), x, keys, d, k, metric);
            for (int i = 0; i < b; i++) {
                int truth = labels[start + i];
                if (truth < 0) {
                    continue;
                }
                int[] votes = new int[k];
                for (int j = 0; j < k; j++) {
                    long key = r.key(i, j);
                    votes[j] = key < 0 ? -1 : labels[(int) key];
                }
                counted++;
                if (vote(votes) == truth) {
                    correct++;
                }
            }
        }
        return counted == 0 ? Double.NaN : (double) correct / counted;
    }

    /** Majority of the labels (nearest first; −1 ignored); ties go to the nearest tied label. */
    static int vote(int[] nearestFirst) {
        int best = -1;
        int bestCount = 0;
        for (int a = 0; a < nearestFirst.length; a++) {
            int l = nearestFirst[a];
            if (l < 0) {
                continue;
            }
            int c = 0;
            for (int v : nearestFirst) {
                if (v == l) {
                    c++;
                }
            }
            if (c > bestCount) {
                best = l;
                bestCount = c;
            }
        }
        return best;
    }

    /**
     * Trustworthiness of the map {@code low} (n×2) of {@code high} (n×d), both row-major; k < n/2.
     * Original-space distances come from a float32 matrix product.
     */
    public static double trustworthiness(float[] high, int d, float[] low, int n, int k) {
        if (k >= n / 2.0) {
            throw new IllegalArgumentException("trustworthiness needs k < n/2 (k " + k + ", n " + n + ")");
        }
        double sum = 0;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray all = m.create(FloatBuffer.wrap(high), new Shape(n, d));
            NDArray norms = all.square().sum(new int[] {1}).reshape(1, n);
            for (int start = 0; start < n; start += BLOCK) {
                int b = Math.min(BLOCK, n - start);
                float[] dist;
                try (NDManager blk = m.newSubManager()) {
                    NDArray q = blk.create(FloatBuffer.wrap(high, start * d, b * d), new Shape(b, d));
                    NDArray dd = q.square().sum(new int[] {1}, true).add(norms).sub(q.matMul(all.transpose()).mul(2));
                    dist = dd.toFloatArray();
                }
                for (int i = 0; i < b; i++) {
                    sum += penalty(dist, i * n, start + i, low, n, k);
                }
            }
        }
        return 1 - 2.0 / (n * (double) k * (2.0 * n - 3.0 * k - 1.0)) * sum;
    }

    /** Σ (r(i, j) − k) over the map's neighbours j of i that are not original-space neighbours. */
    private static double penalty(float[] dist, int off, int i, float[] low, int n, int k) {
        int[] highNn = nearest(j -> dist[off + j], n, i, k);
        int[] lowNn = nearest(j -> {
            double a = low[2 * i] - low[2 * j];
            double b = low[2 * i + 1] - low[2 * j + 1];
            return a * a + b * b;
        }, n, i, k);
        double p = 0;
        for (int j : lowNn) {
            boolean inHigh = false;
            for (int h : highNn) {
                if (h == j) {
                    inHigh = true;
                    break;
                }
            }
            if (inHigh) {
                continue;
            }
            double dj = dist[off + j];
            int rank = 1;
            for (int l = 0; l < n; l++) {
                if (l != i && (dist[off + l] < dj || (dist[off + l] == dj && l < j))) {
                    rank++;
                }
            }
            p += rank - k;
        }
        return p;
    }

    /** The k indices (≠ i) with the smallest distance, ties by index. */
    private static int[] nearest(java.util.function.IntToDoubleFunction dist, int n, int i, int k) {
        int[] idx = new int[k];
        double[] dv = new double[k];
        Arrays.fill(idx, -1);
        Arrays.fill(dv, Double.POSITIVE_INFINITY);
        for (int j = 0; j < n; j++) {
            if (j == i) {
                continue;
            }
            double v = dist.applyAsDouble(j);
            if (v < dv[k - 1]) {
                int p = k - 1;
                while (p > 0 && dv[p - 1] > v) {
                    dv[p] = dv[p - 1];
                    idx[p] = idx[p - 1];
                    p--;
                }
                dv[p] = v;
                idx[p] = j;
            }
        }
        return idx;
    }
}
