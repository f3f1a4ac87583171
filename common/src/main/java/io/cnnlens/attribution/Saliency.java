package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;

/**
 * A per-image saliency method: for a batch of preprocessed images (NCHW, the model's input) and a
 * target class per image, one H×W map per image. Implementations are immutable settings; the
 * model runs through the caller's {@link ModelForward} (one per thread). Maps are in the
 * model-input resolution; what a value means depends on the method (see each class).
 */
public interface Saliency {

    /** Short name used in tables and pictures, e.g. {@code gradient}, {@code occlusion}. */
    String name();

    /** Whether the map is signed (diverging colour scale) rather than a magnitude. */
    boolean signed();

    /**
     * Whether the method needs the network as an ordered list of stages ({@link
     * io.cnnlens.model.LoadedModel#hasStages()}: the built-in architectures, not TorchScript).
     */
    default boolean needsStages() {
        return false;
    }

    /**
     * @param input   n images, NCHW
     * @param targets one class index per image
     * @return n maps of H×W values, row-major
     */
    float[][] maps(ModelForward forward, float[] input, int n, int[] targets);
}
