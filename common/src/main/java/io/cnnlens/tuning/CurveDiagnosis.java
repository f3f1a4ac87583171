package io.cnnlens.tuning;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a trial's curves the way the lecture asks to (docs/tuning.md), each finding with the
 * numbers that triggered it. In order of precedence:
 * <ol>
 *   <li>{@code lr-too-high}: the loss becomes NaN/Inf, or its moving average rises above
 *       {@link #EXPLODE} × its start, or ends above {@link #RISE} × its start;</li>
 *   <li>{@code bad-init}: the moving average stays within {@link #FLAT} of its start for at least
 *       {@link #PLATEAU_FRACTION} of the iterations, then drops suddenly (by a further {@link #SUDDEN} of the
 *       start within a tenth of the run) and ends below {@link #DROPPED} × the start;</li>
 *   <li>{@code lr-too-low}: the moving average ends above {@link #BARELY} × its start (it barely moved);</li>
 *   <li>{@code overfitting}: the final train−val accuracy gap exceeds {@link #GAP} and grew by more
 *       than {@link #GAP_GROWTH} since the first epoch, or validation accuracy fell more than
 *       {@link #VAL_DROP} below its best while training accuracy rose;</li>
 *   <li>{@code decay-lr}: between the two halves of the last third the mean loss changed by less than
 *       {@link #PLATEAU_CHANGE} while still above {@link #PLATEAU_LEVEL} × the start (a plateau a
 *       step decay would break);</li>
 *   <li>{@code underfitting}: the gap is under {@link #NO_GAP} and training accuracy under the target;</li>
 *   <li>{@code ok} otherwise.</li>
 * </ol>
 */
public final class CurveDiagnosis {

    public static final double EXPLODE = 3;
    public static final double RISE = 1.2;
    public static final double FLAT = 0.1;
    public static final double PLATEAU_FRACTION = 0.2;
    public static final double DROPPED = 0.6;
    public static final double SUDDEN = 0.15;
    public static final double BARELY = 0.85;
    public static final double GAP = 0.05;
    public static final double GAP_GROWTH = 0.03;
    public static final double VAL_DROP = 0.01;
    public static final double PLATEAU_CHANGE = 0.05;
    public static final double PLATEAU_LEVEL = 0.2;
    public static final double NO_GAP = 0.02;
    public static final double UNDERFIT_TARGET = 0.85;

    public static final List<String> LABELS = List.of("lr-too-high", "bad-init", "lr-too-low", "overfitting", "decay-lr",
            "underfitting", "ok");

    /** A finding: its label and the sentence with its numbers and what to do. */
    public record Finding(String label, String evidence) {
    }

    /** All findings, the first being the diagnosis. */
    public record Diagnosis(List<Finding> findings) {
        public String label() {
            return findings.get(0).label();
        }

        public String text() {
            return findings.get(0).evidence();
        }
    }

    private CurveDiagnosis() {
    }

    /**
     * @param loss     per-iteration training loss
     * @param trainAcc per-epoch training accuracy
     * @param valAcc   per-epoch validation accuracy
     */
    public static Diagnosis diagnose(float[] loss, double[] trainAcc, double[] valAcc) {
        List<Finding> out = new ArrayList<>();
        int n = loss.length;
        if (n == 0) {
            return new Diagnosis(List.of(new Finding("ok", "no iterations recorded")));
        }
        int firstBad = -1;
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(loss[i])) {
                firstBad = i;
                break;
            }
        }
        if (firstBad >= 0) {
            out.add(new Finding("lr-too-high", f("the loss became %s at iteration %d: the learning rate is too high "
                    + "(or bad initialisation); lower it", loss[firstBad], firstBad + 1)));
            return new Diagnosis(out);
        }
        int w = Math.max(3, n / 20);
        double[] ma = movingAverage(loss, w);
        double start = mean(loss, 0, Math.min(n, w));
        double end = ma[n - 1];
        double max = start;
        int maxAt = 0;
        for (int i = 0; i < n; i++) {
            if (ma[i] > max) {
                max = ma[i];
                maxAt = i;
            }
        }
        if (max > EXPLODE * start || end > RISE * start) {
            out.add(new Finding("lr-too-high", f("the loss explodes: moving average %.3g at iteration %d (and %.3g at the end) "
                    + "against %.3g at the start: the learning rate is too high; lower it", max, maxAt + 1, end, start)));
        }
        // plateau then a drop
        int drop = -1;
        for (int i = 0; i < n; i++) {
            if (ma[i] < (1 - FLAT) * start) {
                drop = i;
                break;
            }
        }
        // sudden: within a tenth of the run after leaving the plateau the loss is down by SUDDEN of the start
        boolean sudden = drop >= 0 && ma[Math.min(n - 1, drop + Math.max(1, n / 10))] < (1 - FLAT - SUDDEN) * start;
        if (drop >= PLATEAU_FRACTION * n && sudden && end < DROPPED * start) {
            out.add(new Finding("bad-init", f("the loss stays flat near %.3g for %d of %d iterations (%.0f %%), then drops to %.3g: "
                    + "bad initialisation", start, drop, n, 100.0 * drop / n, end)));
        }
        if (end > BARELY * start && out.isEmpty()) {
            out.add(new Finding("lr-too-low", f("the loss barely moves: %.3g → %.3g (%.1f %%) over %d iterations: the learning rate "
                    + "is too low (or bad initialisation); raise it", start, end, 100 * (end - start) / start, n)));
        }
        int e = Math.min(trainAcc.length, valAcc.length);
        if (e >= 2) {
            double gapEnd = trainAcc[e - 1] - valAcc[e - 1];
            double gapFirst = trainAcc[0] - valAcc[0];
            int best = 0;
            for (int i = 0; i < e; i++) {
                if (valAcc[i] > valAcc[best]) {
                    best = i;
                }
            }
            boolean grew = gapEnd > GAP && gapEnd - gapFirst > GAP_GROWTH;
            boolean fell = valAcc[best] - valAcc[e - 1] > VAL_DROP && trainAcc[e - 1] > trainAcc[best];
            if (grew || fell) {
                out.add(new Finding("overfitting", f("train−val accuracy gap %.3f → %.3f over %d epochs; validation best %.3f "
                        + "(epoch %d), last %.3f: overfitting; add regularisation (weight decay, dropout) or data", gapFirst, gapEnd, e,
                        valAcc[best], best + 1, valAcc[e - 1])));
            }
        }
        int third = n - n / 3;
        int half = (n - third) / 2;
        double a = mean(loss, third, third + half);
        double b = mean(loss, third + half, n);
        double change = (a - b) / a;
        if (n >= 3 * w && Math.abs(change) < PLATEAU_CHANGE && b > PLATEAU_LEVEL * start && end < BARELY * start) {
            out.add(new Finding("decay-lr", f("the loss plateaus at %.3g over the last %d iterations (%.1f %% change, %.0f %% of the start): "
                    + "time to decay the learning rate", b, n - third, 100 * change, 100 * b / start)));
        }
        if (e >= 1) {
            double gap = trainAcc[e - 1] - valAcc[e - 1];
            if (Math.abs(gap) < NO_GAP && trainAcc[e - 1] < UNDERFIT_TARGET) {
                out.add(new Finding("underfitting", f("training accuracy %.3f, validation %.3f, gap %.3f: underfitting; a bigger model "
                        + "or longer training", trainAcc[e - 1], valAcc[e - 1], gap)));
            }
        }
        if (out.isEmpty()) {
            out.add(new Finding("ok", f("loss %.3g → %.3g; last train/val accuracy %s: no problem seen", start, end,
                    e >= 1 ? f("%.3f/%.3f", trainAcc[e - 1], valAcc[e - 1]) : "-")));
        }
        out.sort(java.util.Comparator.comparingInt(x -> LABELS.indexOf(x.label())));
        return new Diagnosis(out);
    }

    /** Trailing moving average over {@code w} points (fewer at the start). */
    public static double[] movingAverage(float[] v, int w) {
        double[] out = new double[v.length];
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            s += v[i];
            if (i >= w) {
                s -= v[i - w];
            }
            out[i] = s / Math.min(i + 1, w);
        }
        return out;
    }

    private static double mean(float[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / Math.max(1, to - from);
    }

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }
}
