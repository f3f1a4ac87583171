package io.cnnlens.attribution;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SanityChecksTest {

    @Test
    void spearmanByHand() {
        // d = (0, 1, 1, 0): ρ = 1 − 6·2 / (4·15) = 0.8
        assertEquals(0.8, SanityChecks.spearman(new float[] {1, 2, 3, 4}, new float[] {10, 30, 20, 40}), 1e-12);
        assertEquals(-1.0, SanityChecks.spearman(new float[] {1, 2, 3}, new float[] {3, 2, 1}), 1e-12);
        assertArrayEquals(new double[] {1.5, 1.5, 3, 4}, SanityChecks.ranks(new float[] {5, 5, 7, 9}), 1e-12);
        assertArrayEquals(new int[] {2, 0, 1}, SanityChecks.orderOf(new float[] {0.5f, 0.1f, 0.9f}));
    }
}
