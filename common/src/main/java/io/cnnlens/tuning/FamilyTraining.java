package io.cnnlens.tuning;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains one recipe of the family on a training split, measuring the validation split after each
 * epoch: the tuning job's trial. Batches are drawn from a seeded shuffle of the training split
 * each epoch (the last partial batch dropped, so every step has the recipe's batch size). A loss
 * that becomes NaN/Inf, or exceeds {@link #EXPLODE} × max(ln C, first loss), ends the trial as
 * {@code diverged} with the iteration and value in its note.
 */
public final class FamilyTraining {

    /** A loss this many times the starting level is an explosion. */
    public static final double EXPLODE = 5;

    /** Normalisation and threads of a run. */
    public record Settings(float mean, float std, long seed, int threads) implements java.io.Serializable {
    }

    private FamilyTraining() {
    }

    /**
     * @param log an epoch line as each epoch ends (may be a no-op)
     */
    public static TrialRun train(Recipe r, LabelledImages train, LabelledImages val, Settings s, Consumer<String> log) {
        return train(r, train, val, s, log, null);
    }

    /** As {@link #train(Recipe, LabelledImages, LabelledImages, Settings, Consumer)}, leaving the trained session open in {@code keep[0]} when given. */
    public static TrialRun train(Recipe r, LabelledImages train, LabelledImages val, Settings s, Consumer<String> log,
                                 TrainingSession[] keep) {
        int bs = Math.min(r.batchSize(), train.size());
        int perEpoch = Math.max(1, train.size() / bs);
        int classes = train.classes().size();
        double lnC = Math.log(classes);
        List<Float> losses = new ArrayList<>();
        double[] trainAcc = new double[r.epochs()];
        double[] valAcc = new double[r.epochs()];
        double[] valLoss = new double[r.epochs()];
        long t0 = System.nanoTime();
        long images = 0;
        long evalNanos = 0;
        Random rnd = new Random(s.seed());
        TrainingSession session = new TrainingSession(r, classes, s.mean(), s.std(),
                TrainingSession.schedule(r, perEpoch * r.epochs()), s.seed(), s.threads());
        boolean kept = false;
        try {
            double start = Double.NaN;
            for (int epoch = 0; epoch < r.epochs(); epoch++) {
                int[] order = Splits.shuffled(train.size(), rnd);
                long right = 0;
                long seen = 0;
                for (int b = 0; b < perEpoch; b++) {
                    byte[][] x = new byte[bs][];
                    int[] y = new int[bs];
                    for (int i = 0; i < bs; i++) {
                        int k = order[b * bs + i];
                        x[i] = train.pixels()[k];
                        y[i] = train.labels()[k];
                    }
                    TrainingSession.Step st = session.step(x, y);
                    losses.add(st.loss());
                    images += bs;
                    right += st.correct();
                    seen += st.size();
                    if (Double.isNaN(start)) {
                        start = Math.max(lnC, st.loss());
                    }
                    if (!Float.isFinite(st.loss()) || st.loss() > EXPLODE * start) {
                        String note = String.format(java.util.Locale.ROOT, "loss %s at iteration %d (start %.3f)",
                                Float.isFinite(st.loss()) ? String.format(java.util.Locale.ROOT, "%.3g", st.loss()) : String.valueOf(st.loss()),
                                losses.size(), start);
                        log.accept("diverged: " + note);
                        return new TrialRun(toArray(losses), java.util.Arrays.copyOf(trainAcc, epoch),
                                java.util.Arrays.copyOf(valAcc, epoch), java.util.Arrays.copyOf(valLoss, epoch),
                                TrialRun.DIVERGED, note, (System.nanoTime() - t0) / 1e9,
                                (System.nanoTime() - t0 - evalNanos) / 1e9, images);
                    }
                }
                trainAcc[epoch] = right / (double) seen;
                long v0 = System.nanoTime();
                double[] v = session.evaluate(val.pixels(), val.labels());
                evalNanos += System.nanoTime() - v0;
                valLoss[epoch] = v[0];
                valAcc[epoch] = v[1];
                log.accept(String.format(java.util.Locale.ROOT, "epoch %d/%d  loss %.4f  train accuracy %.4f  val accuracy %.4f",
                        epoch + 1, r.epochs(), losses.get(losses.size() - 1), trainAcc[epoch], valAcc[epoch]));
            }
            if (keep != null) {
                keep[0] = session;
                kept = true;
            }
            return new TrialRun(toArray(losses), trainAcc, valAcc, valLoss, TrialRun.OK, "", (System.nanoTime() - t0) / 1e9,
                    (System.nanoTime() - t0 - evalNanos) / 1e9, images);
        } finally {
            if (!kept) {
                session.close();
            }
        }
    }

    static float[] toArray(List<Float> l) {
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
