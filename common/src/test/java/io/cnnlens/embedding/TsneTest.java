package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;
import smile.manifold.TSNE;

import java.lang.reflect.Field;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TsneTest {

    @Test
    void calibratedRowsHaveTheAskedPerplexity() {
        Random rnd = new Random(2);
        double[] sq = new double[500];
        for (int j = 0; j < sq.length; j++) {
            sq[j] = 50 + 30 * rnd.nextDouble();
        }
        for (double perplexity : new double[] {5, 30, 100}) {
            Perplexity.Row r = Perplexity.calibrate(sq, 3, perplexity);
            assertEquals(0, r.p()[3]);
            assertEquals(Math.log(perplexity), Perplexity.entropy(r.p()), 1e-5, "perplexity " + perplexity);
            double total = 0;
            for (double v : r.p()) {
                total += v;
            }
            assertEquals(1, total, 1e-12);
        }
    }

    /** Smile, given our shifted matrix, ends up with exactly our symmetrised, exaggerated affinities. */
    @Test
    void smileOptimisesThePapersAffinities() throws Exception {
        double[][] x = clusters(240, 8, new Random(4));
        int n = x.length;
        double perplexity = 20;
        double[][] ours = new double[n][];
        double[][] sq = TsneFit.squaredDistances(x);
        for (int i = 0; i < n; i++) {
            ours[i] = Perplexity.calibrate(sq[i], i, perplexity).p();
        }
        double[][] d = TsneFit.smileDistances(x, perplexity);
        double target = d[0][0];
        d[0][0] = 0;
        TSNE tsne = new TSNE(d, 2, Math.pow(2, target), 200, 0);
        Field pf = TSNE.class.getDeclaredField("P");
        pf.setAccessible(true);
        double[][] smileP = (double[][]) pf.get(tsne);
        double worst = 0;
        double largest = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double expect = 12.0 * (ours[i][j] + ours[j][i]) / (2.0 * n);
                worst = Math.max(worst, Math.abs(smileP[i][j] - Math.max(expect, 1e-16)));
                largest = Math.max(largest, expect);
            }
        }
        // Smile stops its search at |ΔH| < 1e-3 bits: a relative error of about that size
        assertTrue(worst < 5e-3 * largest, "max |P_smile − P_ours| " + worst + " against max P " + largest);
    }

    @Test
    void fitSeparatesClustersAndPlacementPutsNewPointsInTheirOwn() {
        Random rnd = new Random(8);
        double[][] all = clusters(330, 10, rnd);
        int fitN = 300;
        double[][] fit = java.util.Arrays.copyOf(all, fitN);
        double[][] init = new double[fitN][2];
        for (int i = 0; i < fitN; i++) {
            init[i][0] = fit[i][0];
            init[i][1] = fit[i][1];
        }
        TsneFit.Result r = TsneFit.fit(fit, init, 20, 500, 0);
        double[][] y = r.coordinates();
        float[] flat = new float[2 * fitN];
        int[] labels = new int[fitN];
        for (int i = 0; i < fitN; i++) {
            flat[2 * i] = (float) y[i][0];
            flat[2 * i + 1] = (float) y[i][1];
            labels[i] = i % 3;
        }
        assertEquals(1.0, MapQuality.knnAccuracy(flat, fitN, 2, labels, 10, ExactKnn.Metric.L2), 1e-12);

        float[] refX = new float[fitN * 10];
        for (int i = 0; i < fitN; i++) {
            for (int c = 0; c < 10; c++) {
                refX[i * 10 + c] = (float) fit[i][c];
            }
        }
        TsnePlacement place = new TsnePlacement(refX, flat, 10, 5, 100, 1.0);
        for (int i = fitN; i < all.length; i++) {
            float[] p = new float[10];
            for (int c = 0; c < 10; c++) {
                p[c] = (float) all[i][c];
            }
            double[] at = place.place(p);
            int nearest = -1;
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < fitN; j++) {
                double a = at[0] - y[j][0];
                double b = at[1] - y[j][1];
                if (a * a + b * b < best) {
                    best = a * a + b * b;
                    nearest = j;
                }
            }
            assertEquals(i % 3, nearest % 3, "placed point " + i + " lands in its own cluster");
        }
    }

    /** n points in 3 Gaussian clusters (label = index mod 3) in d dimensions. */
    static double[][] clusters(int n, int d, Random rnd) {
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                x[i][c] = rnd.nextGaussian() + (c == i % 3 ? 8 : 0);
            }
        }
        return x;
    }
}
