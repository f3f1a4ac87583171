package io.cnnlens.jobs.adversarial;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;

/** The fool job's options: the keys and defaults side by side, checked in the constructor. */
public record FoolOptions(ImageInput input, String out, String model, List<String> methods, String target, double step,
                          int maxSteps, double epsilon, double alpha, int pgdSteps, long seed, int sample, int batchSize,
                          int pictureImages, int partitions) implements java.io.Serializable {

    public static final OptionKey<List<String>> METHODS = OptionKey.names("methods", FoolJob.METHODS,
            "Attacks, comma-separated: fool, pgd, pgd-targeted.");
    public static final OptionKey<String> TARGET = OptionKey.text("target", "least-likely",
            "least-likely, or a class (name or index), or a comma-separated list.");
    public static final OptionKey<Double> STEP = OptionKey.real("step", 20, "Fooling images: L2 length of each step, pixel units.");
    public static final OptionKey<Integer> MAX_STEPS = OptionKey.integer("max-steps", 100, "Fooling images: step limit.");
    public static final OptionKey<Double> EPSILON = OptionKey.real("epsilon", 16, "PGD: L∞ bound, pixel units.");
    public static final OptionKey<Double> ALPHA = OptionKey.real("alpha", 0, "PGD: step size; 0 = ε/4.");
    public static final OptionKey<Integer> PGD_STEPS = OptionKey.integer("pgd-steps", 20, "PGD iterations.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "PGD's random start");
    public static final OptionKey<Integer> SAMPLE = SharedOptions.sample(64, "Images to attack");
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", 32, "Images per batch.");
    public static final OptionKey<Integer> PICTURE_IMAGES = OptionKey.integer("picture-images", 4, "Images in the picture.");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Spark partitions; 0 = one per core, more for many images (at most 512 a task) or many bytes.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, METHODS, TARGET, STEP, MAX_STEPS, EPSILON, ALPHA,
                    PGD_STEPS, SEED, SAMPLE, BATCH_SIZE, PICTURE_IMAGES, PARTITIONS));

    public FoolOptions {
        if (methods == null || methods.isEmpty()) {
            throw new IllegalArgumentException("--methods is empty; known: " + FoolJob.METHODS);
        }
        methods = methods.stream().map(String::strip).toList();
        for (String m : methods) {
            if (!FoolJob.METHODS.contains(m)) {
                throw new IllegalArgumentException("unknown attack '" + m + "'; known: " + FoolJob.METHODS);
            }
        }
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("--target is empty: use least-likely, a class (name or index) or a comma-separated list");
        }
        target = target.strip();
        if (!(step > 0)) {
            throw new IllegalArgumentException("--step must be positive");
        }
        if (maxSteps < 1) {
            throw new IllegalArgumentException("--max-steps must be positive");
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("--epsilon must be positive");
        }
        if (!(alpha >= 0)) {
            throw new IllegalArgumentException("--alpha must be 0 (ε/4) or positive");
        }
        if (pgdSteps < 1) {
            throw new IllegalArgumentException("--pgd-steps must be positive");
        }
        if (sample < 0) {
            throw new IllegalArgumentException("--sample must be 0 (all) or positive");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be positive");
        }
        if (pictureImages < 0) {
            throw new IllegalArgumentException("--picture-images must be 0 or more");
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 (automatic) or positive");
        }
    }

    public static FoolOptions of(OptionValues v) {
        return new FoolOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(METHODS), v.get(TARGET),
                v.get(STEP), v.get(MAX_STEPS), v.get(EPSILON), v.get(ALPHA), v.get(PGD_STEPS), v.get(SEED), v.get(SAMPLE),
                v.get(BATCH_SIZE), v.get(PICTURE_IMAGES), v.get(PARTITIONS));
    }
}
