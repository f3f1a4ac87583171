package io.cnnlens.adversarial;

import io.cnnlens.model.ModelForward;

import io.cnnlens.model.Predictions;
import io.cnnlens.stats.Permutations;
import java.util.SplittableRandom;

/**
 * Universal adversarial perturbations (Moosavi-Dezfooli et al. 2017): one perturbation v with
 * ‖v‖_p ≤ ξ that changes the prediction of most images. The paper's algorithm: pass over the
 * images in a seeded random order; for each image whose prediction v does not yet change, add
 * the minimal DeepFool step that changes it and project v back onto the ξ-ball; stop when the
 * fooling rate on these images reaches 1 − δ or after {@code maxPasses}. Sequential by design
 * (each step depends on v so far); pixels of x + v are clipped to 0..255 when classified.
 * Also: the projection, fooling rates, and random noise of the same norm, shared with the
 * data-parallel variant.
 */
public final class UniversalPerturbation {

    private UniversalPerturbation() {
    }

    /** The fitted perturbation and how it got there. */
    public record Fit(float[] v, int passes, double fitFoolingRate, double seconds) {
    }

    public static Fit fit(ModelForward f, PixelSpace ps, float[] images, int n, DeepFool.Norm p, double xi, double delta,
                          int maxPasses, long seed) {
        long t0 = System.nanoTime();
        int per = ps.perImage();
        int[] clean = predictions(f, ps, images, n, null);
        float[] v = new float[per];
        DeepFool deepFool = new DeepFool(p, 50, 0.02);
        double rate = 0;
        int pass = 0;
        float[] one = new float[per];
        while (pass < maxPasses) {
            pass++;
            int[] order = Permutations.random(n, seed + pass);
            for (int i : order) {
                for (int j = 0; j < per; j++) {
                    one[j] = PixelSpace.clampPixel(images[i * per + j] + v[j]);
                }
                if (Predictions.argmax(ps.logits(f, one, 1)[0]) != clean[i]) {
                    continue;
                }
                float[] dv = deepFool.perturbation(f, ps, one);
                if (dv == null) {
                    continue;
                }
                for (int j = 0; j < per; j++) {
                    v[j] += dv[j];
                }
                project(v, p, xi);
            }
            rate = foolingRate(f, ps, images, n, clean, v);
            if (rate >= 1 - delta) {
                break;
            }
        }
        return new Fit(v, pass, rate, (System.nanoTime() - t0) / 1e9);
    }

    /** Projects v onto {‖v‖_p ≤ ξ} in place. */
    public static void project(float[] v, DeepFool.Norm p, double xi) {
        if (p == DeepFool.Norm.LINF) {
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) Math.max(-xi, Math.min(xi, v[j]));
            }
            return;
        }
        double n = 0;
        for (float x : v) {
            n += (double) x * x;
        }
        n = Math.sqrt(n);
        if (n > xi) {
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) (v[j] * xi / n);
            }
        }
    }

    /** Predictions of the images with v added (clipped to 0..255); v null for the clean images. */
    public static int[] predictions(ModelForward f, PixelSpace ps, float[] images, int n, float[] v) {
        int per = ps.perImage();
        int[] out = new int[n];
        int batch = 256;
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            float[] x = new float[b * per];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < per; j++) {
                    float px = images[(start + i) * per + j];
                    x[i * per + j] = v == null ? px : PixelSpace.clampPixel(px + v[j]);
                }
            }
            float[][] l = ps.logits(f, x, b);
            for (int i = 0; i < b; i++) {
                out[start + i] = Predictions.argmax(l[i]);
            }
        }
        return out;
    }

    /** The fraction of images whose prediction v changes. */
    public static double foolingRate(ModelForward f, PixelSpace ps, float[] images, int n, int[] clean, float[] v) {
        int[] adv = predictions(f, ps, images, n, v);
        int fooled = 0;
        for (int i = 0; i < n; i++) {
            if (adv[i] != clean[i]) {
                fooled++;
            }
        }
        return (double) fooled / n;
    }

    /**
     * Random noise of the same norm: for L∞ every pixel ±ξ with a random sign (the largest noise
     * of that L∞ norm); for L2 a Gaussian vector scaled to length ξ.
     */
    public static float[] randomNoise(int size, DeepFool.Norm p, double xi, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[size];
        if (p == DeepFool.Norm.LINF) {
            for (int j = 0; j < size; j++) {
                v[j] = (float) (r.nextBoolean() ? xi : -xi);
            }
            return v;
        }
        double n = 0;
        for (int j = 0; j < size; j++) {
            double u = r.nextDouble();
            double w = r.nextDouble();
            v[j] = (float) (Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w));
            n += (double) v[j] * v[j];
        }
        double scale = xi / Math.sqrt(n);
        for (int j = 0; j < size; j++) {
            v[j] = (float) (v[j] * scale);
        }
        return v;
    }

    /**
     * One step of the data-parallel variant (Shafahi et al. 2020): v ← P(v + lr·d), where d is
     * the sign of the summed loss gradient (L∞) or its unit vector (L2).
     */
    public static void sgdStep(float[] v, double[] gradientSum, DeepFool.Norm p, double xi, double lr) {
        if (p == DeepFool.Norm.LINF) {
            for (int j = 0; j < v.length; j++) {
                v[j] += (float) (lr * Math.signum(gradientSum[j]));
            }
        } else {
            double n = 0;
            for (double g : gradientSum) {
                n += g * g;
            }
            n = Math.sqrt(n);
            if (n > 0) {
                for (int j = 0; j < v.length; j++) {
                    v[j] += (float) (lr * gradientSum[j] / n);
                }
            }
        }
        project(v, p, xi);
    }

    /**
     * The summed gradient, over n images, of the cross-entropy of their clean prediction at
     * x + v (to be increased), with respect to v; zero where x + v leaves the pixel range.
     */
    public static double[] lossGradientSum(ModelForward f, PixelSpace ps, float[] images, int n, int[] clean, float[] v) {
        int per = ps.perImage();
        double[] sum = new double[per];
        int batch = 128;
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            float[] x = new float[b * per];
            boolean[] inside = new boolean[b * per];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < per; j++) {
                    float raw = images[(start + i) * per + j] + v[j];
                    x[i * per + j] = PixelSpace.clampPixel(raw);
                    inside[i * per + j] = raw >= 0 && raw <= 255;
                }
            }
            int[] t = java.util.Arrays.copyOfRange(clean, start, start + b);
            float[] g = ps.logProbabilityGradient(f, x, b, t, null);
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < per; j++) {
                    if (inside[i * per + j]) {
                        sum[j] -= g[i * per + j]; // ∂CE = −∂ log p
                    }
                }
            }
        }
        return sum;
    }
}
