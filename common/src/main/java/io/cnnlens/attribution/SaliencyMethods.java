package io.cnnlens.attribution;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The registry of saliency methods: each registered once, by name, with its factory from
 * {@link SaliencySettings}; the order is that of {@link SaliencySettings#NAMES}. Design notes:
 * {@code docs/methods.md}.
 */
public final class SaliencyMethods {

    /** Every method, in the order of tables and pictures. */
    public static final List<SaliencyMethod> REGISTRY = List.of(
            new SaliencyMethod("gradient", s -> new VanillaGradient()),
            new SaliencyMethod("guided-backprop", s -> new GuidedBackprop()),
            new SaliencyMethod("smoothgrad", s -> new SmoothGrad(new VanillaGradient(), s.smoothgradSamples(), s.smoothgradNoise(), s.seed())),
            new SaliencyMethod("integrated-gradients", s -> new IntegratedGradients(s.igSteps())),
            new SaliencyMethod("occlusion", s -> new Occlusion(s.occlusionSize(), s.occlusionStride(), s.occlusionFill(), s.batch())),
            new SaliencyMethod("shapley", s -> new ShapleySampling(s.shapleyGrid(), s.shapleyPermutations(), s.seed(), s.batch())));

    private SaliencyMethods() {
    }

    /** The registered names, in registry order. */
    public static List<String> names() {
        return REGISTRY.stream().map(SaliencyMethod::name).toList();
    }

    /** The method registered as {@code name} (surrounding blanks and case ignored). */
    public static Optional<SaliencyMethod> byName(String name) {
        String key = name.strip().toLowerCase(Locale.ROOT);
        return REGISTRY.stream().filter(m -> m.name().equals(key)).findFirst();
    }
}
