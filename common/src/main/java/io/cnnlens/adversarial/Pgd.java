package io.cnnlens.adversarial;

import io.cnnlens.model.ModelForward;

import io.cnnlens.model.Predictions;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Projected gradient descent within an L∞ ball (Madry et al. 2018): from a random start in the
 * ball, {@code iterations} signed-gradient steps of {@code alpha} on the cross-entropy (away from
 * the original class when untargeted, towards the target when targeted), each followed by
 * projection onto the ε-ball around the image and onto the pixel range. All in 0..255 units. The
 * random start is seeded by the seed and the image's values, so results do not depend on the
 * batch. Success: the prediction differs from the original class (untargeted) or equals the
 * target (targeted).
 */
public final class Pgd {

    private final double epsilon;
    private final double alpha;
    private final int iterations;
    private final long seed;

    public Pgd(double epsilon, double alpha, int iterations, long seed) {
        if (!(epsilon > 0) || !(alpha > 0) || iterations < 1) {
            throw new IllegalArgumentException("PGD needs ε > 0, α > 0 and at least one iteration");
        }
        this.epsilon = epsilon;
        this.alpha = alpha;
        this.iterations = iterations;
        this.seed = seed;
    }

    /**
     * @param classes per image: the original class (untargeted) or the target class (targeted)
     */
    public Attack[] run(ModelForward f, PixelSpace ps, float[] pixels, int n, int[] classes, boolean targeted) {
        int per = ps.perImage();
        float[] x = new float[pixels.length];
        for (int i = 0; i < n; i++) {
            SplittableRandom r = new SplittableRandom(seed ^ contentHash(pixels, i * per, per));
            for (int j = 0; j < per; j++) {
                int k = i * per + j;
                x[k] = PixelSpace.clampPixel((float) (pixels[k] + (2 * r.nextDouble() - 1) * epsilon));
            }
        }
        for (int it = 0; it < iterations; it++) {
            float[] g = ps.logProbabilityGradient(f, x, n, classes, null);
            double sign = targeted ? 1 : -1; // targeted: raise log p(target); untargeted: lower log p(original)
            for (int k = 0; k < x.length; k++) {
                float stepped = (float) (x[k] + sign * alpha * Math.signum(g[k]));
                float lo = (float) Math.max(0, pixels[k] - epsilon);
                float hi = (float) Math.min(255, pixels[k] + epsilon);
                x[k] = Math.max(lo, Math.min(hi, stepped));
            }
        }
        float[][] logits = ps.logits(f, x, n);
        Attack[] out = new Attack[n];
        for (int i = 0; i < n; i++) {
            double[] nm = PixelSpace.norms(x, pixels, i * per, per);
            int pred = Predictions.argmax(logits[i]);
            boolean ok = targeted ? pred == classes[i] : pred != classes[i];
            out[i] = new Attack(Arrays.copyOfRange(x, i * per, (i + 1) * per), ok, iterations, nm[0], nm[1], pred,
                    Predictions.softmaxAt(logits[i], classes[i]));
        }
        return out;
    }

    static long contentHash(float[] x, int off, int len) {
        long h = 1125899906842597L;
        for (int j = 0; j < len; j += 3) {
            h = 31 * h + Float.floatToIntBits(x[off + j]);
        }
        return h;
    }
}
