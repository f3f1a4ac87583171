package io.cnnlens.model;

/** Softmax and top-k over one image's logits. */
public final class Predictions {

    private Predictions() {
    }

    /** Numerically stable softmax, computed in double. */
    public static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            sum += e[i];
        }
        float[] p = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            p[i] = (float) (e[i] / sum);
        }
        return p;
    }

    /** Indices of the k largest values, largest first (ties: lower index first). */
    public static int[] topK(float[] values, int k) {
        k = Math.min(k, values.length);
        int[] idx = new int[k];
        boolean[] taken = new boolean[values.length];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int i = 0; i < values.length; i++) {
                if (!taken[i] && (best < 0 || values[i] > values[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            idx[r] = best;
        }
        return idx;
    }

    /** Index of the largest value (the first of equals). */
    public static int argmax(float[] values) {
        int best = 0;
        for (int k = 1; k < values.length; k++) {
            if (values[k] > values[best]) {
                best = k;
            }
        }
        return best;
    }

    /** Index of the smallest value (the first of equals), e.g. the least likely class. */
    public static int argmin(float[] values) {
        int best = 0;
        for (int k = 1; k < values.length; k++) {
            if (values[k] < values[best]) {
                best = k;
            }
        }
        return best;
    }

    /** The softmax probability of class {@code k} alone, in double (no array). */
    public static double softmaxAt(float[] logits, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (float v : logits) {
            z += Math.exp(v - max);
        }
        return Math.exp(logits[k] - max) / z;
    }
}
