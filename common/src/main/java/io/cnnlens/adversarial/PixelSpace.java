package io.cnnlens.adversarial;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.util.List;

/**
 * Attacks work on pixels (0..255, the model's channels and size): perturbation norms are
 * reported in those units and pixels are kept in range. This converts to and from the model's
 * normalised input and carries gradients across ({@code ∂/∂pixel = ∂/∂input / (255·std)}).
 */
public final class PixelSpace {

    private final ModelSpec spec;
    private final int plane;
    private final int per;

    public PixelSpace(ModelSpec spec) {
        this.spec = spec;
        this.plane = spec.height() * spec.width();
        this.per = spec.channels() * plane;
    }

    public ModelSpec spec() {
        return spec;
    }

    public int perImage() {
        return per;
    }

    /** Model input (normalised) for pixel values. */
    public float[] toInput(float[] pixels) {
        float[] x = new float[pixels.length];
        for (int i = 0; i < x.length; i++) {
            int c = (i % per) / plane;
            x[i] = (pixels[i] / 255f - spec.mean()[c]) / spec.std()[c];
        }
        return x;
    }

    /** A gradient with respect to the model input, re-expressed per pixel unit (in place). */
    public float[] toPixelGradient(float[] g) {
        for (int i = 0; i < g.length; i++) {
            int c = (i % per) / plane;
            g[i] = g[i] / (255f * spec.std()[c]);
        }
        return g;
    }

    /** Logits of n images given as pixels. */
    public float[][] logits(ModelForward f, float[] pixels, int n) {
        return f.run(toInput(pixels), n, List.of(spec.logitsTap()), List.of()).values(spec.logitsTap());
    }

    /** ∂ logit[target] / ∂ pixel for n images. */
    public float[] logitGradient(ModelForward f, float[] pixels, int n, int[] targets) {
        return toPixelGradient(f.inputGradient(toInput(pixels), n, spec.logitsTap(), targets));
    }

    /** ∂ log p[target] / ∂ pixel for n images; logits written to {@code logitsOut} if not null. */
    public float[] logProbabilityGradient(ModelForward f, float[] pixels, int n, int[] targets, float[][] logitsOut) {
        return toPixelGradient(f.logProbabilityGradient(toInput(pixels), n, targets, logitsOut));
    }

    static float clampPixel(float v) {
        return Math.max(0f, Math.min(255f, v));
    }

    /** L2 and L∞ norms of a − b per image. */
    public static double[] norms(float[] a, float[] b, int off, int len) {
        double l2 = 0;
        double linf = 0;
        for (int j = 0; j < len; j++) {
            double d = a[off + j] - b[off + j];
            l2 += d * d;
            linf = Math.max(linf, Math.abs(d));
        }
        return new double[] {Math.sqrt(l2), linf};
    }
}
