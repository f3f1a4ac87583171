package io.cnnlens.audit;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearMmdTest {

    static float[][] gaussian(Random rnd, int n, int d, double shift, double scale) {
        float[][] x = new float[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = (float) (shift + scale * rnd.nextGaussian());
            }
        }
        return x;
    }

    @Test
    void falseAlarmRateAtTheLevelOnSameDistributionSamples() {
        Random rnd = new Random(1);
        int alarms = 0;
        int trials = 400;
        for (int t = 0; t < trials; t++) {
            LinearMmd.Result r = LinearMmd.test(gaussian(rnd, 400, 16, 0, 1), gaussian(rnd, 400, 16, 0, 1), t);
            if (r.pValue() < 0.05) {
                alarms++;
            }
        }
        double rate = alarms / (double) trials;
        System.out.printf("linear MMD false-alarm rate at level 0.05: %d of %d same-distribution trials (%.3f)%n", alarms, trials, rate);
        // binomial(400, 0.05): sd 1.1 %; the asymptotic normal test should sit near the level
        assertTrue(rate <= 0.08 && rate >= 0.02, "false-alarm rate " + rate);
    }

    @Test
    void detectsAShiftAndAScaleChange() {
        Random rnd = new Random(2);
        assertTrue(LinearMmd.test(gaussian(rnd, 1000, 16, 0, 1), gaussian(rnd, 1000, 16, 0.5, 1), 3).pValue() < 1e-4);
        assertTrue(LinearMmd.test(gaussian(rnd, 1000, 16, 0, 1), gaussian(rnd, 1000, 16, 0, 2), 3).pValue() < 1e-4);
    }

    @Test
    void normalCdfKnownValues() {
        assertEquals(0.5, LinearMmd.normalCdf(0), 1e-7);
        assertEquals(0.975002, LinearMmd.normalCdf(1.96), 1e-6);
        assertEquals(0.0013499, LinearMmd.normalCdf(-3), 1e-6);
    }

    @Test
    void tooFewRowsIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> LinearMmd.test(new float[3][2], new float[10][2], 0));
    }
}
