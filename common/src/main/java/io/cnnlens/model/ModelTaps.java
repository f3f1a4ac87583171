package io.cnnlens.model;


import java.util.Arrays;
import java.util.Optional;

/** What a job says when a model lacks a tap it was asked for: the reasons name the taps the model does output. */
public final class ModelTaps {

    private ModelTaps() {
    }

    /**
     * The model's shallowest conv map: the conv tap with the largest H×W (ties by name), since a
     * TorchScript model's outputs come in no particular order; empty when it outputs none.
     */
    public static Optional<String> firstConv(LoadedModel m) {
        return m.convTaps().stream().min(java.util.Comparator.<String>comparingInt(t -> -m.taps().get(t)[1] * m.taps().get(t)[2])
                .thenComparing(t -> t));
    }

    /** {@code model X has no output 'tap'; it has [conv3, fc7, logits]}. */
    public static String missing(LoadedModel m, String tap) {
        return "model " + m.spec().name() + " has no output '" + tap + "'; it has " + m.taps().keySet();
    }

    /** Why {@code tap} cannot serve as a conv layer of {@code m} (absent, or not a C×H×W map), or empty when it can. */
    public static Optional<String> notConv(LoadedModel m, String tap) {
        int[] shape = m.taps().get(tap);
        if (shape == null) {
            return Optional.of(missing(m, tap));
        }
        if (shape.length != 3) {
            return Optional.of("layer " + tap + " is not a conv layer (shape per image " + Arrays.toString(shape) + ")");
        }
        return Optional.empty();
    }
}
