package io.cnnlens.jobs.pictures;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/** The filters job's options: the keys and defaults side by side, checked in the constructor. */
public record FiltersOptions(String out, String model, String layer, int maxFilters, int maxInputs) {

    public static final OptionKey<String> LAYER = OptionKey.text("layer", null,
            "A higher conv layer (stage or parameter name) to draw per input channel. Default: the first conv layer");
    public static final OptionKey<Integer> MAX_FILTERS = OptionKey.integer("max-filters", 32, "Higher layers: filters (rows) drawn.");
    public static final OptionKey<Integer> MAX_INPUTS = OptionKey.integer("max-inputs", 32,
            "Higher layers: input channels (columns) drawn.");

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.OUT, SharedOptions.MODEL, LAYER, MAX_FILTERS, MAX_INPUTS);

    public FiltersOptions {
        if (layer != null && layer.isBlank()) {
            throw new IllegalArgumentException("--layer is empty");
        }
        if (maxFilters < 1) {
            throw new IllegalArgumentException("--max-filters must be positive");
        }
        if (maxInputs < 1) {
            throw new IllegalArgumentException("--max-inputs must be positive");
        }
    }

    public static FiltersOptions of(OptionValues v) {
        return new FiltersOptions(v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(LAYER), v.get(MAX_FILTERS),
                v.get(MAX_INPUTS));
    }
}
