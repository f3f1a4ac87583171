package io.cnnlens.jobs.training;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;

import java.util.List;

/** The sample job's options: the keys and defaults side by side, checked in the constructor. */
public record SampleOptions(String data, String out, String split, int perClass) {

    public static final OptionKey<String> DATA = TrainOptions.DATA;
    /** Required: the same key as every job's --out, without a default. */
    public static final OptionKey<String> OUT = OptionKey.text("out", null, "Output folder (required).");
    public static final OptionKey<String> SPLIT = OptionKey.text("split", "test", "test or train.");
    public static final OptionKey<Integer> PER_CLASS = OptionKey.integer("per-class", 200, "Images per class, in file order; 0 = all.");

    static final List<OptionKey<?>> KEYS = List.of(DATA, OUT, SPLIT, PER_CLASS);

    public SampleOptions {
        if (data == null || data.isBlank()) {
            throw new IllegalArgumentException("--data is empty");
        }
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException("--out is required: the folder the PNG files go to");
        }
        if (!split.equals("test") && !split.equals("train")) {
            throw new IllegalArgumentException("--split must be test or train");
        }
        if (perClass < 0) {
            throw new IllegalArgumentException("--per-class must be 0 (all) or positive");
        }
    }

    public static SampleOptions of(OptionValues v) {
        return new SampleOptions(v.get(DATA), v.get(OUT), v.get(SPLIT), v.get(PER_CLASS));
    }
}
