package io.cnnlens.tuning;

import ai.djl.training.tracker.Tracker;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The lecture's first checks before any search (docs/tuning.md): the initial loss against ln C
 * with weight decay off, overfitting a small sample to 100 % training accuracy, and the
 * learning-rate range test. Each returns pass/fail with its numbers and, on failure, what to do.
 */
public final class Checklist {

    /** The initial loss is within this fraction of ln C. */
    public static final double INITIAL_TOLERANCE = 0.15;

    /** One check's outcome. */
    public record Check(String name, boolean passed, String numbers, String advice) {
        public String line() {
            return String.format(Locale.ROOT, "%-12s %s  %s%s", name, passed ? "PASS" : "FAIL", numbers,
                    passed ? "" : "  → " + advice);
        }
    }

    /** The overfit run: training loss and accuracy (on the sample, evaluation mode) per iteration. */
    public record Overfit(Check check, double[] loss, double[] accuracy, int iterations) {
    }

    private Checklist() {
    }

    /**
     * Loss of the freshly initialised network on {@code sample} (evaluation mode, weight decay off: only the data loss),
     * against ln C.
     */
    public static Check initialLoss(Recipe r, LabelledImages sample, FamilyTraining.Settings s) {
        Recipe noDecay = r.with("weight-decay", "0");
        int classes = sample.classes().size();
        double lnC = Math.log(classes);
        double l;
        try (TrainingSession t = new TrainingSession(noDecay, classes, s.mean(), s.std(), Tracker.fixed((float) r.lr()), s.seed(), s.threads())) {
            l = t.evalLoss(sample.pixels(), sample.labels());
        }
        boolean ok = Double.isFinite(l) && Math.abs(l - lnC) <= INITIAL_TOLERANCE * lnC;
        String advice = !Double.isFinite(l)
                ? "the loss is NaN/Inf before any step: bad initialisation (check the initialiser and the input normalisation)"
                : l > lnC ? "the initial loss is too high for chance predictions: bad initialisation (weights too large: "
                        + "the network is confidently wrong) or unnormalised inputs"
                : "the initial loss is below chance: check the loss (weight decay must be off) and the labels";
        return new Check("initial-loss", ok, String.format(Locale.ROOT, "loss %.4f vs ln %d = %.4f (tolerance ±%.0f %%, %d images, weight decay off)",
                l, classes, lnC, INITIAL_TOLERANCE * 100, sample.size()), advice);
    }

    /**
     * Trains on {@code sample} alone (regularisation off: dropout 0, weight decay 0, constant lr) until every image is
     * classified right (evaluation mode) or {@code maxIterations} pass. The lecture: a small sample, 5–10 minibatches,
     * should reach 100 % training accuracy.
     */
    public static Overfit overfit(Recipe r, LabelledImages sample, FamilyTraining.Settings s, int maxIterations, int checkEvery) {
        Recipe plain = r.with("weight-decay", "0").with("dropout", "0").with("schedule", "constant");
        int classes = sample.classes().size();
        int bs = Math.min(r.batchSize(), sample.size());
        int batches = Math.max(1, sample.size() / bs);
        List<Double> loss = new ArrayList<>();
        List<Double> acc = new ArrayList<>();
        int reached = -1;
        try (TrainingSession t = new TrainingSession(plain, classes, s.mean(), s.std(), Tracker.fixed((float) plain.lr()), s.seed(), s.threads())) {
            for (int it = 1; it <= maxIterations; it++) {
                int b = (it - 1) % batches;
                byte[][] x = java.util.Arrays.copyOfRange(sample.pixels(), b * bs, (b + 1) * bs);
                int[] y = java.util.Arrays.copyOfRange(sample.labels(), b * bs, (b + 1) * bs);
                TrainingSession.Step st = t.step(x, y);
                loss.add((double) st.loss());
                if (!Float.isFinite(st.loss())) {
                    acc.add(Double.NaN);
                    break;
                }
                if (it % checkEvery == 0 || it == maxIterations) {
                    double a = t.accuracy(java.util.Arrays.copyOf(sample.pixels(), batches * bs), java.util.Arrays.copyOf(sample.labels(), batches * bs));
                    acc.add(a);
                    if (a >= 1.0) {
                        reached = it;
                        break;
                    }
                } else {
                    acc.add(Double.NaN);
                }
            }
        }
        double lastLoss = loss.get(loss.size() - 1);
        double lastAcc = acc.stream().filter(Double::isFinite).reduce((a, b) -> b).orElse(0.0);
        boolean ok = reached > 0;
        String advice = !Double.isFinite(lastLoss)
                ? "the loss became NaN/Inf: the learning rate is too high, or bad initialisation"
                : lastLoss > 0.8 * loss.get(0)
                ? "the loss is not going down: the learning rate is too low, or bad initialisation"
                : "the loss goes down but not to zero in time: train longer, raise the learning rate a little, or check the labels";
        Check c = new Check("overfit", ok, String.format(Locale.ROOT,
                "%s after %d iterations of %d (%d images = %d minibatches of %d; dropout 0, weight decay 0, lr %s): "
                        + "training accuracy %.4f, loss %.4f → %.4f",
                ok ? "100 % training accuracy" : "not 100 %", ok ? reached : loss.size(), maxIterations, batches * bs, batches, bs,
                Recipe.num(plain.lr()), lastAcc, loss.get(0), lastLoss), advice);
        return new Overfit(c, loss.stream().mapToDouble(Double::doubleValue).toArray(),
                acc.stream().mapToDouble(Double::doubleValue).toArray(), loss.size());
    }

    /**
     * The learning-rate range test on {@code train}: {@code steps} updates, lr from {@code min} to {@code max}
     * exponentially, stopping at {@link LrRangeTest#STOP} × the best smoothed loss.
     */
    public static LrRangeTest.Result lrRange(Recipe r, LabelledImages train, FamilyTraining.Settings s, double min, double max, int steps) {
        int classes = train.classes().size();
        int bs = Math.min(r.batchSize(), train.size());
        java.util.Random rnd = new java.util.Random(s.seed());
        double[] lrs = new double[steps];
        double[] loss = new double[steps];
        for (int i = 0; i < steps; i++) {
            lrs[i] = LrRangeTest.lr(min, max, steps, i);
        }
        Tracker exp = update -> (float) LrRangeTest.lr(min, max, steps, Math.min(steps - 1, update));
        int ran = 0;
        try (TrainingSession t = new TrainingSession(r.with("schedule", "constant"), classes, s.mean(), s.std(), exp, s.seed(), s.threads())) {
            int[] order = Splits.shuffled(train.size(), rnd);
            int pos = 0;
            double best = Double.POSITIVE_INFINITY;
            double avg = 0;
            for (int i = 0; i < steps; i++) {
                if (pos + bs > order.length) {
                    order = Splits.shuffled(train.size(), rnd);
                    pos = 0;
                }
                byte[][] x = new byte[bs][];
                int[] y = new int[bs];
                for (int j = 0; j < bs; j++) {
                    x[j] = train.pixels()[order[pos + j]];
                    y[j] = train.labels()[order[pos + j]];
                }
                pos += bs;
                loss[i] = t.step(x, y).loss();
                ran = i + 1;
                // the same stop rule as the analysis, so a blown-up network is not trained further
                double l = Double.isFinite(loss[i]) ? loss[i] : Double.POSITIVE_INFINITY;
                avg = LrRangeTest.BETA * avg + (1 - LrRangeTest.BETA) * l;
                double sm = avg / (1 - Math.pow(LrRangeTest.BETA, i + 1));
                if (!Double.isFinite(sm) || (i > 0 && sm > LrRangeTest.STOP * best)) {
                    break;
                }
                best = Math.min(best, sm);
            }
        }
        return LrRangeTest.analyse(java.util.Arrays.copyOf(lrs, ran), java.util.Arrays.copyOf(loss, ran));
    }

    /** The range test's verdict: a suggestion found (pass) or not, with what to do. */
    public static Check lrCheck(LrRangeTest.Result r, double bundledLr) {
        boolean ok = Double.isFinite(r.suggestion());
        return new Check("lr-range", ok, ok
                ? String.format(Locale.ROOT, "suggested lr %.3g (steepest smoothed descent; loss lowest at lr %.3g; %d steps run; "
                        + "the bundled model uses %.3g)", r.suggestion(), r.minLossLr(), r.stoppedAt(), bundledLr)
                : String.format(Locale.ROOT, "the smoothed loss never went down over %d steps", r.stoppedAt()),
                "the loss is not going down at any learning rate: bad initialisation, or a bug in the data or the loss");
    }
}
