package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.adversarial.FoolJob;
import io.cnnlens.jobs.adversarial.UapJob;
import io.cnnlens.jobs.embed.EmbedJob;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.neighbors.NeighborsJob;
import io.cnnlens.jobs.patches.PatchesJob;
import io.cnnlens.jobs.pictures.ActivationsCommand;
import io.cnnlens.jobs.pictures.FiltersCommand;
import io.cnnlens.jobs.report.ReportJob;
import io.cnnlens.jobs.saliency.SaliencyJob;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.synthesis.ClassvizJob;
import io.cnnlens.jobs.synthesis.InvertCommand;

import io.cnnlens.adversarial.DeepFool;
import io.cnnlens.attribution.SaliencySettings;
import io.cnnlens.embedding.ExactKnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code cnnlens run}: the whole pipeline over one input, ending with the report. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The whole pipeline over one input in one Spark session: features, filters, activations, patches, "
                + "neighbors, embed, saliency, fool, uap, classviz, invert, then the report. Prints seconds per stage and the report's path.",
                "Each stage keeps its own defaults (see its --help); the attacks and saliency run on a sample."})
public final class RunCommand implements Callable<Integer> {

    static final List<String> STAGES = List.of("features", "filters", "activations", "patches", "neighbors", "embed", "saliency",
            "fool", "uap", "classviz", "invert", "report");

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Images (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Run folder. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--stages", split = ",", description = "Stages to run, in pipeline order. Default: all of " + "features,filters,"
            + "activations,patches,neighbors,embed,saliency,fool,uap,classviz,invert,report")
    List<String> stages;

    @Option(names = "--sample", defaultValue = "16", description = "Images for saliency and fool. Default: ${DEFAULT-VALUE}")
    int sample;

    @Option(names = "--queries", defaultValue = "2000", description = "Neighbour queries (a seeded sample; 0 = all). Default: ${DEFAULT-VALUE}")
    int queries;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        List<String> run = stages == null || stages.isEmpty() ? STAGES : stages;
        for (String s : run) {
            if (!STAGES.contains(s)) {
                throw new IllegalArgumentException("unknown stage '" + s + "'; stages: " + STAGES);
            }
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        String report = null;
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens run", master)) {
            var spark = h.spark();
            for (String stage : STAGES) {
                if (!run.contains(stage)) {
                    continue;
                }
                long ts = System.nanoTime();
                switch (stage) {
                    case "features" -> System.out.println(FeaturesJob.run(spark, new FeaturesJob.Settings(images, out, model,
                            ImageSource.Options.defaults(), 0, 50_000_000L, 256L << 20, null, 0)).line());
                    case "filters" -> FiltersCommand.draw(model, out, null, 32, 32, spark.sparkContext().hadoopConfiguration());
                    case "activations" -> ActivationsCommand.draw(spark, images, out, model, null, 2, null);
                    case "patches" -> System.out.println(PatchesJob.run(spark, new PatchesJob.Settings(out, out, model, null, null, 9, 0,
                            50_000_000L, 0)).line());
                    case "neighbors" -> System.out.println(NeighborsJob.run(spark, new NeighborsJob.Settings(out, out, model, 10,
                            List.of(ExactKnn.Metric.L2), queries, 1, 0, 1024, 8192, 6, 50_000_000L, true)).line());
                    case "embed" -> {
                        long n = spark.read().parquet(TableReader.resolve(spark.sparkContext().hadoopConfiguration(), out)).count();
                        if (n < 8) {
                            System.out.println("embed: skipped, " + n + " images are too few for a map");
                        } else {
                            EmbedJob.Settings d = EmbedJob.Settings.defaults(out, out);
                            double perplexity = Math.min(d.perplexity(), (n - 2) / 3.0); // small inputs: a perplexity they can carry
                            System.out.println(EmbedJob.run(spark, new EmbedJob.Settings(d.features(), d.out(), d.vector(), d.pcaSample(),
                                    d.pcaDims(), d.tsneSample(), perplexity, d.iterations(), d.placePerplexity(), d.placeIterations(),
                                    d.qualitySample(), (int) Math.min(d.qualityK(), (n - 2) / 2), d.seed(), d.mosaicGrid(), d.mosaicTile(),
                                    d.maxPixels())).line());
                        }
                    }
                    case "saliency" -> System.out.println(SaliencyJob.run(spark, new SaliencyJob.Settings(images, out, model,
                            ImageSource.Options.defaults(), guidedIfPossible(model, spark), "predicted", SaliencySettings.defaults(),
                            sample, null, 16, 50_000_000L, 8, 0)).line());
                    case "fool" -> System.out.println(FoolJob.run(spark, new FoolJob.Settings(images, out, model,
                            ImageSource.Options.defaults(), FoolJob.METHODS, "least-likely", 20, 100, 16, 0, 20, 1, sample, 32,
                            50_000_000L, 4)).line());
                    case "uap" -> System.out.println(UapJob.run(spark, new UapJob.Settings(images, null, out, model,
                            ImageSource.Options.defaults(), DeepFool.Norm.L2, new double[] {1000}, List.of("spark"), 0.2, 5, 5000, 20,
                            500, 0, 1, null, 50_000_000L, 0)).line());
                    case "classviz" -> System.out.printf(Locale.ROOT, "classviz: %d classes%n", ClassvizJob.run(spark, out, model, null,
                            List.of(), io.cnnlens.synthesis.ClassVisualisation.yosinski()).results().size());
                    case "invert" -> InvertCommand.run(spark, images, out, model, null, 2, io.cnnlens.synthesis.FeatureInversion.defaults());
                    case "report" -> report = ReportJob.run(spark, out);
                    default -> throw new IllegalStateException(stage);
                }
                seconds.put(stage, (System.nanoTime() - ts) / 1e9);
            }
        }
        List<String> parts = new ArrayList<>();
        seconds.forEach((k, v) -> parts.add(String.format(Locale.ROOT, "%s %.1f", k, v)));
        System.out.printf(Locale.ROOT, "run: %s; total %.1f s%n", String.join(", ", parts), (System.nanoTime() - t0) / 1e9);
        if (report != null) {
            System.out.println("report: " + report);
        }
        return 0;
    }

    /** All saliency methods, leaving out guided backprop where the model has no stages. */
    private static List<String> guidedIfPossible(String model, org.apache.spark.sql.SparkSession spark) {
        boolean stages = ExecutorRuntime.model(model, spark.sparkContext().hadoopConfiguration(), true).hasStages();
        List<String> m = new ArrayList<>(SaliencySettings.NAMES);
        if (!stages) {
            m.remove("guided-backprop");
        }
        return m;
    }
}
