package io.cnnlens.jobs.adversarial;

import io.cnnlens.adversarial.DeepFool;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;
import java.util.Locale;

/** The uap job's options: the keys and defaults side by side, checked in the constructor. */
public record UapOptions(ImageInput input, String evalImages, String out, String model, DeepFool.Norm norm, double[] xis,
                         List<String> variants, double delta, int maxPasses, int fitSample, int evalSample, int sgdIterations,
                         int sgdBatch, double sgdLr, long seed, String transferModel) implements java.io.Serializable {

    public static final OptionKey<String> EVAL_IMAGES = OptionKey.text("eval-images", null,
            "Images to evaluate on (read as --images is). Default: the other half of --images, split by path hash");
    public static final OptionKey<String> NORM = OptionKey.text("norm", "inf", "inf or 2.");
    public static final OptionKey<double[]> XI = OptionKey.reals("xi", new double[] {40, 60}, "Bound(s) ξ in 0..255 pixel units.");
    public static final OptionKey<List<String>> VARIANTS = OptionKey.names("variants", List.of("paper", "spark"),
            "paper, spark or both.");
    public static final OptionKey<Double> DELTA = OptionKey.real("delta", 0.2, "Paper: stop at fooling rate 1 − δ on the fit images.");
    public static final OptionKey<Integer> MAX_PASSES = OptionKey.integer("max-passes", 5, "Paper: passes over the fit images.");
    public static final OptionKey<Integer> FIT_SAMPLE = OptionKey.integer("fit-sample", 10000,
            "Most images to fit on (a fixed sample by path hash); 0 = all.");
    public static final OptionKey<Integer> EVAL_SAMPLE = OptionKey.integer("eval-sample", 0,
            "Most images to evaluate on (a fixed sample by path hash); 0 = all.");
    public static final OptionKey<Integer> SGD_ITERATIONS = OptionKey.integer("sgd-iterations", 40, "Spark variant: steps.");
    public static final OptionKey<Integer> SGD_BATCH = OptionKey.integer("sgd-batch", 1000, "Spark variant: images per step (a seeded sample).");
    public static final OptionKey<Double> SGD_LR = OptionKey.real("sgd-lr", 0, "Spark variant: step length; 0 = ξ/10 (L∞) or ξ/5 (L2).");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "DeepFool's image order, the Spark variant's samples, the random noise");
    public static final OptionKey<String> TRANSFER_MODEL = OptionKey.text("transfer-model", null,
            "A second model spec to apply each v to.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, EVAL_IMAGES, NORM, XI, VARIANTS, DELTA, MAX_PASSES,
                    FIT_SAMPLE, EVAL_SAMPLE, SGD_ITERATIONS, SGD_BATCH, SGD_LR, SEED, TRANSFER_MODEL));

    public UapOptions {
        if (evalImages != null && evalImages.isBlank()) {
            evalImages = null;
        }
        if (transferModel != null && transferModel.isBlank()) {
            transferModel = null;
        }
        if (xis == null || xis.length == 0) {
            throw new IllegalArgumentException("give at least one --xi");
        }
        for (double xi : xis) {
            if (!(xi > 0) || Double.isInfinite(xi)) {
                throw new IllegalArgumentException("--xi must be positive, not " + xi);
            }
        }
        if (variants == null || variants.isEmpty()) {
            throw new IllegalArgumentException("--variants is empty: paper, spark or both");
        }
        variants = variants.stream().map(String::strip).toList();
        for (String v : variants) {
            if (!v.equals("paper") && !v.equals("spark")) {
                throw new IllegalArgumentException("unknown variant '" + v + "': paper or spark");
            }
        }
        if (!(delta >= 0 && delta <= 1)) {
            throw new IllegalArgumentException("--delta must be between 0 and 1");
        }
        if (maxPasses < 1) {
            throw new IllegalArgumentException("--max-passes must be positive");
        }
        if (fitSample < 0) {
            throw new IllegalArgumentException("--fit-sample must be 0 (all) or positive");
        }
        if (evalSample < 0) {
            throw new IllegalArgumentException("--eval-sample must be 0 (all) or positive");
        }
        if (sgdIterations < 1) {
            throw new IllegalArgumentException("--sgd-iterations must be positive");
        }
        if (sgdBatch < 1) {
            throw new IllegalArgumentException("--sgd-batch must be positive");
        }
        if (!(sgdLr >= 0)) {
            throw new IllegalArgumentException("--sgd-lr must be 0 (automatic) or positive");
        }
    }

    /** {@code --norm}: inf (or linf), 2 (or l2). */
    public static DeepFool.Norm norm(String s) {
        return switch (s == null ? "" : s.strip().toLowerCase(Locale.ROOT)) {
            case "inf", "linf" -> DeepFool.Norm.LINF;
            case "2", "l2" -> DeepFool.Norm.L2;
            default -> throw new IllegalArgumentException("--norm must be inf or 2, not '" + s + "'");
        };
    }

    public static UapOptions of(OptionValues v) {
        return new UapOptions(ImageInput.of(v), v.get(EVAL_IMAGES), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL),
                norm(v.get(NORM)), v.get(XI), v.get(VARIANTS), v.get(DELTA), v.get(MAX_PASSES), v.get(FIT_SAMPLE), v.get(EVAL_SAMPLE),
                v.get(SGD_ITERATIONS), v.get(SGD_BATCH), v.get(SGD_LR), v.get(SEED), v.get(TRANSFER_MODEL));
    }

    /** The norm's name in tables and file names: linf or l2. */
    public String normName() {
        return norm == DeepFool.Norm.LINF ? "linf" : "l2";
    }
}
