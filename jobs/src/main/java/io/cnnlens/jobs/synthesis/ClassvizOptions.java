package io.cnnlens.jobs.synthesis;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.synthesis.ClassVisualisation;

import java.util.List;

/** The classviz job's options: the keys and defaults side by side, checked in the constructor. */
public record ClassvizOptions(String out, String model, List<String> targets, String tap, ClassVisualisation visualisation) {

    public static final OptionKey<List<String>> TARGETS = OptionKey.names("targets", null,
            "Classes (names or indices), or channels with --tap. Default: every class");
    public static final OptionKey<String> TAP = OptionKey.text("tap", null,
            "A conv tap: visualise its channels (--targets) instead of classes.");
    public static final OptionKey<Integer> ITERATIONS = OptionKey.integer("iterations", 1000, "Gradient-ascent steps per target.");
    public static final OptionKey<Double> LR = OptionKey.real("lr", 100,
            "Learning rate (on the gradient w.r.t. the network input, applied to 0..255 pixels).");
    public static final OptionKey<Double> DECAY = OptionKey.real("decay", 1e-4, "L2 decay.");
    public static final OptionKey<Integer> BLUR_EVERY = OptionKey.integer("blur-every", 4, "Blur every k steps (0 = never).");
    public static final OptionKey<Double> BLUR_RADIUS = OptionKey.real("blur-radius", 1.0, "Gaussian σ in pixels.");
    public static final OptionKey<Double> NORM_PERCENTILE = OptionKey.real("norm-percentile", 0,
            "Zero pixels whose norm is below this percentile.");
    public static final OptionKey<Double> CONTRIBUTION_PERCENTILE = OptionKey.real("contribution-percentile", 0,
            "Zero pixels whose |x·grad| is below this percentile.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "the start noise");

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, TARGETS, TAP, ITERATIONS,
            LR, DECAY, BLUR_EVERY, BLUR_RADIUS, NORM_PERCENTILE, CONTRIBUTION_PERCENTILE, SEED);

    public ClassvizOptions {
        targets = targets == null ? List.of() : List.copyOf(targets);
        if (tap != null && tap.isBlank()) {
            throw new IllegalArgumentException("--tap is empty");
        }
        ClassVisualisation v = visualisation;
        if (v.iterations() < 1) {
            throw new IllegalArgumentException("--iterations must be positive");
        }
        if (!(v.learningRate() > 0)) {
            throw new IllegalArgumentException("--lr must be positive");
        }
        if (!(v.decay() >= 0)) {
            throw new IllegalArgumentException("--decay must be 0 or positive");
        }
        if (v.blurEvery() < 0) {
            throw new IllegalArgumentException("--blur-every must be 0 (never) or positive");
        }
        if (!(v.blurRadius() >= 0)) {
            throw new IllegalArgumentException("--blur-radius must be 0 or positive");
        }
        if (!(v.normPercentile() >= 0 && v.normPercentile() < 100)) {
            throw new IllegalArgumentException("--norm-percentile must be in 0..100");
        }
        if (!(v.contributionPercentile() >= 0 && v.contributionPercentile() < 100)) {
            throw new IllegalArgumentException("--contribution-percentile must be in 0..100");
        }
    }

    public static ClassvizOptions of(OptionValues v) {
        return new ClassvizOptions(v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(TARGETS), v.get(TAP),
                new ClassVisualisation(v.get(ITERATIONS), v.get(LR), v.get(DECAY), v.get(BLUR_EVERY), v.get(BLUR_RADIUS),
                        v.get(NORM_PERCENTILE), v.get(CONTRIBUTION_PERCENTILE), v.get(SEED)));
    }
}
