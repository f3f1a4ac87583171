package io.cnnlens.attribution;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The saliency methods by name and their settings, in one place for the job and the checks.
 * Defaults: SmoothGrad 25 samples at noise 0.15; integrated gradients 32 steps; occlusion a
 * quarter of the shorter side, stride half of that, filled with the dataset mean; Shapley 4×4
 * cells, 16 permutations.
 */
public record SaliencySettings(int smoothgradSamples, double smoothgradNoise, int igSteps, int occlusionSize,
                               int occlusionStride, float[] occlusionFill, int shapleyGrid, int shapleyPermutations,
                               long seed, int batch) implements Serializable {

    public static final List<String> NAMES = List.of("gradient", "guided-backprop", "smoothgrad", "integrated-gradients",
            "occlusion", "shapley");

    public static SaliencySettings defaults() {
        return new SaliencySettings(25, 0.15, 32, 0, 0, null, 4, 16, 1, 64);
    }

    /** The methods named (in that order); an unknown name is an error listing the known ones. */
    public List<Saliency> create(List<String> names) {
        List<Saliency> out = new ArrayList<>();
        for (String raw : names) {
            String n = raw.strip().toLowerCase(Locale.ROOT);
            out.add(switch (n) {
                case "gradient" -> new VanillaGradient();
                case "guided-backprop" -> new GuidedBackprop();
                case "smoothgrad" -> new SmoothGrad(smoothgradSamples, smoothgradNoise, seed);
                case "integrated-gradients" -> new IntegratedGradients(igSteps);
                case "occlusion" -> new Occlusion(occlusionSize, occlusionStride, occlusionFill, batch);
                case "shapley" -> new ShapleySampling(shapleyGrid, shapleyPermutations, seed, batch);
                default -> throw new IllegalArgumentException("unknown saliency method '" + raw + "'; known: " + NAMES);
            });
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no saliency method given; known: " + NAMES);
        }
        return out;
    }
}
