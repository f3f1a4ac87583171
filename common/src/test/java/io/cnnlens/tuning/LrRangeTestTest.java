package io.cnnlens.tuning;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

class LrRangeTestTest {

    /**
     * A synthetic range-test curve: flat until lr ≈ 1e-5, falling fastest near lr = 1e-3, exploding past 1e-2, with
     * noise and a spike in the first steps (the early-spike trap). The suggestion lands within a factor 10 of 1e-3, and
     * the naive steepest raw drop (what fooled Lightning) lands in the spike.
     */
    @Test
    void suggestionIgnoresAnEarlySpike() {
        int steps = 100;
        double[] lrs = new double[steps];
        double[] loss = new double[steps];
        Random rnd = new Random(3);
        for (int i = 0; i < steps; i++) {
            lrs[i] = LrRangeTest.lr(1e-8, 1, steps, i);
            double x = Math.log10(lrs[i]);
            double l = 2.3 - 1.5 / (1 + Math.exp(-(x + 3) * 2.5)) + (x > -2 ? Math.exp(3 * (x + 2)) - 1 : 0);
            loss[i] = l * (1 + 0.03 * rnd.nextGaussian());
        }
        loss[1] = 6;   // the spike: a bad first batch
        loss[2] = 0.9; // and a lucky one right after it
        LrRangeTest.Result r = LrRangeTest.analyse(lrs, loss);
        System.out.printf("range test: suggestion %.3g, lowest loss at %.3g, stopped after %d%n", r.suggestion(), r.minLossLr(), r.stoppedAt());
        assertTrue(r.suggestion() > 1e-4 && r.suggestion() < 1e-2, "suggestion " + r.suggestion());
        assertTrue(r.stoppedAt() < steps, "stops once the loss blows up");
        int naive = 1;
        for (int i = 1; i < r.stoppedAt(); i++) {
            if (loss[i] - loss[i - 1] < loss[naive] - loss[naive - 1]) {
                naive = i;
            }
        }
        assertTrue(lrs[naive] < 1e-6, "the raw steepest drop sits in the spike: " + lrs[naive]);
    }

    @Test
    void aFlatCurveHasNoSuggestion() {
        double[] lrs = new double[50];
        double[] loss = new double[50];
        for (int i = 0; i < 50; i++) {
            lrs[i] = LrRangeTest.lr(1e-8, 1, 50, i);
            loss[i] = 2.3;
        }
        assertTrue(Double.isNaN(LrRangeTest.analyse(lrs, loss).suggestion()));
    }
}
