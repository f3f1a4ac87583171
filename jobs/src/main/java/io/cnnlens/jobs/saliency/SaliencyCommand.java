package io.cnnlens.jobs.saliency;

import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import io.cnnlens.attribution.SaliencySettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens saliency}: per-image saliency maps. */
@Command(name = "saliency", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Saliency maps of every image (or a sample) for a target class: vanilla gradient, guided backprop, SmoothGrad, "
                        + "integrated gradients, occlusion and Shapley values.",
                "Writes <out>/saliency/ (image_id, path, label, method, target, target_index, target_probability, height, width, "
                        + "map, overlay PNG), <out>/saliency_errors/ (path, stage, reason) and "
                        + "<out>/pictures/saliency/saliency-grid.png (images × methods)."})
public final class SaliencyCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Folder tree, Hadoop-FS URI or Parquet table of images (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec (as for features). Default: bundled")
    String model;

    @Option(names = "--methods", split = ",", defaultValue = "gradient,guided-backprop,smoothgrad,integrated-gradients,occlusion,shapley",
            description = "Methods, comma-separated. Default: ${DEFAULT-VALUE}")
    List<String> methods;

    @Option(names = "--target", defaultValue = "predicted",
            description = "predicted, label, a class index or a class name. Default: ${DEFAULT-VALUE}")
    String target;

    @Option(names = "--sample", defaultValue = "64", description = "Images to explain (a fixed sample by path hash); 0 = all. Default: ${DEFAULT-VALUE}")
    int sample;

    @Option(names = "--path-pattern", description = "Only images whose path matches this regular expression.")
    String pathPattern;

    @Option(names = "--smoothgrad-samples", defaultValue = "25", description = "Default: ${DEFAULT-VALUE}")
    int smoothgradSamples;

    @Option(names = "--smoothgrad-noise", defaultValue = "0.15", description = "Noise σ as a fraction of the input range. Default: ${DEFAULT-VALUE}")
    double smoothgradNoise;

    @Option(names = "--ig-steps", defaultValue = "32", description = "Integrated gradients steps. Default: ${DEFAULT-VALUE}")
    int igSteps;

    @Option(names = "--occlusion-size", defaultValue = "0", description = "Occluding square, pixels of the model input; 0 = a quarter of the side.")
    int occlusionSize;

    @Option(names = "--occlusion-stride", defaultValue = "0", description = "Occlusion stride; 0 = half the square.")
    int occlusionStride;

    @Option(names = "--occlusion-fill", split = ",", description = "Fill on the 0..255 scale (one value or one per channel). Default: the dataset mean")
    float[] occlusionFill;

    @Option(names = "--shapley-grid", defaultValue = "4", description = "Shapley players: grid×grid cells. Default: ${DEFAULT-VALUE}")
    int shapleyGrid;

    @Option(names = "--shapley-permutations", defaultValue = "16", description = "Default: ${DEFAULT-VALUE}")
    int shapleyPermutations;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (SmoothGrad noise, Shapley orders). Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--batch-size", defaultValue = "16", description = "Images per batch. Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--picture-images", defaultValue = "8", description = "Images (rows) in the picture grid. Default: ${DEFAULT-VALUE}")
    int pictureImages;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        SaliencySettings ss = new SaliencySettings(smoothgradSamples, smoothgradNoise, igSteps, occlusionSize, occlusionStride,
                occlusionFill, shapleyGrid, shapleyPermutations, seed, 64);
        SaliencyJob.Settings s = new SaliencyJob.Settings(images, out, model, ImageSource.Options.defaults(), methods, target, ss,
                sample, pathPattern, batchSize, 50_000_000L, pictureImages, 0);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens saliency", master)) {
            SaliencyJob.Summary r = SaliencyJob.run(h.spark(), s);
            System.out.println(r.line());
            r.secondsPerImage().forEach((m, sec) -> System.out.printf(Locale.ROOT, "saliency: %-21s %.4f s per image%n", m, sec));
            System.out.println("saliency: " + r.table());
            System.out.println("errors:   " + r.errorsTable());
            System.out.println("picture:  " + r.picture());
            return 0;
        }
    }
}
