package io.cnnlens.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PredictionsTest {

    @Test
    void softmaxMatchesTheDefinitionAndSurvivesLargeLogits() {
        float[] p = Predictions.softmax(new float[] {1, 2, 3});
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(3) / z, p[2], 1e-7);
        float[] big = Predictions.softmax(new float[] {1000, 1000});
        assertArrayEquals(new float[] {0.5f, 0.5f}, big, 1e-7f);
    }

    @Test
    void topKOrdersByValueThenIndex() {
        assertArrayEquals(new int[] {3, 0, 2}, Predictions.topK(new float[] {5, 1, 5, 9}, 3));
        assertEquals(2, Predictions.topK(new float[] {1, 2}, 5).length);
    }
}
