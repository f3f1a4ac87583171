package io.cnnlens.adversarial;

/**
 * The outcome of an attack on one image: the adversarial pixels (0..255), whether it reached its
 * goal, the steps taken, the perturbation's L2 and L∞ norms in pixel units, the prediction and
 * the target class's probability at the end.
 */
public record Attack(float[] pixels, boolean success, int steps, double l2, double linf, int predicted, double targetProbability) {
}
