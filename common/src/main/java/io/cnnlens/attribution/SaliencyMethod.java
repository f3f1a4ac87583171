package io.cnnlens.attribution;

import java.util.Optional;
import java.util.function.Function;

/**
 * One registered saliency method ({@link SaliencyMethods#REGISTRY}): the name it is asked for by
 * (e.g. in {@code --methods}) and the factory that makes it from the settings.
 */
public record SaliencyMethod(String name, Function<SaliencySettings, Saliency> factory) {

    public SaliencyMethod {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(factory, "factory");
    }

    /** The method with {@code settings}. */
    public Saliency create(SaliencySettings settings) {
        return factory.apply(settings);
    }

    /** Whether the method needs the network as ordered stages ({@link Saliency#needsStages()}). */
    public boolean needsStages() {
        return create(SaliencySettings.defaults()).needsStages();
    }

    /**
     * Why a model cannot run this method, or empty when it can.
     *
     * @param hasStages whether the model exposes its stages ({@link io.cnnlens.model.LoadedModel#hasStages()})
     */
    public Optional<String> unsupportedReason(boolean hasStages) {
        if (needsStages() && !hasStages) {
            return Optional.of(name + " needs the network as an ordered list of stages (the built-in architectures);"
                    + " the model does not expose them (TorchScript)");
        }
        return Optional.empty();
    }
}
