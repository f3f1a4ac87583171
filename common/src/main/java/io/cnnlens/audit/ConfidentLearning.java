package io.cnnlens.audit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Label issues by confident learning (Northcutt, Jiang &amp; Chuang, "Confident Learning:
 * Estimating Uncertainty in Dataset Labels", JAIR 2021), from out-of-sample predicted
 * probabilities p̂(j|x) (each example scored by a model that did not train on it). Per class j
 * the threshold t_j is the mean of p̂(j|x) over the examples labelled j. An example labelled i
 * counts in the confident joint at (i, j*) where j* is the class of largest p̂(j|x) among the
 * classes with p̂(j|x) ≥ t_j; it is a label issue when j* ≠ i (an off-diagonal entry; the paper's
 * {@code confident_learning} filter, cleanlab's {@code filter_by='confident_learning'}). Issues
 * are ranked by self-confidence p̂(i|x), lowest first. Memory O(n·C) for the input only; time
 * O(n·C). See docs/methods.md#confident-learning.
 */
public final class ConfidentLearning {

    /** One flagged example: its index, given label, suggested label (j*), and self-confidence p̂(given|x). */
    public record Issue(int index, int given, int suggested, double selfConfidence) {
    }

    /** The flagged examples, the per-class thresholds and the confident joint (C×C counts). */
    public record Result(List<Issue> issues, double[] thresholds, long[][] joint) {
    }

    private ConfidentLearning() {
    }

    /**
     * @param probs  n rows of C out-of-sample probabilities
     * @param labels the given label of each row, in [0, C)
     */
    public static Result find(double[][] probs, int[] labels) {
        int n = labels.length;
        if (probs.length != n) {
            throw new IllegalArgumentException(probs.length + " probability rows but " + n + " labels");
        }
        if (n == 0) {
            return new Result(List.of(), new double[0], new long[0][0]);
        }
        int c = probs[0].length;
        double[] sum = new double[c];
        long[] count = new long[c];
        for (int i = 0; i < n; i++) {
            if (probs[i].length != c) {
                throw new IllegalArgumentException("row " + i + " has " + probs[i].length + " probabilities, not " + c);
            }
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " is not in [0, " + c + ")");
            }
            sum[labels[i]] += probs[i][labels[i]];
            count[labels[i]]++;
        }
        double[] t = new double[c];
        for (int j = 0; j < c; j++) {
            // a class no example carries can never be confidently suggested
            t[j] = count[j] == 0 ? Double.POSITIVE_INFINITY : sum[j] / count[j];
        }
        long[][] joint = new long[c][c];
        List<Issue> issues = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int best = -1;
            for (int j = 0; j < c; j++) {
                if (probs[i][j] >= t[j] && (best < 0 || probs[i][j] > probs[i][best])) {
                    best = j;
                }
            }
            if (best < 0) {
                continue; // confident about no class: not counted
            }
            joint[labels[i]][best]++;
            if (best != labels[i]) {
                issues.add(new Issue(i, labels[i], best, probs[i][labels[i]]));
            }
        }
        issues.sort(Comparator.comparingDouble(Issue::selfConfidence).thenComparingInt(Issue::index));
        return new Result(issues, t, joint);
    }
}
