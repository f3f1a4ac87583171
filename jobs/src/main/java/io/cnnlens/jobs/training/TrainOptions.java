package io.cnnlens.jobs.training;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/** The train job's options: the keys and defaults side by side, checked in the constructor. */
public record TrainOptions(String data, String out, int epochs, int batchSize, float learningRate, int seed, int threads) {

    public static final OptionKey<String> DATA = OptionKey.text("data", "/usr/share/datasets/fashion-mnist",
            "Folder with Fashion-MNIST's IDX .gz files (Debian: dataset-fashion-mnist).");
    public static final OptionKey<String> OUT = OptionKey.text("out", System.getProperty("cnnlens.home", ".") + "/conf/models/fashion-alexnet",
            "Where the weights go (the bundled model's folder).");
    public static final OptionKey<Integer> EPOCHS = OptionKey.integer("epochs", 12, "Passes over the 60,000 training images.");
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", 128, "Images per training step.");
    public static final OptionKey<Double> LR = OptionKey.real("lr", 0.002, "Adam's base learning rate (cosine decay).");
    public static final OptionKey<Long> SEED = SharedOptions.seed(42, "weight initialisation and shuffling");
    public static final OptionKey<Integer> THREADS = OptionKey.integer("threads", 0, "Intra-op threads; 0 = all cores.");

    static final List<OptionKey<?>> KEYS = List.of(DATA, OUT, EPOCHS, BATCH_SIZE, LR, SEED, THREADS);

    public TrainOptions {
        if (data == null || data.isBlank()) {
            throw new IllegalArgumentException("--data is empty");
        }
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException("--out is empty");
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be positive");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be positive");
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("--lr must be positive");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be 0 (all cores) or positive");
        }
    }

    public static TrainOptions of(OptionValues v) {
        long seed = v.get(SEED);
        if (seed < Integer.MIN_VALUE || seed > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--seed must fit in 32 bits");
        }
        return new TrainOptions(v.get(DATA), v.get(OUT), v.get(EPOCHS), v.get(BATCH_SIZE), v.get(LR).floatValue(), (int) seed, v.get(THREADS));
    }
}
