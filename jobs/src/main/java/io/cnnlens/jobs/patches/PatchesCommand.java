package io.cnnlens.jobs.patches;

import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code cnnlens patches}: maximally activating patches of a layer's channels. */
@Command(name = "patches", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "For a conv layer and its channels, find the top-K images by activation over the whole collection "
                        + "and crop each to the receptive field of its strongest unit.",
                "Writes <out>/patches/ (layer, channel, rank, image_id, path, activation, unit_y, unit_x, box, patch PNG) "
                        + "and <out>/pictures/patches/patches-<layer>.png (one row per channel)."})
public final class PatchesCommand implements Callable<Integer> {

    @Option(names = "--features", defaultValue = "cnnlens-out",
            description = "The features job's output (its --out, or the features/ table). Default: ${DEFAULT-VALUE}")
    String features;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec (as for features). Default: bundled")
    String model;

    @Option(names = "--layer", description = "Conv tap to mine. Default: the spec's taps.conv")
    String layer;

    @Option(names = "--channels", split = ",", description = "Channels, e.g. 0,5,12. Default: every channel of the layer")
    int[] channels;

    @Option(names = "--top", defaultValue = "9", description = "Patches per channel (K). Default: ${DEFAULT-VALUE}")
    int top;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Option(names = "--batch-size", defaultValue = "0", description = "Images per forward pass; 0 = 64 on CPU, 256 on GPU.")
    int batchSize;

    @Option(names = "--max-pixels", defaultValue = "50000000", description = "Decode limit per image. Default: ${DEFAULT-VALUE}")
    long maxPixels;

    @Option(names = "--partitions", defaultValue = "0", description = "Spark partitions; 0 = chosen from the input count.")
    int partitions;

    @Override
    public Integer call() {
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens patches", master)) {
            PatchesJob.Summary s = PatchesJob.run(h.spark(), new PatchesJob.Settings(features, out, model, layer, channels, top,
                    batchSize, maxPixels, partitions));
            System.out.println(s.line());
            if (s.note() != null) {
                System.out.println("patches: note: " + s.note());
            }
            System.out.println("patches: " + s.table());
            System.out.println("picture: " + s.picture());
            return 0;
        }
    }
}
