package io.cnnlens.jobs.tune;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;
import java.util.Locale;

/** The tune job's options: the keys and defaults side by side, checked in the constructor. */
public record TuneOptions(String data, String out, List<String> steps, String space, String mode, int trials, int gridPoints,
                          int trainSize, int valSize, int minEpochs, int maxEpochs, int eta, int refineTop, double refineMargin,
                          int finalEpochs, long seed, int threads, int overfitImages, int overfitIterations, int rangeSteps,
                          int finalTrainSize)
        implements java.io.Serializable {

    public static final List<String> STEPS = List.of("check", "search", "final");

    public static final OptionKey<String> DATA = OptionKey.text("data", "/usr/share/datasets/fashion-mnist",
            "Fashion-MNIST's IDX folder (Debian: dataset-fashion-mnist), or a folder of class folders (or one with train/ and test/ "
                    + "folders of class folders); images are turned grey and stretched to 28x28.");
    public static final OptionKey<List<String>> STEPS_KEY = OptionKey.names("steps", STEPS,
            "Which steps: check (the checklist), search (coarse, then refined), final (the chosen recipe trained, tested once, saved).");
    public static final OptionKey<String> SPACE = OptionKey.text("space", System.getProperty("cnnlens.home", ".") + "/conf/tune/space.txt",
            "Search-space file (name = loguniform|uniform LOW HIGH, choice A B ..., or a fixed value; docs/tuning.md).");
    public static final OptionKey<String> MODE = OptionKey.text("mode", "random", "random (seeded, per-hyperparameter draws) or grid (cartesian).");
    public static final OptionKey<Integer> TRIALS = OptionKey.integer("trials", 9, "Random search: trials of the coarse round (and of the refined one).");
    public static final OptionKey<Integer> GRID_POINTS = OptionKey.integer("grid-points", 3, "Grid search: values per continuous axis.");
    public static final OptionKey<Integer> TRAIN_SIZE = OptionKey.integer("train-size", 10_000,
            "Training images per trial (a stratified sample of the training split); 0 = all.");
    public static final OptionKey<Integer> VAL_SIZE = OptionKey.integer("val-size", 5_000,
            "Validation images held out of the training data (every choice is made on them).");
    public static final OptionKey<Integer> MIN_EPOCHS = OptionKey.integer("min-epochs", 1, "Successive halving: epochs of the first rung.");
    public static final OptionKey<Integer> MAX_EPOCHS = OptionKey.integer("max-epochs", 3, "Successive halving: epochs of the last rung (coarse round).");
    public static final OptionKey<Integer> ETA = OptionKey.integer("eta", 3, "Successive halving: keep the best 1/eta at each rung, eta times the epochs.");
    public static final OptionKey<Integer> REFINE_TOP = OptionKey.integer("refine-top", 3,
            "Refine round: ranges narrowed around this many best coarse trials, trained twice as long; 0 = no refine round.");
    public static final OptionKey<Double> REFINE_MARGIN = OptionKey.real("refine-margin", 2.0,
            "Refine round: the best trials' span widened by this factor (log axes) or fraction of the range (uniform ones).");
    public static final OptionKey<Integer> FINAL_EPOCHS = OptionKey.integer("final-epochs", 0,
            "Final training of the chosen recipe; 0 = the chosen trial's epochs.");
    public static final OptionKey<Integer> FINAL_TRAIN_SIZE = OptionKey.integer("final-train-size", 0,
            "Training images of the final training (a stratified sample of the training split, never the validation images); "
                    + "0 = all of them (the lecture's 'train longer' on the whole training set).");
    public static final OptionKey<Long> SEED = SharedOptions.seed(42, "splits, sampling, initialisation and shuffling");
    public static final OptionKey<Integer> THREADS = OptionKey.integer("threads", 0,
            "Intra-op threads per trial; 0 = the task's CPU share (spark.task.cpus).");
    public static final OptionKey<Integer> OVERFIT_IMAGES = OptionKey.integer("overfit-images", 50,
            "Checklist: images of the overfit sample (5 minibatches at the recipe's batch size, at most).");
    public static final OptionKey<Integer> OVERFIT_ITERATIONS = OptionKey.integer("overfit-iterations", 300,
            "Checklist: iterations the overfit step may take to reach 100 % training accuracy.");
    public static final OptionKey<Integer> RANGE_STEPS = OptionKey.integer("range-steps", 100, "Checklist: steps of the LR range test (1e-8 to 1).");

    static final List<OptionKey<?>> KEYS = List.of(DATA, SharedOptions.OUT, STEPS_KEY, SPACE, MODE, TRIALS, GRID_POINTS, TRAIN_SIZE,
            VAL_SIZE, MIN_EPOCHS, MAX_EPOCHS, ETA, REFINE_TOP, REFINE_MARGIN, FINAL_EPOCHS, FINAL_TRAIN_SIZE, SEED, THREADS, OVERFIT_IMAGES,
            OVERFIT_ITERATIONS, RANGE_STEPS, SharedOptions.MASTER);

    public TuneOptions {
        if (data == null || data.isBlank()) {
            throw new IllegalArgumentException("--data is empty");
        }
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException("--out is empty");
        }
        steps = List.copyOf(steps);
        for (String s : steps) {
            if (!STEPS.contains(s)) {
                throw new IllegalArgumentException("--steps: unknown step '" + s + "'; steps: " + STEPS);
            }
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("--steps is empty");
        }
        mode = mode.toLowerCase(Locale.ROOT);
        if (!mode.equals("random") && !mode.equals("grid")) {
            throw new IllegalArgumentException("--mode must be random or grid, not " + mode);
        }
        if (trials < 1 || gridPoints < 1) {
            throw new IllegalArgumentException("--trials and --grid-points must be positive");
        }
        if (trainSize < 0 || finalTrainSize < 0 || valSize < 1) {
            throw new IllegalArgumentException("--train-size and --final-train-size must be >= 0 and --val-size positive");
        }
        if (minEpochs < 1 || maxEpochs < minEpochs || eta < 2) {
            throw new IllegalArgumentException("need 1 <= --min-epochs <= --max-epochs and --eta >= 2");
        }
        if (refineTop < 0 || !(refineMargin >= 1)) {
            throw new IllegalArgumentException("--refine-top must be >= 0 and --refine-margin >= 1");
        }
        if (finalEpochs < 0 || threads < 0 || overfitImages < 2 || overfitIterations < 1 || rangeSteps < 10) {
            throw new IllegalArgumentException("--final-epochs, --threads >= 0; --overfit-images >= 2; --overfit-iterations >= 1; "
                    + "--range-steps >= 10");
        }
    }

    public static TuneOptions of(OptionValues v) {
        return new TuneOptions(v.get(DATA), v.get(SharedOptions.OUT), v.get(STEPS_KEY), v.get(SPACE), v.get(MODE), v.get(TRIALS),
                v.get(GRID_POINTS), v.get(TRAIN_SIZE), v.get(VAL_SIZE), v.get(MIN_EPOCHS), v.get(MAX_EPOCHS), v.get(ETA),
                v.get(REFINE_TOP), v.get(REFINE_MARGIN), v.get(FINAL_EPOCHS), v.get(SEED), v.get(THREADS), v.get(OVERFIT_IMAGES),
                v.get(OVERFIT_ITERATIONS), v.get(RANGE_STEPS), v.get(FINAL_TRAIN_SIZE));
    }

    /** These options as the final training reads its data: --final-train-size training images, the same validation split. */
    TuneOptions forFinal() {
        return new TuneOptions(data, out, steps, space, mode, trials, gridPoints, finalTrainSize, valSize, minEpochs, maxEpochs, eta,
                refineTop, refineMargin, finalEpochs, seed, threads, overfitImages, overfitIterations, rangeSteps, finalTrainSize);
    }

    public boolean has(String step) {
        return steps.contains(step);
    }
}
