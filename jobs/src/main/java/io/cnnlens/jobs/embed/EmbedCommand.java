package io.cnnlens.jobs.embed;

import io.cnnlens.jobs.spark.SparkSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens embed}: PCA and t-SNE maps of the features. */
@Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "2-D maps of a feature column: PCA (fitted on a sample, applied to all rows) and t-SNE (fitted exactly on a "
                        + "sample of the 50-D PCA, with the paper's perplexity and a PCA start; other points placed against "
                        + "the fixed map on executors).",
                "Writes <out>/embed/ (image_id, path, label, method, x, y) and <out>/pictures/embed/{pca,tsne,tsne-mosaic}.png; "
                        + "prints kNN accuracy and trustworthiness of both maps on a sample."})
public final class EmbedCommand implements Callable<Integer> {

    @Option(names = "--features", defaultValue = "cnnlens-out",
            description = "The features job's output (its --out, or the features/ table). Default: ${DEFAULT-VALUE}")
    String features;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--vector", defaultValue = "fc7", description = "Feature column: fc7, logits or conv_max. Default: ${DEFAULT-VALUE}")
    String vector;

    @Option(names = "--pca-sample", defaultValue = "20000", description = "Rows PCA is fitted on. Default: ${DEFAULT-VALUE}")
    int pcaSample;

    @Option(names = "--pca-dims", defaultValue = "50", description = "PCA dimensions given to t-SNE. Default: ${DEFAULT-VALUE}")
    int pcaDims;

    @Option(names = "--tsne-sample", defaultValue = "5000",
            description = "Points t-SNE is fitted on exactly (memory ≈ 24·n² bytes); the rest are placed. Default: ${DEFAULT-VALUE}")
    int tsneSample;

    @Option(names = "--perplexity", defaultValue = "30", description = "t-SNE perplexity (the paper's definition). Default: ${DEFAULT-VALUE}")
    double perplexity;

    @Option(names = "--iterations", defaultValue = "1000", description = "t-SNE iterations. Default: ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--place-perplexity", defaultValue = "5", description = "Perplexity for placing new points. Default: ${DEFAULT-VALUE}")
    double placePerplexity;

    @Option(names = "--place-iterations", defaultValue = "100", description = "Optimisation steps per placed point. Default: ${DEFAULT-VALUE}")
    int placeIterations;

    @Option(names = "--quality-sample", defaultValue = "10000", description = "Points the map quality is measured on. Default: ${DEFAULT-VALUE}")
    int qualitySample;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for the samples. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--mosaic-grid", defaultValue = "40", description = "Mosaic cells per side. Default: ${DEFAULT-VALUE}")
    int mosaicGrid;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        if (pcaSample < 2 || pcaDims < 2 || tsneSample < 4 || iterations < 1 || qualitySample < 1 || mosaicGrid < 1) {
            throw new IllegalArgumentException("--pca-sample ≥ 2, --pca-dims ≥ 2, --tsne-sample ≥ 4, --iterations, --quality-sample "
                    + "and --mosaic-grid ≥ 1 please");
        }
        EmbedJob.Settings s = new EmbedJob.Settings(features, out, vector, pcaSample, pcaDims, tsneSample, perplexity, iterations,
                placePerplexity, placeIterations, qualitySample, 10, seed, mosaicGrid, 32, 50_000_000L);
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens embed", master)) {
            EmbedJob.Summary r = EmbedJob.run(h.spark(), s);
            System.out.println(r.line());
            System.out.printf(Locale.ROOT, "embed: PCA %.1f s; t-SNE fitted on %d points in %.1f s (Smile perplexity argument %.2f "
                            + "gives the paper's %.0f); placing the rest %.1f s%n",
                    r.pcaSeconds(), r.tsneFitted(), r.tsneFitSeconds(), r.smilePerplexityArgument(), perplexity, r.placeSeconds());
            EmbedJob.Quality q = r.quality();
            System.out.printf(Locale.ROOT, "embed: on %d points, kNN-%d accuracy: %s %.4f, PCA-2D %.4f, t-SNE %.4f; "
                            + "trustworthiness (k=%d): PCA-2D %.4f, t-SNE %.4f%n",
                    q.points(), q.k(), vector, q.knnFeatures(), q.knnPca(), q.knnTsne(), q.k(), q.trustPca(), q.trustTsne());
            System.out.println("embed:    " + r.table());
            System.out.println("pictures: " + r.pictures());
            return 0;
        }
    }
}
