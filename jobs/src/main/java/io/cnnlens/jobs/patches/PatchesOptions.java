package io.cnnlens.jobs.patches;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/**
 * The patches job's options: the keys and defaults side by side, checked in the constructor.
 * The images are the features table's paths, re-read under {@code --max-pixels}/{@code --max-bytes}.
 *
 * @param layer    the conv tap to mine, or null for the spec's {@code taps.conv}
 * @param channels the channels to mine, or null for every channel of the layer
 */
public record PatchesOptions(String features, String out, String model, String layer, int[] channels, int k, int batchSize,
                             long maxPixels, long maxBytes, int partitions) {

    public static final OptionKey<String> LAYER = OptionKey.text("layer", null, "Conv tap to mine. Default: the spec's taps.conv");
    public static final OptionKey<int[]> CHANNELS = OptionKey.integers("channels", null,
            "Channels, e.g. 0,5,12. Default: every channel of the layer");
    public static final OptionKey<Integer> TOP = OptionKey.integer("top", 9, "Patches per channel (K).");
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", 0,
            "Images per forward pass; 0 = 64 on CPU, 256 on GPU.");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Spark partitions; 0 = chosen from the input count.");

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.FEATURES, SharedOptions.OUT, SharedOptions.MODEL,
            SharedOptions.MASTER, LAYER, CHANNELS, TOP, BATCH_SIZE, SharedOptions.MAX_PIXELS, SharedOptions.MAX_BYTES, PARTITIONS);

    public PatchesOptions {
        if (features == null || features.isBlank()) {
            throw new IllegalArgumentException("--features is empty");
        }
        if (layer != null && layer.isBlank()) {
            throw new IllegalArgumentException("--layer is empty");
        }
        if (channels != null) {
            channels = channels.clone();
            for (int c : channels) {
                if (c < 0) {
                    throw new IllegalArgumentException("--channels must be 0 or more, not " + c);
                }
            }
        }
        if (k < 1) {
            throw new IllegalArgumentException("--top must be at least 1");
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("--batch-size must be 0 (automatic) or positive");
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("--max-pixels must be positive");
        }
        if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("--max-bytes must be between 1 and " + (Integer.MAX_VALUE - 64));
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 (automatic) or positive");
        }
    }

    public static PatchesOptions of(OptionValues v) {
        return new PatchesOptions(v.get(SharedOptions.FEATURES), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(LAYER),
                v.get(CHANNELS), v.get(TOP), v.get(BATCH_SIZE), v.get(SharedOptions.MAX_PIXELS), v.get(SharedOptions.MAX_BYTES),
                v.get(PARTITIONS));
    }
}
