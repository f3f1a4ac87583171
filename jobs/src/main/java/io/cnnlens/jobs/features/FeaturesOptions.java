package io.cnnlens.jobs.features;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;
import io.cnnlens.jobs.spark.TaskResources;

import java.util.List;

/** The features job's options: the keys and defaults side by side, checked in the constructor. */
public record FeaturesOptions(ImageInput input, String out, String model, String convLayer, int batchSize, int decodeThreads,
                              int decodeQueue, String precision, int partitions, boolean incremental) {

    public static final OptionKey<String> CONV_LAYER = OptionKey.text("conv-layer", null,
            "Conv tap whose per-channel spatial max is kept. Default: the spec's taps.conv");
    public static final int BATCH_SIZE_DEFAULT = 0;
    public static final OptionKey<Integer> BATCH_SIZE = OptionKey.integer("batch-size", BATCH_SIZE_DEFAULT,
            "Images per forward pass; 0 = " + TaskResources.CPU_BATCH_DEFAULT + " on CPU, " + TaskResources.GPU_BATCH_DEFAULT + " on GPU.");
    public static final int DECODE_THREADS_DEFAULT = 0;
    public static final OptionKey<Integer> DECODE_THREADS = OptionKey.integer("decode-threads", DECODE_THREADS_DEFAULT,
            "Threads of each task that read, decode and preprocess images while the task runs the network; 0 = spark.task.cpus "
                    + "on CPU, the executor's cores shared among its concurrent tasks on GPU.");
    public static final int DECODE_QUEUE_DEFAULT = 2;
    public static final OptionKey<Integer> DECODE_QUEUE = OptionKey.integer("decode-queue", DECODE_QUEUE_DEFAULT,
            "Batches decoded ahead of the network per task (memory: queue x batch size preprocessed images); 0 = no pipeline, "
                    + "decode on the task thread between forward passes.");
    public static final String PRECISION_DEFAULT = "fp32";
    public static final OptionKey<String> PRECISION = OptionKey.text("precision", PRECISION_DEFAULT,
            "Forward precision: fp32. (bf16 is refused: DJL 0.36 cannot cast a loaded TorchScript model; docs/executor-runtime.md.)");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Spark partitions; 0 = automatic: one per core, more so that no task gets over 1/8 of the inputs or over 1,000 of them, or over spark.sql.files.maxPartitionBytes of image bytes.");

    public static final OptionKey<Boolean> INCREMENTAL = OptionKey.flag("incremental", false,
            "Reuse the committed features table's rows for content it has (same image_id, model and conv tap); run the "
                    + "model on the rest; drop rows of removed files. One Delta append when only new paths were listed, else one MERGE; the table equals a full recompute.");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, CONV_LAYER, BATCH_SIZE, DECODE_THREADS, DECODE_QUEUE, PRECISION,
                    PARTITIONS, INCREMENTAL));

    public FeaturesOptions {
        if (batchSize < 0) {
            throw new IllegalArgumentException("--batch-size must be 0 (automatic) or positive");
        }
        if (decodeThreads < 0) {
            throw new IllegalArgumentException("--decode-threads must be 0 (automatic) or positive");
        }
        if (decodeQueue < 0) {
            throw new IllegalArgumentException("--decode-queue must be 0 (no pipeline) or positive");
        }
        if ("bf16".equals(precision)) {
            throw new IllegalArgumentException("--precision bf16 is not supported: DJL 0.36's PyTorch engine cannot cast a loaded "
                    + "TorchScript model to bfloat16 (PtSymbolBlock.cast throws 'Not implemented yet' and its JNI has no Module.to(dtype)); "
                    + "see docs/executor-runtime.md");
        }
        if (!PRECISION_DEFAULT.equals(precision)) {
            throw new IllegalArgumentException("--precision must be fp32, not " + precision);
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 (automatic) or positive");
        }
    }

    public static FeaturesOptions of(OptionValues v) {
        return new FeaturesOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(CONV_LAYER),
                v.get(BATCH_SIZE), v.get(DECODE_THREADS), v.get(DECODE_QUEUE), v.get(PRECISION), v.get(PARTITIONS), v.get(INCREMENTAL));
    }
}
