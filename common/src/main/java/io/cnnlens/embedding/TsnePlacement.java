package io.cnnlens.embedding;

import java.io.Serializable;

/**
 * Places new points into a fixed t-SNE map, one at a time, as openTSNE's {@code transform} does:
 * the new point's affinities to the reference points (Gaussian, calibrated to a small perplexity
 * by {@link Perplexity}), a start at the affinity-weighted mean of the references' positions,
 * then gradient descent on {@code KL(p ‖ q)} with the references held still, where
 * {@code q_j ∝ (1 + ‖y − y_j‖²)⁻¹} over the references. Gradient:
 * {@code 2·Σ_j (p_j − q_j)(1 + ‖y − y_j‖²)⁻¹ (y − y_j)}. Cost per point: iterations × references.
 * Immutable and serialisable: broadcast it to executors.
 */
public final class TsnePlacement implements Serializable {

    private static final long serialVersionUID = 1L;

    private final float[] refX;
    private final float[] refY;
    private final int n;
    private final int d;
    private final double perplexity;
    private final int iterations;
    private final double learningRate;

    /**
     * @param refX references in the input space (n×d, row-major)
     * @param refY their map positions (n×2, row-major)
     */
    public TsnePlacement(float[] refX, float[] refY, int d, double perplexity, int iterations, double learningRate) {
        this.n = refY.length / 2;
        if (refX.length != n * d || n < 3) {
            throw new IllegalArgumentException("need at least 3 reference points with " + d + " dims each");
        }
        this.refX = refX.clone();
        this.refY = refY.clone();
        this.d = d;
        this.perplexity = Math.min(perplexity, n - 1.5);
        this.iterations = iterations;
        this.learningRate = learningRate;
    }

    /** The map position {x, y} of a point {@code x} (d values). */
    public double[] place(float[] x) {
        double[] sq = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            int b = j * d;
            for (int c = 0; c < d; c++) {
                double t = (double) x[c] - refX[b + c];
                s += t * t;
            }
            sq[j] = s;
        }
        double[] p = Perplexity.calibrate(sq, -1, perplexity).p();
        double y0 = 0;
        double y1 = 0;
        for (int j = 0; j < n; j++) {
            y0 += p[j] * refY[2 * j];
            y1 += p[j] * refY[2 * j + 1];
        }
        double v0 = 0;
        double v1 = 0;
        double momentum = 0.5;
        double[] w = new double[n];
        for (int it = 0; it < iterations; it++) {
            double z = 0;
            for (int j = 0; j < n; j++) {
                double a = y0 - refY[2 * j];
                double b = y1 - refY[2 * j + 1];
                double wj = 1 / (1 + a * a + b * b);
                w[j] = wj;
                z += wj;
            }
            double g0 = 0;
            double g1 = 0;
            for (int j = 0; j < n; j++) {
                double f = (p[j] - w[j] / z) * w[j];
                g0 += f * (y0 - refY[2 * j]);
                g1 += f * (y1 - refY[2 * j + 1]);
            }
            v0 = momentum * v0 - learningRate * 2 * g0;
            v1 = momentum * v1 - learningRate * 2 * g1;
            y0 += v0;
            y1 += v1;
            if (it == 20) {
                momentum = 0.8;
            }
        }
        return new double[] {y0, y1};
    }
}
