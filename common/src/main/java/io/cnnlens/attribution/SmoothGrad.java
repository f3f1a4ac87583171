package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

import java.util.SplittableRandom;

/**
 * SmoothGrad (Smilkov et al. 2017) as a noise wrapper around any saliency method, as Captum's
 * {@code NoiseTunnel}: the inner method's map averaged over {@code samples} copies of the image
 * with Gaussian noise of standard deviation {@code noise} × (max − min of the image's input
 * values) added to every input value. Around the vanilla gradient (the default, named
 * {@code smoothgrad}) it is the paper's SmoothGrad; around guided backprop or integrated gradients
 * (named {@code smoothgrad-<inner>}) the inner method sees the noisy image as its input (for
 * integrated gradients, the path runs from the black baseline to the noisy image). The map
 * averaged is the inner method's own (for the gradient: |g|, maximum over channels), signed when
 * the inner one is.
 * <p>
 * The noise of sample s for an image is drawn from a {@link SplittableRandom} seeded by
 * {@code seed}, s and a hash of the image's values ({@link ContentSeed}), not by the image's
 * position in the batch, so a batch gives the same maps as its images one by one, and the same
 * seed the same maps. Cost: samples × the inner method's cost. Design notes: {@code docs/methods.md}.
 */
public final class SmoothGrad implements Saliency {

    private final Saliency inner;
    private final int samples;
    private final double noise;
    private final long seed;

    /** Around {@code inner}, any saliency method. */
    public SmoothGrad(Saliency inner, int samples, double noise, long seed) {
        if (samples < 1 || noise < 0) {
            throw new IllegalArgumentException("SmoothGrad needs samples ≥ 1 and noise ≥ 0");
        }
        this.inner = java.util.Objects.requireNonNull(inner, "inner");
        this.samples = samples;
        this.noise = noise;
        this.seed = seed;
    }

    /** Around the vanilla gradient. */
    public SmoothGrad(int samples, double noise, long seed) {
        this(new VanillaGradient(), samples, noise, seed);
    }

    public SmoothGrad() {
        this(25, 0.15, 1);
    }

    @Override
    public String name() {
        return inner instanceof VanillaGradient ? "smoothgrad" : "smoothgrad-" + inner.name();
    }

    @Override
    public boolean signed() {
        return inner.signed();
    }

    @Override
    public boolean needsStages() {
        return inner.needsStages();
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        int per = Gradients.perImage(f.spec());
        int plane = Gradients.plane(f.spec());
        float[][] sum = new float[n][plane];
        float[] noisy = new float[n * per];
        double[] sigma = new double[n];
        long[] imageSeed = new long[n];
        for (int i = 0; i < n; i++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < per; j++) {
                lo = Math.min(lo, input[i * per + j]);
                hi = Math.max(hi, input[i * per + j]);
            }
            sigma[i] = noise * (hi - lo);
            imageSeed[i] = ContentSeed.of(input, i * per, per);
        }
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < n; i++) {
                // seeded by the seed, the sample index and the image's values (not its place in the batch)
                SplittableRandom r = new SplittableRandom(seed * 1_000_003L + s * 7919L + imageSeed[i]);
                for (int j = 0; j < per; j++) {
                    noisy[i * per + j] = (float) (input[i * per + j] + sigma[i] * gaussian(r));
                }
            }
            float[][] m = inner.maps(f, noisy, n, targets);
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < plane; p++) {
                    sum[i][p] += m[i][p] / samples;
                }
            }
        }
        return sum;
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
