package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcaProjectionTest {

    @Test
    void projectionsAreCentredUncorrelatedAndOrderedByVariance() {
        Random rnd = new Random(9);
        int n = 2000;
        double[][] x = new double[n][4];
        for (double[] r : x) {
            double a = rnd.nextGaussian() * 5;
            double b = rnd.nextGaussian() * 2;
            r[0] = a + 1;
            r[1] = a - b;
            r[2] = b + 0.1 * rnd.nextGaussian();
            r[3] = 0.1 * rnd.nextGaussian() - 3;
        }
        PcaProjection pca = PcaProjection.fit(x, 3);
        assertEquals(3, pca.dimensions());
        double[][] y = new double[n][];
        for (int i = 0; i < n; i++) {
            float[] f = new float[4];
            for (int c = 0; c < 4; c++) {
                f[c] = (float) x[i][c];
            }
            y[i] = pca.project(f, 3);
        }
        double[] var = new double[3];
        double cov01 = 0;
        double[] mean = new double[3];
        for (double[] r : y) {
            for (int a = 0; a < 3; a++) {
                mean[a] += r[a] / n;
            }
        }
        for (double[] r : y) {
            for (int a = 0; a < 3; a++) {
                var[a] += (r[a] - mean[a]) * (r[a] - mean[a]) / (n - 1);
            }
            cov01 += (r[0] - mean[0]) * (r[1] - mean[1]) / (n - 1);
        }
        double total = 0; // total variance of the data, computed directly
        for (int c = 0; c < 4; c++) {
            double m = 0;
            for (double[] r : x) {
                m += r[c] / n;
            }
            for (double[] r : x) {
                total += (r[c] - m) * (r[c] - m) / (n - 1);
            }
        }
        for (int a = 0; a < 3; a++) {
            assertEquals(0, mean[a], 1e-4);
            assertEquals(pca.explained()[a], var[a] / total, 1e-4);
        }
        assertTrue(var[0] > var[1] && var[1] > var[2]);
        assertEquals(0, cov01, 1e-3 * var[0]);
    }

    @Test
    void aBasisRebuiltFromItsPartsProjectsTheSameAndBadPartsAreRefused() {
        Random rnd = new Random(3);
        double[][] x = new double[300][6];
        for (double[] r : x) {
            for (int c = 0; c < 6; c++) {
                r[c] = rnd.nextGaussian() * (c + 1);
            }
        }
        PcaProjection pca = PcaProjection.fit(x, 4);
        double[][] axes = new double[pca.dimensions()][];
        for (int a = 0; a < axes.length; a++) {
            axes[a] = pca.axis(a);
        }
        PcaProjection back = PcaProjection.of(pca.mean(), axes, pca.explained());
        assertEquals(6, back.inputDimension());
        float[] f = {1, -2, 3, 0.5f, 4, -1};
        org.junit.jupiter.api.Assertions.assertArrayEquals(pca.project(f, 4), back.project(f, 4), 0);
        axes[1] = new double[5];
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PcaProjection.of(pca.mean(), axes, pca.explained()));
        assertEquals("PCA axis 1 has 5 coordinates, the mean 6", e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PcaProjection.of(pca.mean(), new double[][] {pca.axis(0)}, pca.explained()));
    }
}
