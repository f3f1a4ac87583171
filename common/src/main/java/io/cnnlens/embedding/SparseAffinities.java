package io.cnnlens.embedding;

import java.util.Arrays;

/**
 * t-SNE's input affinities from nearest neighbours only (van der Maaten 2014): for each point the
 * Gaussian conditional p_{j|i} over its k (≈ 3·perplexity) nearest neighbours, calibrated to the
 * perplexity by {@link Perplexity} (entropy in nats), then symmetrised into the joint
 * {@code p_ij = (p_{j|i} + p_{i|j}) / (2n)}, which sums to 1, held as a compressed sparse row
 * matrix. Code notes: docs/methods.md#barnes-hut-t-sne.
 */
public final class SparseAffinities {

    private SparseAffinities() {
    }

    /**
     * A symmetric sparse matrix by rows: row i's columns are {@code cols[rowStart[i] .. rowStart[i+1])}
     * (ascending, no diagonal), with values {@code values} at the same positions; the arrays
     * may be longer than {@link #entries()}.
     */
    public record Csr(int n, int[] rowStart, int[] cols, float[] values) {

        public int entries() {
            return rowStart[n];
        }

        /** The value at (i, j), 0 if absent. */
        public double get(int i, int j) {
            int at = Arrays.binarySearch(cols, rowStart[i], rowStart[i + 1], j);
            return at >= 0 ? values[at] : 0;
        }

        /** Bytes the arrays take. */
        public long bytes() {
            return 4L * (n + 1) + 4L * cols.length + 4L * values.length;
        }
    }

    /**
     * One point's conditional distribution over its neighbours (squared distances {@code sq},
     * any order; entries of {@code NaN} or +∞ are absent neighbours and get 0).
     */
    public static float[] conditional(double[] sq, double perplexity) {
        int present = 0;
        for (double v : sq) {
            if (Double.isFinite(v)) {
                present++;
            }
        }
        float[] out = new float[sq.length];
        if (present == 0) {
            return out;
        }
        double[] row = new double[present];
        int at = 0;
        for (double v : sq) {
            if (Double.isFinite(v)) {
                row[at++] = v;
            }
        }
        double[] p;
        if (present == 1) {
            p = new double[] {1};
        } else {
            p = Perplexity.calibrate(row, -1, Math.min(perplexity, present - 0.5)).p();
        }
        at = 0;
        for (int j = 0; j < sq.length; j++) {
            if (Double.isFinite(sq[j])) {
                out[j] = (float) p[at++];
            }
        }
        return out;
    }

    /**
     * Symmetrises the conditionals: {@code neighbours} and {@code p} are n×k row-major (row i:
     * point i's k neighbours and p_{j|i}); a neighbour −1 (or i itself) is absent.
     */
    public static Csr symmetrise(int n, int k, int[] neighbours, float[] p) {
        if (neighbours.length != (long) n * k || p.length != neighbours.length) {
            throw new IllegalArgumentException("need n×k neighbours and probabilities (n " + n + ", k " + k + ")");
        }
        int[] count = new int[n + 1];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < k; r++) {
                int j = neighbours[i * k + r];
                if (j >= 0 && j != i) {
                    if (j >= n) {
                        throw new IllegalArgumentException("neighbour " + j + " of point " + i + " is not below n = " + n);
                    }
                    count[i + 1]++;
                    count[j + 1]++;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            count[i + 1] += count[i];
        }
        int total = count[n];
        int[] cols = new int[total];
        float[] vals = new float[total];
        int[] fill = Arrays.copyOf(count, n);
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < k; r++) {
                int j = neighbours[i * k + r];
                if (j >= 0 && j != i) {
                    float v = p[i * k + r];
                    cols[fill[i]] = j;
                    vals[fill[i]++] = v;
                    cols[fill[j]] = i;
                    vals[fill[j]++] = v;
                }
            }
        }
        // sort each row by column and add duplicates (j in i's list and i in j's), in place
        int[] start = new int[n + 1];
        int write = 0;
        double scale = 1.0 / (2.0 * n);
        long[] packed = new long[0];
        for (int i = 0; i < n; i++) {
            int a = count[i];
            int b = count[i + 1];
            int len = b - a;
            if (packed.length < len) {
                packed = new long[Math.max(len, packed.length * 2)];
            }
            for (int t = 0; t < len; t++) {
                packed[t] = ((long) cols[a + t] << 32) | (Float.floatToRawIntBits(vals[a + t]) & 0xffffffffL);
            }
            Arrays.sort(packed, 0, len);
            start[i] = write;
            int t = 0;
            while (t < len) {
                int c = (int) (packed[t] >>> 32);
                double s = Float.intBitsToFloat((int) packed[t]);
                t++;
                while (t < len && (int) (packed[t] >>> 32) == c) {
                    s += Float.intBitsToFloat((int) packed[t]);
                    t++;
                }
                cols[write] = c;
                vals[write++] = (float) (s * scale);
            }
        }
        start[n] = write;
        // not trimmed: a copy would be the peak (the slack is the pairs found from both sides)
        return new Csr(n, start, cols, vals);
    }
}
