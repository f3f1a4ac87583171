package io.cnnlens.jobs.features;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;

/** The features job's options: the keys and defaults side by side, checked in the constructor. */
public record FeaturesOptions(ImageInput input, String out, String model, String convLayer, int batchSize, int partitions,
                              boolean incremental) {

    public static final OptionKey<String> CONV_LAYER = OptionKey.text("conv-layer", null,
            "Conv tap whose per-channel spatial max is kept. Default: the spec's taps.conv");
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", 0,
            "Images per forward pass; 0 = 64 on CPU, 256 on GPU.");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Spark partitions; 0 = automatic: one per core, more so that no task gets over 1/8 of the inputs or over 1,000 of them, or over spark.sql.files.maxPartitionBytes of image bytes.");

    public static final OptionKey<Boolean> INCREMENTAL = OptionKey.flag("incremental", false,
            "Reuse the committed features table's rows for content it has (same image_id, model and conv tap); run the "
                    + "model on the rest; drop rows of removed files. One Delta MERGE; the table equals a full recompute.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, CONV_LAYER, BATCH_SIZE, PARTITIONS, INCREMENTAL));

    public FeaturesOptions {
        if (batchSize < 0) {
            throw new IllegalArgumentException("--batch-size must be 0 (automatic) or positive");
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 (automatic) or positive");
        }
    }

    public static FeaturesOptions of(OptionValues v) {
        return new FeaturesOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(CONV_LAYER),
                v.get(BATCH_SIZE), v.get(PARTITIONS), v.get(INCREMENTAL));
    }
}
