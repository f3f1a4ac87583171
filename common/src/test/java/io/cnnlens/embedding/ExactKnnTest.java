package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ExactKnnTest {

    @Test
    void blockedSearchEqualsBruteForce() {
        for (ExactKnn.Metric metric : ExactKnn.Metric.values()) {
            Random rnd = new Random(11);
            int d = 24;
            int nr = 1000;
            int k = 10;
            float[] refs = new float[nr * d];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = (float) rnd.nextGaussian() + 5; // offset: makes float cancellation in the GEMM matter
            }
            Arrays.fill(refs, 7 * d, 8 * d, 0f); // a zero row
            long[] refKeys = LongStream(nr);
            // queries: the first 120 reference rows (self must be excluded) in one block
            float[] q = Arrays.copyOf(refs, 120 * d);
            long[] qKeys = Arrays.copyOf(refKeys, 120);
            ExactKnn.Result merged = ExactKnn.Result.empty(120, k);
            for (int start = 0; start < nr; start += 300) { // reference blocks of 300, merged
                int end = Math.min(nr, start + 300);
                merged = merged.merge(ExactKnn.search(q, qKeys, Arrays.copyOfRange(refs, start * d, end * d),
                        Arrays.copyOfRange(refKeys, start, end), d, k, metric));
            }
            for (int i = 0; i < 120; i++) {
                int qi = i;
                double[] dist = new double[nr];
                for (int j = 0; j < nr; j++) {
                    dist[j] = distance(refs, qi, j, d, metric);
                }
                Integer[] order = IntStream.range(0, nr).filter(j -> j != qi).boxed()
                        .sorted(Comparator.<Integer>comparingDouble(j -> dist[j]).thenComparing(j -> j)).toArray(Integer[]::new);
                for (int r = 0; r < k; r++) {
                    assertEquals(dist[order[r]], merged.distance(i, r), 1e-5 * Math.max(1, dist[order[r]]),
                            metric + " query " + i + " rank " + r);
                    if (i != 7) { // the zero row is at distance 1 from everything under cosine: all ties
                        assertEquals((long) order[r], merged.key(i, r), metric + " query " + i + " rank " + r);
                    }
                }
            }
        }
    }

    @Test
    void oneProductReadBothWaysEqualsTwoSearches() {
        for (ExactKnn.Metric metric : ExactKnn.Metric.values()) {
            Random rnd = new Random(5);
            int d = 16;
            int nr = 300;
            int nq = 70;
            float[] refs = new float[nr * d];
            for (int i = 0; i < refs.length; i++) {
                refs[i] = (float) rnd.nextGaussian() + 3;
            }
            long[] refKeys = LongStream(nr);
            // queries: 40 of the references (each must skip itself both ways) and 30 rows of their own
            float[] q = new float[nq * d];
            long[] qKeys = new long[nq];
            for (int i = 0; i < nq; i++) {
                if (i < 40) {
                    System.arraycopy(refs, (i * 7) * d, q, i * d, d);
                    qKeys[i] = i * 7;
                } else {
                    for (int c = 0; c < d; c++) {
                        q[i * d + c] = (float) rnd.nextGaussian() + 3;
                    }
                    qKeys[i] = 1000 + i;
                }
            }
            ExactKnn.Both both = ExactKnn.search(q, qKeys, refs, refKeys, d, 10, 4, metric);
            ExactKnn.Result rows = ExactKnn.search(q, qKeys, refs, refKeys, d, 10, metric);
            ExactKnn.Result columns = ExactKnn.search(refs, refKeys, q, qKeys, d, 4, metric);
            org.junit.jupiter.api.Assertions.assertArrayEquals(rows.keys(), both.rows().keys(), metric + " rows");
            org.junit.jupiter.api.Assertions.assertArrayEquals(rows.distances(), both.rows().distances(), metric + " rows");
            org.junit.jupiter.api.Assertions.assertArrayEquals(columns.keys(), both.columns().keys(), metric + " columns");
            org.junit.jupiter.api.Assertions.assertArrayEquals(columns.distances(), both.columns().distances(), metric + " columns");
            assertEquals(nr, both.columns().queries());
        }
    }

    @Test
    void kLargerThanTheCollectionLeavesEmptySlots() {
        float[] refs = {0, 0, 1, 0, 0, 2};
        ExactKnn.Result r = ExactKnn.search(new float[] {0, 0}, new long[] {0}, refs, new long[] {0, 1, 2}, 2, 5,
                ExactKnn.Metric.L2);
        assertEquals(1, r.key(0, 0));
        assertEquals(1f, r.distance(0, 0), 1e-6);
        assertEquals(2, r.key(0, 1));
        assertEquals(-1, r.key(0, 2));
        assertEquals(Float.POSITIVE_INFINITY, r.distance(0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> ExactKnn.search(new float[2], new long[] {0}, refs, new long[] {0, 1, 2}, 2, 0, ExactKnn.Metric.L2));
    }

    private static long[] LongStream(int n) {
        long[] k = new long[n];
        for (int i = 0; i < n; i++) {
            k[i] = i;
        }
        return k;
    }

    private static double distance(float[] x, int i, int j, int d, ExactKnn.Metric m) {
        double s = 0;
        double ni = 0;
        double nj = 0;
        double dot = 0;
        for (int c = 0; c < d; c++) {
            double a = x[i * d + c];
            double b = x[j * d + c];
            s += (a - b) * (a - b);
            ni += a * a;
            nj += b * b;
            dot += a * b;
        }
        if (m == ExactKnn.Metric.L2) {
            return Math.sqrt(s);
        }
        return (ni == 0 || nj == 0) ? 1 : 1 - dot / Math.sqrt(ni * nj);
    }
}
