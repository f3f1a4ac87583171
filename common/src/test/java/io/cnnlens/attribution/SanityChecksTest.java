package io.cnnlens.attribution;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class SanityChecksTest {

    @Test
    void orderOfIsLargestFirst() {
        assertArrayEquals(new int[] {2, 0, 1}, SanityChecks.orderOf(new float[] {0.5f, 0.1f, 0.9f}));
    }
}
