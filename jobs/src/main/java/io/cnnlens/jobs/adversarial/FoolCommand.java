package io.cnnlens.jobs.adversarial;

import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens fool}: fooling images and PGD attacks per image. */
@Command(name = "fool", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Per image and target class: the lecture's fooling image (normalised-gradient steps on the target score until "
                        + "the model predicts it) and PGD within an L∞ ε (untargeted and targeted). Norms in 0..255 pixel units.",
                "Writes <out>/fool/ (image_id, path, label, method, original_pred, target, success, steps, l2, linf, "
                        + "target_probability, adversarial_pred, adversarial PNG), <out>/fool_errors/ and "
                        + "<out>/pictures/fool/fool-grid.png."})
public final class FoolCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Images (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--methods", split = ",", defaultValue = "fool,pgd,pgd-targeted", description = "Default: ${DEFAULT-VALUE}")
    List<String> methods;

    @Option(names = "--target", defaultValue = "least-likely",
            description = "least-likely, or a class (name or index), or a comma-separated list. Default: ${DEFAULT-VALUE}")
    String target;

    @Option(names = "--step", defaultValue = "20", description = "Fooling images: L2 length of each step, pixel units. Default: ${DEFAULT-VALUE}")
    double step;

    @Option(names = "--max-steps", defaultValue = "100", description = "Fooling images: step limit. Default: ${DEFAULT-VALUE}")
    int maxSteps;

    @Option(names = "--epsilon", defaultValue = "16", description = "PGD: L∞ bound, pixel units. Default: ${DEFAULT-VALUE}")
    double epsilon;

    @Option(names = "--alpha", defaultValue = "0", description = "PGD: step size; 0 = ε/4.")
    double alpha;

    @Option(names = "--pgd-steps", defaultValue = "20", description = "PGD iterations. Default: ${DEFAULT-VALUE}")
    int pgdSteps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (PGD's random start). Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--sample", defaultValue = "64", description = "Images to attack (a fixed sample by path hash); 0 = all. Default: ${DEFAULT-VALUE}")
    int sample;

    @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--picture-images", defaultValue = "4", description = "Images in the picture. Default: ${DEFAULT-VALUE}")
    int pictureImages;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        FoolJob.Settings s = new FoolJob.Settings(images, out, model, ImageSource.Options.defaults(), methods, target, step, maxSteps,
                epsilon, alpha, pgdSteps, seed, sample, batchSize, 50_000_000L, pictureImages);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens fool", master)) {
            FoolJob.Summary r = FoolJob.run(h.spark(), s);
            System.out.println(r.line());
            for (FoolJob.MethodSummary m : r.methods()) {
                System.out.printf(Locale.ROOT, "fool: %-13s attempts %d, success rate %.3f, median steps %.0f, median L2 %.1f, median L∞ %.1f%n",
                        m.method(), m.attempts(), m.successRate(), m.medianSteps(), m.medianL2(), m.medianLinf());
            }
            System.out.println("fool:    " + r.table());
            System.out.println("picture: " + r.picture());
            return 0;
        }
    }
}
