package io.cnnlens.stats;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class CorrelationTest {

    @Test
    void byHand() {
        // d = (0, 1, 1, 0): ρ = 1 − 6·2 / (4·15) = 0.8
        assertEquals(0.8, Correlation.spearman(new float[] {1, 2, 3, 4}, new float[] {10, 30, 20, 40}), 1e-12);
        assertEquals(-1.0, Correlation.spearman(new float[] {1, 2, 3}, new float[] {3, 2, 1}), 1e-12);
        assertArrayEquals(new double[] {1.5, 1.5, 3, 4}, Correlation.ranks(new float[] {5, 5, 7, 9}), 1e-12);
        // r of (1,2,3) and (1,2,4): Σ(a−ā)(b−b̄) = 3, Σ(a−ā)² = 2, Σ(b−b̄)² = 14/3
        assertEquals(3 / Math.sqrt(2 * 14.0 / 3), Correlation.pearson(new float[] {1, 2, 3}, new float[] {1, 2, 4}), 1e-12);
        assertEquals(0, Correlation.pearson(new float[] {1, 1, 1}, new float[] {1, 2, 4}));
    }

    @Test
    void permutationsAreSeeded() {
        int[] p = Permutations.random(100, 7);
        assertArrayEquals(p, Permutations.random(100, 7));
        assertNotEquals(Arrays.toString(p), Arrays.toString(Permutations.random(100, 8)));
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, sorted[i]);
        }
    }
}
