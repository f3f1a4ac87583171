package io.cnnlens.jobs.features;

import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code cnnlens features}: predictions and FC7 features for every image. */
@Command(name = "features", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Run the model over every image and write <out>/features/ (image_id, path, label, pred, top5, "
                        + "fc7, logits, conv_max, ...) and <out>/errors/ (path, stage, reason) as Parquet.",
                "Every input file gives exactly one row in one of the two tables; a re-run replaces both."})
public final class FeaturesCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Folder tree or Hadoop-FS URI (file:, hdfs:, s3a:) of JPEG/PNG/BMP/GIF files, "
                    + "or a Parquet table of image bytes. Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED,
            description = "Model spec: 'bundled' (default, the bundled Fashion-MNIST AlexNet-style model), "
                    + "'bundled:<name>', a spec file, or a spec URI (conf/models/*.properties).")
    String model;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Option(names = "--input-format", defaultValue = "auto",
            description = "auto (a path ending in .parquet is a table), files or parquet. Default: ${DEFAULT-VALUE}")
    String inputFormat;

    @Option(names = "--image-column", defaultValue = "content", description = "Parquet input: image bytes column. Default: ${DEFAULT-VALUE}")
    String imageColumn;

    @Option(names = "--path-column", defaultValue = "path", description = "Parquet input: path column, if any. Default: ${DEFAULT-VALUE}")
    String pathColumn;

    @Option(names = "--label-column", defaultValue = "label", description = "Parquet input: label column, if any. Default: ${DEFAULT-VALUE}")
    String labelColumn;

    @Option(names = "--conv-layer", description = "Conv tap whose per-channel spatial max is kept. Default: the spec's taps.conv")
    String convLayer;

    @Option(names = "--batch-size", defaultValue = "0", description = "Images per forward pass; 0 = 64 on CPU, 256 on GPU.")
    int batchSize;

    @Option(names = "--max-pixels", defaultValue = "50000000",
            description = "Images with more pixels are refused from their header. Default: ${DEFAULT-VALUE}")
    long maxPixels;

    @Option(names = "--max-bytes", defaultValue = "268435456", description = "Files larger than this are refused unread. Default: ${DEFAULT-VALUE}")
    long maxBytes;

    @Option(names = "--partitions", defaultValue = "0", description = "Spark partitions; 0 = one per core, more when the image bytes exceed spark.sql.files.maxPartitionBytes per partition.")
    int partitions;

    @Override
    public Integer call() {
        ImageSource.Format format = ImageSource.Format.valueOf(inputFormat.toUpperCase(java.util.Locale.ROOT));
        FeaturesJob.Settings s = new FeaturesJob.Settings(images, out, model,
                new ImageSource.Options(format, imageColumn, pathColumn, labelColumn),
                batchSize, maxPixels, maxBytes, convLayer, partitions);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens features", master)) {
            FeaturesJob.Summary summary = FeaturesJob.run(h.spark(), s);
            System.out.println(summary.line());
            System.out.println("features: " + summary.featuresPath());
            System.out.println("errors:   " + summary.errorsPath());
            return 0;
        }
    }
}
