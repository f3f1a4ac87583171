package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

import java.util.SplittableRandom;

/**
 * SmoothGrad (Smilkov et al. 2017): the vanilla gradient map averaged over {@code samples}
 * copies of the image with Gaussian noise of standard deviation {@code noise} × (max − min of
 * the image's input values). Seeded per image position in the batch and sample, so a batch
 * gives the same maps as its images one by one. Cost: samples × (forward + backward).
 */
public final class SmoothGrad implements Saliency {

    private final int samples;
    private final double noise;
    private final long seed;

    public SmoothGrad(int samples, double noise, long seed) {
        if (samples < 1 || noise < 0) {
            throw new IllegalArgumentException("SmoothGrad needs samples ≥ 1 and noise ≥ 0");
        }
        this.samples = samples;
        this.noise = noise;
        this.seed = seed;
    }

    public SmoothGrad() {
        this(25, 0.15, 1);
    }

    @Override
    public String name() {
        return "smoothgrad";
    }

    @Override
    public boolean signed() {
        return false;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        int per = Gradients.perImage(f.spec());
        int plane = Gradients.plane(f.spec());
        float[][] sum = new float[n][plane];
        float[] noisy = new float[n * per];
        double[] sigma = new double[n];
        for (int i = 0; i < n; i++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < per; j++) {
                lo = Math.min(lo, input[i * per + j]);
                hi = Math.max(hi, input[i * per + j]);
            }
            sigma[i] = noise * (hi - lo);
        }
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < n; i++) {
                // the noise depends on the image's content hash-free identity: its values and the sample index
                SplittableRandom r = new SplittableRandom(seed * 1_000_003L + s * 7919L + contentSeed(input, i * per, per));
                for (int j = 0; j < per; j++) {
                    noisy[i * per + j] = (float) (input[i * per + j] + sigma[i] * gaussian(r));
                }
            }
            float[][] m = Gradients.maxAbsOverChannels(f.inputGradient(noisy, n, f.spec().logitsTap(), targets), n, f.spec());
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < plane; p++) {
                    sum[i][p] += m[i][p] / samples;
                }
            }
        }
        return sum;
    }

    private static long contentSeed(float[] x, int off, int len) {
        long h = 1125899906842597L;
        for (int j = 0; j < len; j += 7) {
            h = 31 * h + Float.floatToIntBits(x[off + j]);
        }
        return h;
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
