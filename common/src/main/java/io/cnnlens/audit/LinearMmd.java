package io.cnnlens.audit;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Two-sample test by the linear-time maximum mean discrepancy (Gretton et al., "A Kernel
 * Two-Sample Test", JMLR 2012, section 6): with a Gaussian kernel k and m pairs
 * (x_{2i−1}, x_{2i}) from the reference and (y_{2i−1}, y_{2i}) from the new sample,
 * h_i = k(x,x') + k(y,y') − k(x,y') − k(x',y); MMD²_l is the mean of the h_i, which under the null
 * (same distribution) has mean 0. The p-value is not the asymptotic normal one, whose size with a
 * few hundred pairs is above its level (h is heavy-tailed): swapping x′ and y′ turns h_i into −h_i,
 * so under the null each h_i is symmetric about 0 and independent of the others, and flipping
 * their signs at random is an exact permutation test (one-sided, {@link #FLIPS} seeded flips,
 * p = (1 + #{flipped mean ≥ mean}) / (1 + FLIPS)). The reference's rows are shuffled by a seed
 * mixed with the new sample's values, so that each new sample is paired with the reference anew:
 * the level then holds for one reference tested against many samples, as an audit's is. The
 * z-score mean/√(var/m) is reported beside it.
 * Time O(m·(d + FLIPS)) and memory O(m + d) besides the inputs: never the n² kernel matrix. The
 * bandwidth is the median pairwise distance of a small seeded subsample of both samples pooled (the
 * median heuristic); the subsample takes the same positions of both shuffled samples, so a swap
 * leaves it, and the bandwidth, unchanged and the flips stay exact. See docs/methods.md#drift.
 */
public final class LinearMmd {

    /** The statistic MMD²_l, its z-score, the one-sided p-value, the pairs used and the bandwidth. */
    public record Result(double mmd2, double z, double pValue, int pairs, double bandwidth) {
    }

    /** Random sign flips of the permutation p-value: its resolution is 1/(1 + FLIPS). */
    public static final int FLIPS = 1999;

    private LinearMmd() {
    }

    /**
     * {@code x} (the reference) and {@code y} (the new sample): rows of {@code d} values. {@code y}'s
     * order is shuffled with {@code seed}, {@code x}'s with {@code seed} mixed with {@code y}'s values.
     */
    public static Result test(float[][] x, float[][] y, long seed) {
        int m = Math.min(x.length, y.length) / 2;
        if (m < 2) {
            throw new IllegalArgumentException("the linear-time MMD needs at least 4 rows per sample; got "
                    + x.length + " and " + y.length);
        }
        Random rnd = new Random(seed);
        int[] py = permutation(y.length, rnd);
        // the reference's rows, and so their pairing, are drawn anew for each new sample: with one
        // pairing for every sample, the sum of k(x, x') over its pairs is fixed, and the rate of
        // false alarms given one reference ranged from 0 to 17 % at level 0.05 on Fashion-MNIST fc7
        // (docs/methods.md#one-reference-many-batches). The draw depends on y alone, so the drawn
        // rows are still independent of y and the test exact
        int[] px = permutation(x.length, new Random(seed ^ content(y)));
        double sigma = medianDistance(x, y, px, py, Math.min(m, 200));
        double gamma = 1.0 / (2 * sigma * sigma);
        double mean = 0;
        double m2 = 0;
        double[] hs = new double[m];
        for (int i = 0; i < m; i++) {
            float[] a = x[px[2 * i]];
            float[] a2 = x[px[2 * i + 1]];
            float[] b = y[py[2 * i]];
            float[] b2 = y[py[2 * i + 1]];
            double h = k(a, a2, gamma) + k(b, b2, gamma) - k(a, b2, gamma) - k(a2, b, gamma);
            hs[i] = h;
            double delta = h - mean;
            mean += delta / (i + 1);
            m2 += delta * (h - mean);
        }
        double var = m2 / (m - 1);
        double z = var <= 0 ? (mean > 0 ? Double.POSITIVE_INFINITY : 0) : mean / Math.sqrt(var / m);
        return new Result(mean, z, signFlipPValue(hs, mean * m, new SplittableRandom(rnd.nextLong())), m, sigma);
    }

    /** One-sided p-value of the sum {@code observed} of {@code h} against {@link #FLIPS} random sign flips. */
    static double signFlipPValue(double[] h, double observed, SplittableRandom rnd) {
        // SplittableRandom, not Random: the flips use every bit of each long, and the low bits of
        // Random's 48-bit congruential generator are far from independent
        double tolerance = 1e-12 * (Math.abs(observed) + 1);   // a flip equal to the observation up to rounding counts
        int atLeast = 0;
        for (int b = 0; b < FLIPS; b++) {
            double sum = 0;
            long bits = 0;
            for (int i = 0; i < h.length; i++) {
                if ((i & 63) == 0) {
                    bits = rnd.nextLong();
                }
                sum += (bits & 1) == 0 ? h[i] : -h[i];
                bits >>>= 1;
            }
            if (sum >= observed - tolerance) {
                atLeast++;
            }
        }
        return (1.0 + atLeast) / (1.0 + FLIPS);
    }

    /** A 64-bit hash of every value of {@code y}, in order (murmur3's finaliser on each step). */
    static long content(float[][] y) {
        long h = 0x9E3779B97F4A7C15L;
        for (float[] row : y) {
            for (float v : row) {
                h ^= Float.floatToIntBits(v);
                h ^= h >>> 33;
                h *= 0xff51afd7ed558ccdL;
                h ^= h >>> 33;
            }
        }
        return h;
    }

    private static int[] permutation(int n, Random rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static double medianDistance(float[][] x, float[][] y, int[] px, int[] py, int per) {
        float[][] pool = new float[2 * per][];
        for (int i = 0; i < per; i++) {
            pool[i] = x[px[i]];
            pool[per + i] = y[py[i]];
        }
        double[] d = new double[pool.length * (pool.length - 1) / 2];
        int at = 0;
        for (int i = 0; i < pool.length; i++) {
            for (int j = i + 1; j < pool.length; j++) {
                d[at++] = Math.sqrt(squared(pool[i], pool[j]));
            }
        }
        Arrays.sort(d);
        double med = d[d.length / 2];
        return med > 0 ? med : 1;
    }

    private static double k(float[] a, float[] b, double gamma) {
        return Math.exp(-gamma * squared(a, b));
    }

    private static double squared(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("rows of different lengths: " + a.length + " and " + b.length);
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double t = a[i] - b[i];
            s += t * t;
        }
        return s;
    }
}
