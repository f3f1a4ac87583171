package io.cnnlens.tuning;

/**
 * The learning-rate range test (Smith 2017; docs/tuning.md): the learning rate grows exponentially
 * from {@code min} to {@code max} over the steps, the loss is smoothed by a bias-corrected
 * exponential moving average, the test stops once the smoothed loss exceeds {@link #STOP} × its
 * best, and the suggestion is the learning rate of the steepest descent of the smoothed loss
 * against log(lr), looked for only before the smoothed minimum and after the first
 * {@link #SKIP_FRACTION} of the steps. The skip and the smoothing are what keep an early spike (a
 * noisy first batches' loss, as in Lightning #1767) from becoming the suggestion.
 */
public final class LrRangeTest {

    public static final double STOP = 4;
    public static final double BETA = 0.98;
    public static final double SKIP_FRACTION = 0.1;

    /** The curve and the suggestion; {@code suggestion} is NaN when the loss never went down. */
    public record Result(double[] lrs, double[] loss, double[] smoothed, int stoppedAt, double suggestion, int suggestionIndex,
                         double minLossLr) {
    }

    private LrRangeTest() {
    }

    /** The learning rate of step {@code i} of {@code steps}: min · (max/min)^(i/(steps−1)). */
    public static double lr(double min, double max, int steps, int i) {
        return min * Math.pow(max / min, steps <= 1 ? 0 : i / (double) (steps - 1));
    }

    /** The suggestion from a recorded curve (losses of the steps actually run, their learning rates). */
    public static Result analyse(double[] lrs, double[] loss) {
        int n = Math.min(lrs.length, loss.length);
        double[] sm = new double[n];
        double avg = 0;
        double best = Double.POSITIVE_INFINITY;
        int stopped = n;
        for (int i = 0; i < n; i++) {
            double l = Double.isFinite(loss[i]) ? loss[i] : Double.POSITIVE_INFINITY;
            avg = BETA * avg + (1 - BETA) * l;
            sm[i] = avg / (1 - Math.pow(BETA, i + 1));
            if (!Double.isFinite(sm[i]) || (i > 0 && sm[i] > STOP * best)) {
                stopped = i + 1;
                break;
            }
            best = Math.min(best, sm[i]);
        }
        int m = stopped;
        int argmin = 0;
        for (int i = 0; i < m; i++) {
            if (Double.isFinite(sm[i]) && sm[i] < sm[argmin]) {
                argmin = i;
            }
        }
        int skip = (int) Math.ceil(SKIP_FRACTION * n);
        // steepest descent of the smoothed loss per unit log(lr), central differences, between skip and the minimum
        int bestI = -1;
        double steepest = 0;
        for (int i = Math.max(1, skip); i < Math.min(argmin, m - 1); i++) {
            double slope = (sm[i + 1] - sm[i - 1]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i - 1]));
            if (slope < steepest) {
                steepest = slope;
                bestI = i;
            }
        }
        double[] lrOut = java.util.Arrays.copyOf(lrs, m);
        double[] lossOut = java.util.Arrays.copyOf(loss, m);
        double[] smOut = java.util.Arrays.copyOf(sm, m);
        return new Result(lrOut, lossOut, smOut, stopped, bestI < 0 ? Double.NaN : lrs[bestI], bestI, lrs[argmin]);
    }
}
