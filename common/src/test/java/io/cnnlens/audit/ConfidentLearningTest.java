package io.cnnlens.audit;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfidentLearningTest {

    @Test
    void handCheckedThresholdsJointAndIssues() {
        double[][] p = {
                {0.9, 0.1}, {0.8, 0.2}, {0.2, 0.8}, // labelled 0: the third looks like class 1
                {0.3, 0.7}, {0.1, 0.9}, {0.55, 0.45}}; // labelled 1: the last is below both thresholds' argmax rule
        int[] y = {0, 0, 0, 1, 1, 1};
        ConfidentLearning.Result r = ConfidentLearning.find(p, y);
        // t0 = mean p(0|x) over label 0 = (0.9+0.8+0.2)/3; t1 = (0.7+0.9+0.45)/3
        assertEquals((0.9 + 0.8 + 0.2) / 3, r.thresholds()[0], 1e-12);
        assertEquals((0.7 + 0.9 + 0.45) / 3, r.thresholds()[1], 1e-12);
        // row 2: p1 = 0.8 ≥ t1 = 0.683, p0 = 0.2 < t0 → (0,1); row 5: p0 = 0.55 < 0.633, p1 = 0.45 < 0.683 → none
        assertArrayEquals(new long[] {2, 1}, r.joint()[0]);
        assertArrayEquals(new long[] {0, 2}, r.joint()[1]);
        assertEquals(1, r.issues().size());
        ConfidentLearning.Issue i = r.issues().get(0);
        assertEquals(2, i.index());
        assertEquals(0, i.given());
        assertEquals(1, i.suggested());
        assertEquals(0.2, i.selfConfidence(), 1e-12);
    }

    @Test
    void findsFlippedLabelsOfASeparableProblem() {
        Random rnd = new Random(7);
        int n = 3000;
        int c = 3;
        double[][] p = new double[n][c];
        int[] truth = new int[n];
        int[] given = new int[n];
        int flipped = 0;
        for (int i = 0; i < n; i++) {
            truth[i] = rnd.nextInt(c);
            double s = 0;
            for (int j = 0; j < c; j++) {
                p[i][j] = j == truth[i] ? 3 + rnd.nextDouble() : rnd.nextDouble();
                s += p[i][j];
            }
            for (int j = 0; j < c; j++) {
                p[i][j] /= s;
            }
            given[i] = truth[i];
            if (rnd.nextDouble() < 0.05) {
                given[i] = (truth[i] + 1 + rnd.nextInt(c - 1)) % c;
                flipped++;
            }
        }
        ConfidentLearning.Result r = ConfidentLearning.find(p, given);
        long right = r.issues().stream().filter(is -> given[is.index()] != truth[is.index()] && is.suggested() == truth[is.index()]).count();
        // every flagged example is a flip with its true class suggested (precision 1), and the flips
        // found are exactly those whose true class clears its threshold (the definition's recall)
        long findable = 0;
        for (int i = 0; i < n; i++) {
            if (given[i] != truth[i] && p[i][truth[i]] >= r.thresholds()[truth[i]]) {
                findable++;
            }
        }
        assertEquals(right, r.issues().size());
        assertEquals(findable, right);
        assertTrue(right > flipped / 2, right + " of " + flipped);
        for (int k = 1; k < r.issues().size(); k++) {
            assertTrue(r.issues().get(k - 1).selfConfidence() <= r.issues().get(k).selfConfidence());
        }
    }

    @Test
    void badInputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.find(new double[][] {{0.5, 0.5}}, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.find(new double[][] {{0.5, 0.5}}, new int[] {0, 1}));
    }
}
