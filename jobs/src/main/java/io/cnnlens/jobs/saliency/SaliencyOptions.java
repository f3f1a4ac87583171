package io.cnnlens.jobs.saliency;

import io.cnnlens.attribution.SaliencySettings;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The saliency job's options: the keys and defaults side by side, checked in the constructor. */
public record SaliencyOptions(ImageInput input, String out, String model, List<String> methods, String target,
                              SaliencySettings saliency, int sample, String pathPattern, int batchSize, int pictureImages,
                              int partitions) implements java.io.Serializable {

    public static final OptionKey<List<String>> METHODS = OptionKey.names("methods", SaliencySettings.NAMES,
            "Methods, comma-separated; those the model cannot run are left out, with the reason.");
    public static final OptionKey<String> TARGET = OptionKey.text("target", "predicted",
            "predicted, label, a class index or a class name.");
    public static final OptionKey<Integer> SAMPLE = SharedOptions.sample(64, "Images to explain");
    public static final OptionKey<String> PATH_PATTERN = OptionKey.text("path-pattern", null,
            "Only images whose path matches this regular expression.");
    public static final OptionKey<Integer> SMOOTHGRAD_SAMPLES = OptionKey.integer("smoothgrad-samples", 25,
            "SmoothGrad: noisy copies per image.");
    public static final OptionKey<Double> SMOOTHGRAD_NOISE = OptionKey.real("smoothgrad-noise", 0.15,
            "SmoothGrad: noise σ as a fraction of the input range.");
    public static final OptionKey<Integer> IG_STEPS = OptionKey.integer("ig-steps", 32, "Integrated gradients steps.");
    public static final OptionKey<Integer> OCCLUSION_SIZE = OptionKey.integer("occlusion-size", 0,
            "Occluding square, pixels of the model input; 0 = a quarter of the side.");
    public static final OptionKey<Integer> OCCLUSION_STRIDE = OptionKey.integer("occlusion-stride", 0,
            "Occlusion stride; 0 = half the square.");
    public static final OptionKey<float[]> OCCLUSION_FILL = OptionKey.floats("occlusion-fill", null,
            "Occlusion fill on the 0..255 scale (one value or one per channel). Default: the dataset mean");
    public static final OptionKey<Integer> SHAPLEY_GRID = OptionKey.integer("shapley-grid", 4, "Shapley players: grid×grid cells.");
    public static final OptionKey<Integer> SHAPLEY_PERMUTATIONS = OptionKey.integer("shapley-permutations", 16,
            "Shapley: sampled player orders.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "SmoothGrad noise, Shapley orders");
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", 16, "Images per batch.");
    public static final OptionKey<Integer> PICTURE_IMAGES = OptionKey.integer("picture-images", 8,
            "Images (rows) in the picture grid.");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Spark partitions; 0 = one per core, more for many images (at most 512 a task) or many bytes.");

    /** Occlusion and Shapley: perturbed copies per forward pass (not an option). */
    static final int PERTURBATION_BATCH = 64;

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, METHODS, TARGET, SAMPLE, PATH_PATTERN,
                    SMOOTHGRAD_SAMPLES, SMOOTHGRAD_NOISE, IG_STEPS, OCCLUSION_SIZE, OCCLUSION_STRIDE, OCCLUSION_FILL, SHAPLEY_GRID,
                    SHAPLEY_PERMUTATIONS, SEED, BATCH_SIZE, PICTURE_IMAGES, PARTITIONS));

    public SaliencyOptions {
        if (methods == null || methods.isEmpty()) {
            throw new IllegalArgumentException("--methods is empty; known: " + SaliencySettings.NAMES);
        }
        methods = methods.stream().map(String::strip).toList();
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("--target is empty: use predicted, label, a class index or a class name");
        }
        target = target.strip();
        if (sample < 0) {
            throw new IllegalArgumentException("--sample must be 0 (all) or positive");
        }
        if (pathPattern != null && !pathPattern.isBlank()) {
            try {
                Pattern.compile(pathPattern);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("--path-pattern is not a regular expression: " + e.getDescription());
            }
        }
        if (saliency.smoothgradSamples() < 1) {
            throw new IllegalArgumentException("--smoothgrad-samples must be positive");
        }
        if (!(saliency.smoothgradNoise() >= 0)) {
            throw new IllegalArgumentException("--smoothgrad-noise must be 0 or more");
        }
        if (saliency.igSteps() < 1) {
            throw new IllegalArgumentException("--ig-steps must be positive");
        }
        if (saliency.occlusionSize() < 0) {
            throw new IllegalArgumentException("--occlusion-size must be 0 (automatic) or positive");
        }
        if (saliency.occlusionStride() < 0) {
            throw new IllegalArgumentException("--occlusion-stride must be 0 (automatic) or positive");
        }
        if (saliency.occlusionFill() != null && saliency.occlusionFill().length == 0) {
            throw new IllegalArgumentException("--occlusion-fill is empty");
        }
        if (saliency.shapleyGrid() < 1) {
            throw new IllegalArgumentException("--shapley-grid must be positive");
        }
        if (saliency.shapleyPermutations() < 1) {
            throw new IllegalArgumentException("--shapley-permutations must be positive");
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
        saliency.create(methods); // an unknown method is an error here, listing the known ones
    }

    public static SaliencyOptions of(OptionValues v) {
        SaliencySettings s = new SaliencySettings(v.get(SMOOTHGRAD_SAMPLES), v.get(SMOOTHGRAD_NOISE), v.get(IG_STEPS),
                v.get(OCCLUSION_SIZE), v.get(OCCLUSION_STRIDE), v.get(OCCLUSION_FILL), v.get(SHAPLEY_GRID),
                v.get(SHAPLEY_PERMUTATIONS), v.get(SEED), PERTURBATION_BATCH);
        return new SaliencyOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(METHODS),
                v.get(TARGET), s, v.get(SAMPLE), v.get(PATH_PATTERN), v.get(BATCH_SIZE), v.get(PICTURE_IMAGES), v.get(PARTITIONS));
    }
}
