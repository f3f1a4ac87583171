package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

/**
 * Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman 2014): the gradient of the
 * unnormalised class score (the logit) with respect to the input, absolute value, maximum over
 * colour channels. Gradients are taken with respect to the model's normalised input. One
 * forward and one backward pass per batch; memory: the batch's activations.
 */
public final class VanillaGradient implements Saliency {

    @Override
    public String name() {
        return "gradient";
    }

    @Override
    public boolean signed() {
        return false;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        float[] g = f.inputGradient(input, n, f.spec().logitsTap(), targets);
        return Gradients.maxAbsOverChannels(g, n, f.spec());
    }
}
