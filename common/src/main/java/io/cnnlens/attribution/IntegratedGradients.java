package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

/**
 * Integrated gradients (Sundararajan, Taly & Yan 2017): {@code (x − x')·∫₀¹ ∂S(x' + α(x − x'))/∂x dα},
 * summed over channels (signed), with the integral as a midpoint Riemann sum of {@code steps}
 * points, S the unnormalised class score and x' a black image (pixel value 0, normalised by the
 * spec). Completeness: the map sums to S(x) − S(x') up to the Riemann error. Cost: steps ×
 * (forward + backward).
 */
public final class IntegratedGradients implements Saliency {

    private final int steps;

    public IntegratedGradients(int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("integrated gradients needs steps ≥ 1");
        }
        this.steps = steps;
    }

    public IntegratedGradients() {
        this(32);
    }

    @Override
    public String name() {
        return "integrated-gradients";
    }

    @Override
    public boolean signed() {
        return true;
    }

    /** The black image in normalised input values, one per channel. */
    static float[] blackBaseline(io.cnnlens.model.ModelSpec s) {
        float[] b = new float[s.channels()];
        for (int c = 0; c < b.length; c++) {
            b[c] = -s.mean()[c] / s.std()[c];
        }
        return b;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        io.cnnlens.model.ModelSpec spec = f.spec();
        int per = Gradients.perImage(spec);
        int plane = Gradients.plane(spec);
        float[] base = blackBaseline(spec);
        float[] avg = new float[n * per];
        float[] point = new float[n * per];
        for (int k = 0; k < steps; k++) {
            float alpha = (k + 0.5f) / steps;
            for (int i = 0; i < n * per; i++) {
                float b = base[(i % per) / plane];
                point[i] = b + alpha * (input[i] - b);
            }
            float[] g = f.inputGradient(point, n, spec.logitsTap(), targets);
            for (int i = 0; i < n * per; i++) {
                avg[i] += g[i] / steps;
            }
        }
        float[][] out = new float[n][plane];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < spec.channels(); c++) {
                for (int p = 0; p < plane; p++) {
                    int j = i * per + c * plane + p;
                    out[i][p] += (input[j] - base[c]) * avg[j];
                }
            }
        }
        return out;
    }
}
