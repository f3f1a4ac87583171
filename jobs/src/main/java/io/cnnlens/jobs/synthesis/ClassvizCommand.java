package io.cnnlens.jobs.synthesis;

import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import io.cnnlens.synthesis.ClassVisualisation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens classviz}: class (or channel) visualisation by regularised gradient ascent. */
@Command(name = "classviz", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Images that maximise a class score (Simonyan 2014) with Yosinski 2015's regularisers, one Spark task per "
                + "class; with --tap, one channel of a conv layer instead.",
                "Writes <out>/classviz/ (tap, target, target_index, score, probability, seconds, settings, image PNG) and "
                        + "<out>/pictures/classviz/ (one PNG per target and classviz-grid.png)."})
public final class ClassvizCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--targets", split = ",", description = "Classes (names or indices), or channels with --tap. Default: every class")
    List<String> targets;

    @Option(names = "--tap", description = "A conv tap: visualise its channels (--targets) instead of classes.")
    String tap;

    @Option(names = "--iterations", defaultValue = "1000", description = "Default: ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--lr", defaultValue = "100", description = "Learning rate (on the gradient w.r.t. the network input, applied to 0..255 pixels). Default: ${DEFAULT-VALUE}")
    double lr;

    @Option(names = "--decay", defaultValue = "1e-4", description = "L2 decay. Default: ${DEFAULT-VALUE}")
    double decay;

    @Option(names = "--blur-every", defaultValue = "4", description = "Blur every k steps (0 = never). Default: ${DEFAULT-VALUE}")
    int blurEvery;

    @Option(names = "--blur-radius", defaultValue = "1.0", description = "Gaussian σ in pixels. Default: ${DEFAULT-VALUE}")
    double blurRadius;

    @Option(names = "--norm-percentile", defaultValue = "0", description = "Zero pixels whose norm is below this percentile. Default: ${DEFAULT-VALUE}")
    double normPercentile;

    @Option(names = "--contribution-percentile", defaultValue = "0", description = "Zero pixels whose |x·grad| is below this percentile. Default: ${DEFAULT-VALUE}")
    double contributionPercentile;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        ClassVisualisation cv = new ClassVisualisation(iterations, lr, decay, blurEvery, blurRadius, normPercentile, contributionPercentile, seed);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens classviz", master)) {
            ClassvizJob.Summary s = ClassvizJob.run(h.spark(), out, model, tap, targets, cv);
            for (ClassvizJob.Result r : s.results()) {
                System.out.printf(Locale.ROOT, "classviz: %-14s score %8.2f  probability %s  %.1f s%n", r.target(), r.score(),
                        Double.isNaN(r.probability()) ? "-" : String.format(Locale.ROOT, "%.4f", r.probability()), r.seconds());
            }
            System.out.printf(Locale.ROOT, "classviz: %d targets, %.1f s%n", s.results().size(), s.seconds());
            System.out.println("classviz: " + s.table());
            System.out.println("pictures: " + s.pictures());
            return 0;
        }
    }
}
