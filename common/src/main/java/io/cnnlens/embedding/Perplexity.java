package io.cnnlens.embedding;

/**
 * t-SNE's input affinities (van der Maaten & Hinton 2008): for one point, the Gaussian
 * conditional {@code p_j ∝ exp(−β·d_j)} over squared distances {@code d_j}, with the precision
 * β found by bisection so the distribution's perplexity {@code exp(H)} (H in nats) equals the
 * one asked for. Smile's own search mixes log bases and so calibrates to another perplexity
 * (docs/methods.md#smile-traps); this one is the paper's (docs/methods.md#perplexity-calibration).
 */
public final class Perplexity {

    /** Entropy tolerance (nats) and the most bisection steps. */
    static final double TOLERANCE = 1e-6;
    static final int MAX_STEPS = 200;

    private Perplexity() {
    }

    /** One calibrated row: precision β, the probabilities (0 at {@code self}), entropy in nats. */
    public record Row(double beta, double[] p, double entropy) {
    }

    /**
     * Calibrates the conditional distribution over {@code sq} (squared distances; entry
     * {@code self} ignored, −1 for none).
     */
    public static Row calibrate(double[] sq, int self, double perplexity) {
        int n = sq.length;
        if (perplexity <= 1 || (self >= 0 ? n - 1 : n) < 2) {
            throw new IllegalArgumentException("perplexity must exceed 1 and there must be at least 2 other points");
        }
        double min = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            if (j != self && sq[j] < min) {
                min = sq[j];
            }
        }
        double target = Math.log(perplexity);
        double beta = 1;
        double lo = 0;
        double hi = Double.POSITIVE_INFINITY;
        double[] p = new double[n];
        double h = 0;
        for (int step = 0; step < MAX_STEPS; step++) {
            h = fill(sq, self, min, beta, p);
            double diff = h - target;
            if (Math.abs(diff) < TOLERANCE) {
                break;
            }
            if (diff > 0) { // too flat: sharpen
                lo = beta;
                beta = Double.isInfinite(hi) ? beta * 2 : (beta + hi) / 2;
            } else {
                hi = beta;
                beta = (beta + lo) / 2;
            }
        }
        return new Row(beta, p, h);
    }

    /** Fills p with the normalised kernel at β; returns its entropy in nats. */
    private static double fill(double[] sq, int self, double min, double beta, double[] p) {
        double z = 0;
        double weighted = 0;
        for (int j = 0; j < sq.length; j++) {
            if (j == self) {
                p[j] = 0;
                continue;
            }
            double e = beta * (sq[j] - min);
            double w = Math.exp(-e);
            p[j] = w;
            z += w;
            weighted += w * e;
        }
        for (int j = 0; j < sq.length; j++) {
            p[j] /= z;
        }
        return Math.log(z) + weighted / z;
    }

    /** Entropy (nats) of a probability vector, for checks. */
    public static double entropy(double[] p) {
        double h = 0;
        for (double v : p) {
            if (v > 0) {
                h -= v * Math.log(v);
            }
        }
        return h;
    }
}
