package io.cnnlens.synthesis;

import io.cnnlens.adversarial.PixelSpace;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Feature inversion (Mahendran & Vedaldi 2015): reconstruct an image from a layer's features by
 * minimising {@code ‖φ(x) − φ(x₀)‖² / ‖φ(x₀)‖² + λ·TV(x)}, with TV the squared-gradient total
 * variation (β = 2) of the image on the 0..1 scale averaged over pixels, with Adam (β₁ 0.9, β₂
 * 0.999; robust to the very different gradient scales of shallow and deep layers) from the
 * dataset mean plus noise; the step size decays linearly to a tenth. The
 * reconstruction shows what the layer keeps of the image.
 */
public record FeatureInversion(int iterations, double learningRate, double tvWeight, long seed) {

    public static FeatureInversion defaults() {
        return new FeatureInversion(400, 0.02, 20, 1);
    }

    /** The reconstruction (0..255 pixels) and its final relative feature error. */
    public record Result(float[] pixels, double featureError) {
    }

    public Result run(ModelForward f, float[] originalPixels, String tap) {
        ModelSpec spec = f.spec();
        PixelSpace ps = new PixelSpace(spec);
        float[] target = f.run(ps.toInput(originalPixels), 1, List.of(tap), List.of()).values(tap)[0];
        int c = spec.channels();
        int h = spec.height();
        int w = spec.width();
        int plane = h * w;
        SplittableRandom r = new SplittableRandom(seed);
        float[] u = new float[c * plane]; // pixels on the 0..1 scale
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) Math.max(0, Math.min(1, spec.mean()[i / plane] + 0.1 * (r.nextDouble() - 0.5)));
        }
        float[] m1 = new float[u.length];
        float[] m2 = new float[u.length];
        double[] loss = new double[1];
        float[] px = new float[u.length];
        for (int it = 0; it < iterations; it++) {
            for (int i = 0; i < u.length; i++) {
                px[i] = u[i] * 255f;
            }
            float[] gIn = f.featureLossGradient(ps.toInput(px), tap, target, loss);
            double lr = learningRate * (1 - 0.9 * it / (double) iterations);
            for (int i = 0; i < u.length; i++) {
                double g = gIn[i] / spec.std()[i / plane]; // ∂/∂u = ∂/∂input / std
                g += tvWeight * tvGradient(u, i, h, w, plane) / plane;
                m1[i] = (float) (0.9 * m1[i] + 0.1 * g);
                m2[i] = (float) (0.999 * m2[i] + 0.001 * g * g);
                double mh = m1[i] / (1 - Math.pow(0.9, it + 1));
                double vh = m2[i] / (1 - Math.pow(0.999, it + 1));
                u[i] = (float) Math.max(0, Math.min(1, u[i] - lr * mh / (Math.sqrt(vh) + 1e-8)));
            }
        }
        for (int i = 0; i < u.length; i++) {
            px[i] = u[i] * 255f;
        }
        f.featureLossGradient(ps.toInput(px), tap, target, loss);
        return new Result(px, loss[0]);
    }

    /** ∂/∂u_i of Σ (u[y][x+1] − u[y][x])² + (u[y+1][x] − u[y][x])² within the pixel's channel. */
    static double tvGradient(float[] u, int i, int h, int w, int plane) {
        int base = (i / plane) * plane;
        int p = i - base;
        int y = p / w;
        int x = p % w;
        double g = 0;
        double ui = u[i];
        if (x + 1 < w) {
            g -= 2 * (u[i + 1] - ui);
        }
        if (x > 0) {
            g += 2 * (ui - u[i - 1]);
        }
        if (y + 1 < h) {
            g -= 2 * (u[i + w] - ui);
        }
        if (y > 0) {
            g += 2 * (ui - u[i - w]);
        }
        return g;
    }
}
