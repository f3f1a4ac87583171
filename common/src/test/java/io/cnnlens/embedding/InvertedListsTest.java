package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InvertedListsTest {

    private static final int D = 12;

    /** n points around {@code clusters} seeded centres (spread 1, centres spread 6). */
    private static float[] mixture(int n, int clusters, long seed) {
        Random rnd = new Random(seed);
        float[] centres = new float[clusters * D];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = (float) (6 * rnd.nextGaussian());
        }
        float[] x = new float[n * D];
        for (int i = 0; i < n; i++) {
            int c = rnd.nextInt(clusters);
            for (int j = 0; j < D; j++) {
                x[i * D + j] = centres[c * D + j] + (float) rnd.nextGaussian();
            }
        }
        return x;
    }

    private static long[] keys(int n) {
        long[] k = new long[n];
        for (int i = 0; i < n; i++) {
            k[i] = 3L * i + 1; // keys are not positions
        }
        return k;
    }

    /** Centroids: every {@code step}-th row (a codebook need not be k-means for the search to be right). */
    private static float[] every(float[] x, int n, int step) {
        int lists = (n + step - 1) / step;
        float[] c = new float[lists * D];
        for (int l = 0; l < lists; l++) {
            System.arraycopy(x, l * step * D, c, l * D, D);
        }
        return c;
    }

    @Test
    void probingEveryListIsExactSearch() {
        int n = 1500;
        int k = 15;
        float[] x = mixture(n, 8, 3);
        long[] keys = keys(n);
        InvertedLists lists = InvertedLists.of(every(x, n, 50), D, keys, x);
        assertEquals(30, lists.lists());
        assertEquals(n, lists.size());
        ExactKnn.Result approx = lists.search(x, keys, k, lists.lists());
        ExactKnn.Result exact = ExactKnn.search(x, keys, x, keys, D, k, ExactKnn.Metric.L2);
        assertArrayEquals(exact.keys(), approx.keys());
        for (int i = 0; i < exact.distances().length; i++) {
            assertEquals(exact.distances()[i], approx.distances()[i], 1e-5);
        }
    }

    @Test
    void recallGrowsWithProbesAndIsHighOnClusteredData() {
        int n = 4000;
        int k = 30;
        float[] x = mixture(n, 20, 5);
        long[] keys = keys(n);
        InvertedLists lists = InvertedLists.of(every(x, n, 63), D, keys, x); // 64 lists
        ExactKnn.Result exact = ExactKnn.search(x, keys, x, keys, D, k, ExactKnn.Metric.L2);
        double last = -1;
        for (int probes : new int[] {1, 4, 16}) {
            ExactKnn.Result approx = lists.search(x, keys, k, probes);
            double recall = recall(exact, approx, n, k);
            assertTrue(recall > last, probes + " probes: recall " + recall + " not above " + last);
            last = recall;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < k; j++) {
                    assertNotEquals(keys[i], approx.key(i, j), "a point is its own neighbour");
                    if (j > 0 && approx.key(i, j) >= 0) {
                        assertTrue(approx.distance(i, j - 1) <= approx.distance(i, j), "not nearest first");
                    }
                }
            }
        }
        assertTrue(last >= 0.95, "16 of 64 lists probed: recall " + last);
    }

    @Test
    void listsLargerThanOneProductAndQueriesOutsideTheSet() {
        // one list of 20,000 rows (more than a reference block) and queries that are not rows
        int n = 20_000;
        float[] x = mixture(n, 3, 9);
        long[] keys = keys(n);
        InvertedLists lists = InvertedLists.of(Arrays.copyOf(x, D), D, keys, x);
        assertEquals(n, lists.largestList());
        float[] q = mixture(300, 3, 10);
        long[] qk = new long[300];
        Arrays.fill(qk, Long.MAX_VALUE);
        ExactKnn.Result approx = lists.search(q, qk, 5, 1);
        ExactKnn.Result exact = ExactKnn.search(q, qk, x, keys, D, 5, ExactKnn.Metric.L2);
        assertArrayEquals(exact.keys(), approx.keys());
    }

    @Test
    void fewerRowsThanKLeaveEmptySlots() {
        float[] x = mixture(4, 1, 1);
        long[] keys = keys(4);
        ExactKnn.Result r = InvertedLists.of(Arrays.copyOf(x, D), D, keys, x).search(x, keys, 6, 1);
        for (int i = 0; i < 4; i++) {
            assertEquals(3, Arrays.stream(Arrays.copyOfRange(r.keys(), i * 6, i * 6 + 6)).filter(v -> v >= 0).count());
        }
    }

    @Test
    void badShapesAreRefused() {
        float[] x = mixture(10, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> InvertedLists.of(new float[0], D, keys(10), x));
        assertThrows(IllegalArgumentException.class, () -> InvertedLists.of(new float[D + 1], D, keys(10), x));
        assertThrows(IllegalArgumentException.class, () -> InvertedLists.of(new float[D], D, keys(9), x));
        InvertedLists lists = InvertedLists.of(Arrays.copyOf(x, D), D, keys(10), x);
        assertThrows(IllegalArgumentException.class, () -> lists.search(x, keys(9), 3, 1));
        assertThrows(IllegalArgumentException.class, () -> lists.search(x, keys(10), 0, 1));
    }

    private static double recall(ExactKnn.Result exact, ExactKnn.Result approx, int n, int k) {
        long hit = 0;
        for (int i = 0; i < n; i++) {
            Set<Long> a = new HashSet<>();
            for (int j = 0; j < k; j++) {
                a.add(approx.key(i, j));
            }
            for (int j = 0; j < k; j++) {
                hit += a.contains(exact.key(i, j)) ? 1 : 0;
            }
        }
        return (double) hit / ((long) n * k);
    }
}
