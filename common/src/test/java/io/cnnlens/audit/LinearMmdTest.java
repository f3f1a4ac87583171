package io.cnnlens.audit;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearMmdTest {

    /**
     * Rows of {@code d} independent normal values. SplittableRandom, not Random: rows of
     * java.util.Random's normals carry its congruential generator's structure, and the measured
     * false-alarm rate of even an exact test came out near 5.4 % on them (4.5 % on these).
     */
    static float[][] gaussian(SplittableRandom rnd, int n, int d, double shift, double scale) {
        float[][] x = new float[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                // Box-Muller
                double g = Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
                x[i][j] = (float) (shift + scale * g);
            }
        }
        return x;
    }

    /**
     * The false-alarm rate, measured: 2,000 same-distribution trials, so that the binomial sd of
     * the rate is 0.49 %; the bound is the level plus two sds. The asymptotic normal p-value this
     * test used before had a size of 6.5 % (26 of 400 trials) to 6.1 % (122 of 2,000).
     */
    @Test
    void falseAlarmRateAtTheLevelOnSameDistributionSamples() {
        SplittableRandom rnd = new SplittableRandom(1);
        int alarms = 0;
        int trials = 2000;
        for (int t = 0; t < trials; t++) {
            LinearMmd.Result r = LinearMmd.test(gaussian(rnd, 400, 16, 0, 1), gaussian(rnd, 400, 16, 0, 1), t);
            if (r.pValue() < 0.05) {
                alarms++;
            }
        }
        double rate = alarms / (double) trials;
        double sd = Math.sqrt(0.05 * 0.95 / trials);
        System.out.printf("linear MMD false-alarm rate at level 0.05: %d of %d same-distribution trials (%.4f, 95%% interval %.4f-%.4f)%n",
                alarms, trials, rate, rate - 1.96 * Math.sqrt(rate * (1 - rate) / trials), rate + 1.96 * Math.sqrt(rate * (1 - rate) / trials));
        assertTrue(rate <= 0.05 + 2 * sd, "false-alarm rate " + rate + " above the level 0.05 by more than two sds (" + sd + ")");
        assertTrue(rate >= 0.05 - 4 * sd, "false-alarm rate " + rate + ": the test is far more conservative than its level");
    }

    /**
     * An audit tests each new batch against one reference (the last audit's snapshot), so the
     * false-alarm rate must hold for that reference, not only on average over references. With the
     * reference's rows paired the same way for every batch, the rate given the reference ranged
     * from 0 to 17 % on Fashion-MNIST fc7 (docs/methods.md#one-reference-many-batches) and from 0 to
     * 27 % here. Here: 12 references, 150 same-distribution batches each; a chi-square test of
     * homogeneity of the 12 alarm counts (Smile's, p above 0.001), and every
     * reference's rate within the level plus three binomial sds.
     */
    @Test
    void falseAlarmRateHoldsForEachReference() {
        SplittableRandom rnd = new SplittableRandom(3);
        int references = 12;
        int batches = 150;
        int[] alarms = new int[references];
        int total = 0;
        for (int r = 0; r < references; r++) {
            float[][] reference = gaussian(rnd, 400, 8, 0, 1);
            for (int b = 0; b < batches; b++) {
                alarms[r] += LinearMmd.test(reference, gaussian(rnd, 400, 8, 0, 1), 12).pValue() < 0.05 ? 1 : 0;
            }
            total += alarms[r];
        }
        // Pearson's chi-square of the references × {alarm, none} table: one false-alarm rate for all references
        int[][] table = new int[references][];
        for (int r = 0; r < references; r++) {
            table[r] = new int[] {alarms[r], batches - alarms[r]};
        }
        smile.stat.hypothesis.ChiSqTest same = smile.stat.hypothesis.ChiSqTest.test(table);
        System.out.printf("linear MMD false alarms per reference (of %d batches each): %s; chi-square %.1f on %.0f df, p %.3f%n", batches,
                java.util.Arrays.toString(alarms), same.chisq, same.df, same.pvalue);
        assertTrue(total > 0 && same.pvalue > 0.001, "alarm counts per reference " + java.util.Arrays.toString(alarms)
                + " differ more than the binomial allows (chi-square " + same.chisq + ", p " + same.pvalue + ")");
        for (int a : alarms) {
            assertTrue(a / (double) batches <= 0.05 + 3 * Math.sqrt(0.05 * 0.95 / batches), "a reference with "
                    + a + " alarms in " + batches + " same-distribution batches: " + java.util.Arrays.toString(alarms));
        }
    }

    @Test
    void detectsAShiftAndAScaleChange() {
        SplittableRandom rnd = new SplittableRandom(2);
        // no flip reaches either statistic: the smallest p-value the test gives
        double floor = 1.0 / (1 + LinearMmd.FLIPS);
        assertEquals(floor, LinearMmd.test(gaussian(rnd, 1000, 16, 0, 1), gaussian(rnd, 1000, 16, 0.5, 1), 3).pValue(), 0);
        assertEquals(floor, LinearMmd.test(gaussian(rnd, 1000, 16, 0, 1), gaussian(rnd, 1000, 16, 0, 2), 3).pValue(), 0);
    }

    /** The permutation p-value's two ends: a sum no flip reaches, and a sum of zero every flip reaches. */
    @Test
    void signFlipPValueEnds() {
        double[] h = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        assertEquals(1.0 / (1 + LinearMmd.FLIPS), LinearMmd.signFlipPValue(h, 136 + 1, new SplittableRandom(1)), 0);
        assertEquals(1.0, LinearMmd.signFlipPValue(new double[8], 0, new SplittableRandom(1)), 0);
        // all 2^16 sign patterns, counted: P(flipped sum >= 100) exactly, against the seeded flips
        int hits = 0;
        for (int mask = 0; mask < 1 << 16; mask++) {
            double sum = 0;
            for (int i = 0; i < 16; i++) {
                sum += (mask >> i & 1) == 0 ? h[i] : -h[i];
            }
            hits += sum >= 100 ? 1 : 0;
        }
        double exact = hits / 65536.0;
        double p = LinearMmd.signFlipPValue(h, 100, new SplittableRandom(2));
        assertEquals(exact, p, 4 * Math.sqrt(exact * (1 - exact) / LinearMmd.FLIPS) + 1e-3, "exact " + exact + ", seeded flips " + p);
    }

    @Test
    void tooFewRowsIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> LinearMmd.test(new float[3][2], new float[10][2], 0));
    }
}
