package io.cnnlens.jobs.adversarial;

import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import io.cnnlens.adversarial.DeepFool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens uap}: universal adversarial perturbations. */
@Command(name = "uap", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "One perturbation v with ‖v‖_p ≤ ξ for a whole data set, fitted on --images and evaluated on --eval-images "
                        + "(without it, the images are split in two by path hash): the paper's DeepFool algorithm (driver) and a "
                        + "data-parallel variant on Spark; fooling rate against random noise of the same norm; optional transfer "
                        + "to a second model.",
                "Writes <out>/uap/ (stats and v per variant and ξ), <out>/uap_flips/, <out>/uap_errors/ and "
                        + "<out>/pictures/uap/uap-<variant>-<norm>-<ξ>.{png,f32}."})
public final class UapCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Images to fit on (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--eval-images", description = "Images to evaluate on. Default: the other half of --images.")
    String evalImages;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--norm", defaultValue = "inf", description = "inf or 2. Default: ${DEFAULT-VALUE}")
    String norm;

    @Option(names = "--xi", split = ",", defaultValue = "40,60", description = "Bound(s) ξ in 0..255 pixel units. Default: ${DEFAULT-VALUE}")
    double[] xi;

    @Option(names = "--variants", split = ",", defaultValue = "paper,spark", description = "paper, spark or both. Default: ${DEFAULT-VALUE}")
    List<String> variants;

    @Option(names = "--delta", defaultValue = "0.2", description = "Paper: stop at fooling rate 1 − δ on the fit images. Default: ${DEFAULT-VALUE}")
    double delta;

    @Option(names = "--max-passes", defaultValue = "5", description = "Paper: passes over the fit images. Default: ${DEFAULT-VALUE}")
    int maxPasses;

    @Option(names = "--fit-sample", defaultValue = "10000", description = "Most images to fit on. Default: ${DEFAULT-VALUE}")
    int fitSample;

    @Option(names = "--eval-sample", defaultValue = "0", description = "Most images to evaluate on; 0 = all.")
    int evalSample;

    @Option(names = "--sgd-iterations", defaultValue = "40", description = "Spark variant: steps. Default: ${DEFAULT-VALUE}")
    int sgdIterations;

    @Option(names = "--sgd-batch", defaultValue = "1000", description = "Spark variant: images per step (a seeded sample). Default: ${DEFAULT-VALUE}")
    int sgdBatch;

    @Option(names = "--sgd-lr", defaultValue = "0", description = "Spark variant: step length; 0 = ξ/10 (L∞) or ξ/5 (L2).")
    double sgdLr;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--transfer-model", description = "A second model spec to apply each v to.")
    String transferModel;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        DeepFool.Norm p = switch (norm) {
            case "inf", "linf" -> DeepFool.Norm.LINF;
            case "2", "l2" -> DeepFool.Norm.L2;
            default -> throw new IllegalArgumentException("--norm must be inf or 2");
        };
        UapJob.Settings s = new UapJob.Settings(images, evalImages, out, model, ImageSource.Options.defaults(), p, xi, variants, delta,
                maxPasses, fitSample, sgdIterations, sgdBatch, sgdLr, seed, transferModel, 50_000_000L, evalSample);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens uap", master)) {
            UapJob.Summary r = UapJob.run(h.spark(), s);
            System.out.println(r.line());
            for (UapJob.Result x : r.results()) {
                System.out.printf(Locale.ROOT, "uap: %-6s %s ξ=%-6s fooling rate %.3f (fit %.3f), random noise %.3f%s, %d passes/steps, %.1f s%n",
                        x.variant(), norm, UapJob.trim(x.xi()), x.rate(), x.fitRate(), x.randomRate(),
                        x.transferRate() == null ? "" : String.format(Locale.ROOT, "; on %s: %.3f (random %.3f)", transferModel,
                                x.transferRate(), x.transferRandomRate()),
                        x.passes(), x.seconds());
            }
            System.out.println("uap:      " + r.table());
            System.out.println("pictures: " + r.pictures());
            return 0;
        }
    }
}
