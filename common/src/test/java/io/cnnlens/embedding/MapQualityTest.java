package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MapQualityTest {

    @Test
    void trustworthinessMatchesTheDefinitionComputedNaively() {
        Random rnd = new Random(5);
        int n = 300;
        int d = 6;
        int k = 7;
        float[] high = new float[n * d];
        for (int i = 0; i < high.length; i++) {
            high[i] = (float) rnd.nextGaussian();
        }
        float[] low = new float[2 * n];
        for (int i = 0; i < n; i++) { // a lossy map: first two coordinates plus noise
            low[2 * i] = high[i * d] + 0.3f * (float) rnd.nextGaussian();
            low[2 * i + 1] = high[i * d + 1] + 0.3f * (float) rnd.nextGaussian();
        }
        double t = MapQuality.trustworthiness(high, d, low, n, k);
        assertEquals(naive(high, d, low, n, k), t, 1e-9);
        assertTrue(t < 0.99 && t > 0.5, "a lossy map is not perfectly trustworthy: " + t);

        float[] exact = new float[2 * n]; // the map is the space itself: T = 1
        float[] high2 = new float[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            exact[i] = high2[i] = (float) rnd.nextGaussian();
        }
        assertEquals(1.0, MapQuality.trustworthiness(high2, 2, exact, n, k), 1e-12);
    }

    @Test
    void knnAccuracyAndVotes() {
        assertEquals(2, MapQuality.vote(new int[] {2, 1, 1, 2, 3}));  // tie 2:2 → nearest tied label
        assertEquals(1, MapQuality.vote(new int[] {2, 1, 1, 1, 2}));
        assertEquals(4, MapQuality.vote(new int[] {-1, 4, -1}));
        // two well-separated clusters: perfect; labels shuffled: about chance
        int n = 200;
        float[] x = new float[n * 2];
        int[] labels = new int[n];
        Random rnd = new Random(1);
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            x[2 * i] = (float) (labels[i] * 10 + rnd.nextGaussian());
            x[2 * i + 1] = (float) rnd.nextGaussian();
        }
        assertEquals(1.0, MapQuality.knnAccuracy(x, n, 2, labels, 10, ExactKnn.Metric.L2), 1e-12);
        int[] shuffled = labels.clone();
        for (int i = 0; i < n; i++) {
            shuffled[i] = rnd.nextInt(2);
        }
        assertTrue(MapQuality.knnAccuracy(x, n, 2, shuffled, 10, ExactKnn.Metric.L2) < 0.7);
    }

    /** T(k) straight from the definition: full sorts of both spaces. */
    private static double naive(float[] high, int d, float[] low, int n, int k) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int qi = i;
            double[] dh = new double[n];
            double[] dl = new double[n];
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    double t = high[i * d + c] - high[j * d + c];
                    s += t * t;
                }
                dh[j] = s;
                double a = low[2 * i] - low[2 * j];
                double b = low[2 * i + 1] - low[2 * j + 1];
                dl[j] = a * a + b * b;
            }
            Integer[] byHigh = IntStream.range(0, n).filter(j -> j != qi).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(j -> dh[j]).thenComparing(j -> j)).toArray(Integer[]::new);
            Integer[] byLow = IntStream.range(0, n).filter(j -> j != qi).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(j -> dl[j]).thenComparing(j -> j)).toArray(Integer[]::new);
            int[] rank = new int[n];
            for (int r = 0; r < byHigh.length; r++) {
                rank[byHigh[r]] = r + 1;
            }
            java.util.Set<Integer> highK = new java.util.HashSet<>(Arrays.asList(byHigh).subList(0, k));
            for (int r = 0; r < k; r++) {
                if (!highK.contains(byLow[r])) {
                    sum += rank[byLow[r]] - k;
                }
            }
        }
        return 1 - 2.0 / (n * (double) k * (2.0 * n - 3.0 * k - 1.0)) * sum;
    }
}
