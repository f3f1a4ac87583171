package io.cnnlens.jobs.pictures;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The activations job's options: the keys and defaults side by side, checked in the constructor. */
public record ActivationsOptions(ImageInput input, String out, String model, String layer, int sample, String pathPattern) {

    public static final OptionKey<String> LAYER = OptionKey.text("layer", null,
            "Conv tap. Default: the spec's taps.first-conv, or the model's first (largest) conv map when it does not output that one");
    public static final OptionKey<Integer> SAMPLE = SharedOptions.sample(4,
            "Images drawn, one picture each, however many the input holds");
    public static final OptionKey<String> PATH_PATTERN = OptionKey.text("path-pattern", null,
            "Only images whose path matches this regular expression.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, LAYER, SAMPLE, PATH_PATTERN));

    public ActivationsOptions {
        if (layer != null && layer.isBlank()) {
            throw new IllegalArgumentException("--layer is empty");
        }
        if (sample < 0) {
            throw new IllegalArgumentException("--sample must be 0 (every image) or positive");
        }
        if (pathPattern != null) {
            try {
                Pattern.compile(pathPattern);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("--path-pattern is not a regular expression: " + e.getDescription());
            }
        }
    }

    public static ActivationsOptions of(OptionValues v) {
        return new ActivationsOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(LAYER), v.get(SAMPLE),
                v.get(PATH_PATTERN));
    }
}
