package io.cnnlens.tuning;

import java.io.Serializable;

/**
 * What one trial's training recorded: the training loss of every iteration, the training and
 * validation accuracy after every epoch, and how it ended. A trial whose loss became NaN/Inf or
 * exploded is a {@code diverged} result, not an error.
 *
 * @param iterLoss       the mean data loss of each iteration's batch (before its update)
 * @param trainAcc       per epoch: accuracy on that epoch's training batches (running, dropout on)
 * @param valAcc         per epoch: accuracy on the validation split (evaluation mode)
 * @param valLoss        per epoch: mean loss on the validation split
 * @param status         {@code ok} or {@code diverged}
 * @param note           why it diverged (empty when ok)
 * @param seconds        wall time of the training, validation passes included
 * @param trainSeconds   wall time of the training steps alone (batch assembly, forward, backward, update)
 * @param images         training images processed (for throughput)
 */
public record TrialRun(float[] iterLoss, double[] trainAcc, double[] valAcc, double[] valLoss, String status, String note,
                       double seconds, double trainSeconds, long images) implements Serializable {

    public static final String OK = "ok";
    public static final String DIVERGED = "diverged";

    public boolean diverged() {
        return DIVERGED.equals(status);
    }

    /** The best validation accuracy over the epochs (0 when none finished). */
    public double bestValAcc() {
        double best = 0;
        for (double v : valAcc) {
            if (v > best) {
                best = v;
            }
        }
        return best;
    }

    /** Training throughput: images per second of the training steps (validation passes left out). */
    public double imagesPerSecond() {
        return trainSeconds > 0 ? images / trainSeconds : 0;
    }

    public int epochs() {
        return valAcc.length;
    }
}
