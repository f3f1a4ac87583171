package io.cnnlens.attribution;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The saliency methods' settings, in one place for the job and the checks; the methods themselves
 * are registered by name in {@link SaliencyMethods}. Defaults: SmoothGrad 25 samples at noise
 * 0.15; integrated gradients 32 steps; occlusion a quarter of the shorter side, stride half of
 * that, filled with the dataset mean; Shapley 4×4 cells, 16 permutations.
 */
public record SaliencySettings(int smoothgradSamples, double smoothgradNoise, int igSteps, int occlusionSize,
                               int occlusionStride, float[] occlusionFill, int shapleyGrid, int shapleyPermutations,
                               long seed, int batch) implements Serializable {

    /** The registered method names ({@link SaliencyMethods#names()}). */
    public static final List<String> NAMES = SaliencyMethods.names();

    public static SaliencySettings defaults() {
        return new SaliencySettings(25, 0.15, 32, 0, 0, null, 4, 16, 1, 64);
    }

    /** The methods named (in that order); an unknown name is an error listing the known ones. */
    public List<Saliency> create(List<String> names) {
        List<Saliency> out = new ArrayList<>();
        for (String raw : names) {
            SaliencyMethod m = SaliencyMethods.byName(raw).orElseThrow(
                    () -> new IllegalArgumentException("unknown saliency method '" + raw + "'; known: " + NAMES));
            out.add(m.create(this));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no saliency method given; known: " + NAMES);
        }
        return out;
    }

    /**
     * The registered method names a model can run, in registry order; why one cannot:
     * {@link SaliencyMethod#unsupportedReason}.
     *
     * @param hasStages whether the model exposes its stages ({@link io.cnnlens.model.LoadedModel#hasStages()})
     */
    public static List<String> supported(boolean hasStages) {
        return SaliencyMethods.REGISTRY.stream().filter(m -> m.unsupportedReason(hasStages).isEmpty()).map(SaliencyMethod::name).toList();
    }
}
