package io.cnnlens.jobs.synthesis;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;
import io.cnnlens.synthesis.FeatureInversion;

import java.util.List;

/** The invert job's options: the keys and defaults side by side, checked in the constructor. */
public record InvertOptions(ImageInput input, String out, String model, List<String> layers, int sample, FeatureInversion inversion) {

    public static final OptionKey<List<String>> LAYERS = OptionKey.names("layers", null,
            "Taps to invert. Default: the spec's first conv tap, conv tap and features tap (those of them the model outputs)");
    public static final OptionKey<Integer> SAMPLE = SharedOptions.sample(4,
            "Images reconstructed, however many the input holds (the grid shows the first " + InvertJob.GRID_IMAGES + ")");
    public static final OptionKey<Integer> ITERATIONS = OptionKey.integer("iterations", 400, "Adam steps per image and layer.");
    public static final OptionKey<Double> LR = OptionKey.real("lr", 0.02, "Adam step on the 0..1 pixel scale.");
    public static final OptionKey<Double> TV = OptionKey.real("tv", 20, "Total-variation weight λ.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, LAYERS, SAMPLE, ITERATIONS, LR, TV));

    public InvertOptions {
        layers = layers == null ? List.of() : layers.stream().map(String::strip).toList();
        if (layers.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("--layers has an empty name");
        }
        if (sample < 0) {
            throw new IllegalArgumentException("--sample must be 0 (every image) or positive");
        }
        if (inversion.iterations() < 1) {
            throw new IllegalArgumentException("--iterations must be positive");
        }
        if (!(inversion.learningRate() > 0)) {
            throw new IllegalArgumentException("--lr must be positive");
        }
        if (!(inversion.tvWeight() >= 0)) {
            throw new IllegalArgumentException("--tv must be 0 or positive");
        }
    }

    public static InvertOptions of(OptionValues v) {
        return new InvertOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(LAYERS), v.get(SAMPLE),
                new FeatureInversion(v.get(ITERATIONS), v.get(LR), v.get(TV), FeatureInversion.defaults().seed()));
    }
}
