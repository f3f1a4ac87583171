package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

/**
 * Guided backpropagation (Springenberg et al. 2015): the input gradient of the class score with
 * ReLUs passing gradient only where both their forward input and the incoming gradient are
 * positive ({@link ModelForward#guidedGradient}); absolute value, maximum over channels, as the
 * vanilla gradient. With a tap other than the logits it explains one channel (or its strongest
 * neuron) of an intermediate layer. Needs a model that exposes its stages.
 */
public final class GuidedBackprop implements Saliency {

    private final String tap;
    private final ModelForward.Seed seed;

    /** For the class score (the logits tap). */
    public GuidedBackprop() {
        this(null, ModelForward.Seed.UNIT);
    }

    /** For channel {@code targets[i]} of {@code tap} (or its strongest neuron). */
    public GuidedBackprop(String tap, ModelForward.Seed seed) {
        this.tap = tap;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "guided-backprop";
    }

    @Override
    public boolean signed() {
        return false;
    }

    @Override
    public boolean needsStages() {
        return true;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        float[] g = f.guidedGradient(input, n, tap == null ? f.spec().logitsTap() : tap, targets, seed);
        return Gradients.maxAbsOverChannels(g, n, f.spec());
    }
}
