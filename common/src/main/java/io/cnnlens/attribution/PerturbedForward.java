package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

import java.util.function.IntUnaryOperator;

/**
 * The perturbation engine of the perturbation-based methods (occlusion, Shapley sampling, the
 * deletion and insertion curves): numbered copies of the input, each written by the caller's
 * {@link Perturbation}, are packed into batches of up to {@code batch} copies in copy order (a
 * batch may hold copies of several images), each full batch and the final partial one run through
 * the network, and the target-class softmax probability of every copy comes back, indexed by copy.
 * Memory: one batch of copies plus one double per copy; the tensors live only inside
 * {@link ModelForward#run}. Design notes: {@code docs/methods.md}.
 */
public final class PerturbedForward {

    /** Writes one perturbed copy of an input image. */
    @FunctionalInterface
    public interface Perturbation {
        /**
         * Writes copy {@code copy}, all C×H×W values of it, into {@code buffer} from {@code offset};
         * the buffer holds the previous batch's values there, so every value must be written.
         */
        void write(int copy, float[] buffer, int offset);
    }

    private final ModelForward forward;
    private final int batch;

    /** @param batch the most copies per forward pass (≥ 1) */
    public PerturbedForward(ModelForward forward, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("a perturbation batch needs at least one copy, not " + batch);
        }
        this.forward = forward;
        this.batch = batch;
    }

    /**
     * Target-class probabilities of {@code copies} perturbed copies, in double precision (see
     * {@link Gradients#probability}).
     *
     * @param target the class whose probability is read, per copy
     * @param perturbation writes each copy
     * @return one probability per copy, indexed by copy
     */
    public double[] probabilities(int copies, IntUnaryOperator target, Perturbation perturbation) {
        int per = Gradients.perImage(forward.spec());
        int size = Math.max(1, Math.min(batch, copies));
        float[] buffer = new float[Math.multiplyExact(size, per)];
        int[] targets = new int[size];
        double[] out = new double[copies];
        int filled = 0;
        for (int copy = 0; copy < copies; copy++) {
            perturbation.write(copy, buffer, filled * per);
            targets[filled] = target.applyAsInt(copy);
            filled++;
            if (filled == size || copy == copies - 1) {
                double[] p = Gradients.probability(forward, buffer, filled, targets);
                System.arraycopy(p, 0, out, copy + 1 - filled, filled);
                filled = 0;
            }
        }
        return out;
    }
}
