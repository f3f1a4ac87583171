package io.cnnlens.synthesis;

import io.cnnlens.adversarial.PixelSpace;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import io.cnnlens.model.Predictions;
import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Class visualisation by gradient ascent (Simonyan, Vedaldi & Zisserman 2014) with Yosinski et
 * al.'s (2015) regularisers: find an image I maximising the unnormalised class score S_c(I) (or a
 * conv channel's summed activation), from the dataset mean plus a little noise. Each iteration, in
 * this order: a gradient step of {@code learningRate} times the gradient with respect to the
 * network's input, applied to the 0..255 pixels (Yosinski's networks took the mean-subtracted
 * 0..255 image as input, so their rate of 100 carries over this way), L2 decay of the
 * mean-centred image by {@code decay}, every {@code blurEvery} steps a Gaussian blur of radius
 * {@code blurRadius}, then zeroing the pixels whose norm (across channels) or whose contribution
 * |I·∇| is below the given percentiles; pixels stay within 0..255. Defaults are Yosinski's best
 * setting (docs/methods.md#class-visualisation): decay 1e-4, blur radius 1.0 every 4 steps, 1000 iterations,
 * learning rate 100, no percentile clipping.
 */
public record ClassVisualisation(int iterations, double learningRate, double decay, int blurEvery, double blurRadius,
                                 double normPercentile, double contributionPercentile, long seed) implements Serializable {

    /** Start noise, uniform ± this many pixel units around the mean. */
    static final double NOISE = 32;

    public static ClassVisualisation yosinski() {
        return new ClassVisualisation(1000, 100, 1e-4, 4, 1.0, 0, 0, 1);
    }

    /** The result: the image (0..255, CHW), the final score and the class probability (for a class target). */
    public record Result(float[] pixels, double score, double probability) {
    }

    /**
     * @param tap    the logits tap for a class, or a conv tap for one of its channels
     * @param target the class (or channel) index
     */
    public Result run(ModelForward f, String tap, int target) {
        ModelSpec spec = f.spec();
        PixelSpace ps = new PixelSpace(spec);
        int c = spec.channels();
        int h = spec.height();
        int w = spec.width();
        int plane = h * w;
        float[] mean = new float[c];
        for (int k = 0; k < c; k++) {
            mean[k] = spec.mean()[k] * 255f;
        }
        SplittableRandom r = new SplittableRandom(seed * 7919 + target);
        float[] x = new float[c * plane]; // centred: pixel − mean
        for (int i = 0; i < x.length; i++) {
            // mean + noise; a flat mean image can leave every ReLU of the top layers off (zero gradient)
            x[i] = (float) ((r.nextDouble() * 2 - 1) * NOISE);
        }
        float[] px = new float[x.length];
        for (int it = 1; it <= iterations; it++) {
            toPixels(x, mean, plane, px);
            // the step uses the gradient with respect to the network's input, as in Yosinski's Caffe setting,
            // where the input was the mean-subtracted 0..255 image itself
            float[] g = f.inputGradient(ps.toInput(px), 1, tap.equals(spec.logitsTap()) ? spec.logitsTap() : tap, new int[] {target});
            for (int i = 0; i < x.length; i++) {
                x[i] += (float) (learningRate * g[i]);
                x[i] *= (float) (1 - decay);
            }
            if (blurEvery > 0 && blurRadius > 0 && it % blurEvery == 0) {
                gaussianBlur(x, c, h, w, blurRadius);
            }
            if (normPercentile > 0 || contributionPercentile > 0) {
                clip(x, g, c, plane);
            }
            for (int i = 0; i < x.length; i++) { // keep I = mean + x inside 0..255
                float m = mean[i / plane];
                x[i] = Math.max(-m, Math.min(255 - m, x[i]));
            }
        }
        toPixels(x, mean, plane, px);
        float[][] logits = ps.logits(f, px, 1);
        double score;
        double p = Double.NaN;
        if (tap.equals(spec.logitsTap())) {
            score = logits[0][target];
            p = Predictions.softmaxAt(logits[0], target);
        } else {
            float[] a = f.run(ps.toInput(px), 1, java.util.List.of(tap), java.util.List.of()).values(tap)[0];
            int per = a.length / f.run(ps.toInput(px), 1, java.util.List.of(tap), java.util.List.of()).shape(tap)[0];
            double s = 0;
            for (int j = 0; j < per; j++) {
                s += a[target * per + j];
            }
            score = s;
        }
        return new Result(px.clone(), score, p);
    }

    private static void toPixels(float[] x, float[] mean, int plane, float[] out) {
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.max(0f, Math.min(255f, x[i] + mean[i / plane]));
        }
    }

    private void clip(float[] x, float[] g, int c, int plane) {
        double[] norm = new double[plane];
        double[] contrib = new double[plane];
        for (int p = 0; p < plane; p++) {
            for (int k = 0; k < c; k++) {
                norm[p] += (double) x[k * plane + p] * x[k * plane + p];
                contrib[p] += Math.abs((double) x[k * plane + p] * g[k * plane + p]);
            }
        }
        double nCut = normPercentile > 0 ? percentile(norm, normPercentile) : Double.NEGATIVE_INFINITY;
        double cCut = contributionPercentile > 0 ? percentile(contrib, contributionPercentile) : Double.NEGATIVE_INFINITY;
        for (int p = 0; p < plane; p++) {
            if (norm[p] < nCut || contrib[p] < cCut) {
                for (int k = 0; k < c; k++) {
                    x[k * plane + p] = 0;
                }
            }
        }
    }

    private static double percentile(double[] v, double pct) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.floor(pct / 100 * s.length))];
    }

    /** Separable Gaussian blur of each channel (σ = radius, kernel ±3σ, edges clamped). */
    static void gaussianBlur(float[] x, int c, int h, int w, double sigma) {
        int rad = Math.max(1, (int) Math.ceil(3 * sigma));
        double[] k = new double[2 * rad + 1];
        double sum = 0;
        for (int i = -rad; i <= rad; i++) {
            k[i + rad] = Math.exp(-i * i / (2 * sigma * sigma));
            sum += k[i + rad];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        float[] tmp = new float[h * w];
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    double s = 0;
                    for (int d = -rad; d <= rad; d++) {
                        s += k[d + rad] * x[base + y * w + Math.max(0, Math.min(w - 1, xx + d))];
                    }
                    tmp[y * w + xx] = (float) s;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    double s = 0;
                    for (int d = -rad; d <= rad; d++) {
                        s += k[d + rad] * tmp[Math.max(0, Math.min(h - 1, y + d)) * w + xx];
                    }
                    x[base + y * w + xx] = (float) s;
                }
            }
        }
    }
}
