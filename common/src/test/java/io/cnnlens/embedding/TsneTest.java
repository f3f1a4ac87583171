package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

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

    @Test
    void fitSeparatesClustersAndPlacementPutsNewPointsInTheirOwn() {
        Random rnd = new Random(8);
        double[][] all = clusters(330, 10, rnd);
        int fitN = 300;
        double[][] fit = java.util.Arrays.copyOf(all, fitN);
        float[] fx = new float[fitN * 10];
        double[] init = new double[2 * fitN];
        for (int i = 0; i < fitN; i++) {
            for (int c = 0; c < 10; c++) {
                fx[i * 10 + c] = (float) fit[i][c];
            }
            init[2 * i] = fit[i][0];
            init[2 * i + 1] = fit[i][1];
        }
        SparseAffinities.Csr aff = BarnesHutTsneTest.affinities(fx, fitN, 10, 60, 20);
        double[] flatY = BarnesHutTsne.fit(aff, BarnesHutTsne.scaledStart(init), BarnesHutTsne.Options.paper(500), null).y();
        double[][] y = new double[fitN][];
        for (int i = 0; i < fitN; i++) {
            y[i] = new double[] {flatY[2 * i], flatY[2 * i + 1]};
        }
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
