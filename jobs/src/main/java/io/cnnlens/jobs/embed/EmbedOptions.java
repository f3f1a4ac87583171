package io.cnnlens.jobs.embed;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/**
 * The embed job's options: the keys and defaults side by side, checked in the constructor. The
 * mosaic re-reads the features table's images under {@code --max-pixels}/{@code --max-bytes}.
 * On a small input the job lowers the perplexity to (n − 2) / 3 and the quality k to
 * (n − 2) / 2 itself ({@link EmbedJob}), and says so.
 */
public record EmbedOptions(String features, String out, String vector, int pcaSample, int pcaDims, int tsneSample,
                           double perplexity, int iterations, double theta, int tsneThreads, String tsneKnn, int tsneKnnLists,
                           int tsneKnnProbes, int placeReferences, double placePerplexity, int placeIterations,
                           int qualitySample, int qualityK, long seed, int mosaicGrid, int mosaicTile, long maxPixels,
                           long maxBytes, String onto) {

    public static final OptionKey<String> VECTOR = OptionKey.text("vector", "fc7", "Feature column: fc7, logits or conv_max.");
    public static final OptionKey<Integer> PCA_SAMPLE = OptionKey.integer("pca-sample", 20_000, "Rows PCA is fitted on.");
    public static final OptionKey<Integer> PCA_DIMS = OptionKey.integer("pca-dims", 50, "PCA dimensions given to t-SNE.");
    public static final OptionKey<Integer> TSNE_SAMPLE = OptionKey.integer("tsne-sample", 0,
            "Points t-SNE fits (Barnes-Hut); 0: every point up to the driver limit (about 0.5 x driver heap / "
                    + "(44 x 3 x perplexity + 400) bytes), above it a seeded sample of that many; the rest are placed.");
    public static final OptionKey<Double> PERPLEXITY = OptionKey.real("perplexity", 30,
            "t-SNE perplexity (the paper's definition); at most (n - 2) / 3 for n images.");
    public static final OptionKey<Integer> ITERATIONS = OptionKey.integer("iterations", 1000,
            "t-SNE iterations (the first 250, or a quarter if fewer than 1000, with early exaggeration 12).");
    public static final OptionKey<Double> THETA = OptionKey.real("theta", 0.5,
            "Barnes-Hut accuracy: a quadtree cell of side s at distance d stands for its points when s/d < theta (0: exact).");
    public static final OptionKey<Integer> TSNE_THREADS = OptionKey.integer("tsne-threads", 0,
            "Driver threads for the t-SNE gradient; 0: all the driver's cores.");
    public static final OptionKey<String> TSNE_KNN = OptionKey.text("tsne-knn", "auto",
            "How t-SNE's nearest neighbours are found: exact (blocked matrix products), ivf (inverted lists over a k-means "
                    + "codebook, approximate, its recall measured and printed) or auto (exact below "
                    + KnnAffinities.IVF_FROM + " fitted points, ivf from there).");
    public static final OptionKey<Integer> TSNE_KNN_LISTS = OptionKey.integer("tsne-knn-lists", 0,
            "Inverted lists (k-means centroids) for --tsne-knn ivf; 0: about the square root of the fitted points.");
    public static final OptionKey<Integer> TSNE_KNN_PROBES = OptionKey.integer("tsne-knn-probes", 16,
            "Lists each point's neighbours are searched in, for --tsne-knn ivf (more: higher recall, slower).");
    public static final OptionKey<Integer> PLACE_REFERENCES = OptionKey.integer("place-references", 5_000,
            "Fitted points that the points not fitted are placed against (only when t-SNE fits a sample).");
    public static final OptionKey<Double> PLACE_PERPLEXITY = OptionKey.real("place-perplexity", 5, "Perplexity for placing new points.");
    public static final OptionKey<Integer> PLACE_ITERATIONS = OptionKey.integer("place-iterations", 100,
            "Optimisation steps per placed point.");
    public static final OptionKey<Integer> QUALITY_SAMPLE = OptionKey.integer("quality-sample", 10_000,
            "Points the map quality is measured on.");
    public static final OptionKey<Integer> QUALITY_K = OptionKey.integer("quality-k", 10,
            "Neighbours k of the map quality figures (kNN accuracy, trustworthiness); at most (n - 2) / 2 for n images.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "the samples");
    public static final OptionKey<String> ONTO = OptionKey.text("onto", null,
            "The --out of an earlier embed run whose map the images are put on instead of fitting a new one: its PCA basis "
                    + "is applied, the images on its map keep their places (matched by image_id) and the others are placed "
                    + "against --place-references of them.");
    public static final OptionKey<Integer> MOSAIC_GRID = OptionKey.integer("mosaic-grid", 40, "Mosaic cells per side.");
    public static final OptionKey<Integer> MOSAIC_TILE = OptionKey.integer("mosaic-tile", 32, "Mosaic cell size in pixels.");

    /** No --model: the job reads the features table only. */
    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.FEATURES, SharedOptions.OUT, SharedOptions.MASTER, VECTOR, PCA_SAMPLE, PCA_DIMS, TSNE_SAMPLE, PERPLEXITY, ITERATIONS, THETA, TSNE_THREADS, TSNE_KNN, TSNE_KNN_LISTS,
            TSNE_KNN_PROBES, PLACE_REFERENCES, PLACE_PERPLEXITY,
            PLACE_ITERATIONS, QUALITY_SAMPLE, QUALITY_K, SEED, MOSAIC_GRID, MOSAIC_TILE, SharedOptions.MAX_PIXELS,
            SharedOptions.MAX_BYTES, ONTO);

    public EmbedOptions {
        if (features == null || features.isBlank()) {
            throw new IllegalArgumentException("--features is empty");
        }
        if (vector == null || vector.isBlank()) {
            throw new IllegalArgumentException("--vector is empty");
        }
        atLeast("--pca-sample", pcaSample, 2);
        atLeast("--pca-dims", pcaDims, 2);
        if (tsneSample != 0) {
            atLeast("--tsne-sample", tsneSample, 4);
        }
        atLeast("--tsne-threads", tsneThreads, 0);
        knnMethod(tsneKnn, tsneKnnLists, tsneKnnProbes, seed);
        atLeast("--place-references", placeReferences, 3);
        if (!(theta >= 0) || theta > 1.5) {
            throw new IllegalArgumentException("--theta must be between 0 and 1.5, not " + theta);
        }
        atLeast("--iterations", iterations, 1);
        atLeast("--place-iterations", placeIterations, 1);
        atLeast("--quality-sample", qualitySample, 1);
        atLeast("--quality-k", qualityK, 1);
        atLeast("--mosaic-grid", mosaicGrid, 1);
        atLeast("--mosaic-tile", mosaicTile, 1);
        if (!(perplexity > 0)) {
            throw new IllegalArgumentException("--perplexity must be positive");
        }
        if (!(placePerplexity > 0)) {
            throw new IllegalArgumentException("--place-perplexity must be positive");
        }
        if (onto != null && onto.isBlank()) {
            throw new IllegalArgumentException("--onto is empty: name the --out of an earlier embed run, or leave it out");
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("--max-pixels must be positive");
        }
        if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("--max-bytes must be between 1 and " + (Integer.MAX_VALUE - 64));
        }
    }

    /** Whether the images go onto an earlier run's map ({@code --onto}) instead of a new fit. */
    boolean ontoEarlierMap() {
        return onto != null;
    }

    /** The nearest-neighbour method these options ask for. */
    KnnAffinities.Method knnMethod() {
        return knnMethod(tsneKnn, tsneKnnLists, tsneKnnProbes, seed);
    }

    private static KnnAffinities.Method knnMethod(String name, int lists, int probes, long seed) {
        return new KnnAffinities.Method(name == null ? "" : name.strip(), lists, probes, seed);
    }

    private static void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", not " + value);
        }
    }

    public static EmbedOptions of(OptionValues v) {
        return new EmbedOptions(v.get(SharedOptions.FEATURES), v.get(SharedOptions.OUT), v.get(VECTOR), v.get(PCA_SAMPLE),
                v.get(PCA_DIMS), v.get(TSNE_SAMPLE), v.get(PERPLEXITY), v.get(ITERATIONS), v.get(THETA), v.get(TSNE_THREADS),
                v.get(TSNE_KNN), v.get(TSNE_KNN_LISTS), v.get(TSNE_KNN_PROBES),
                v.get(PLACE_REFERENCES), v.get(PLACE_PERPLEXITY),
                v.get(PLACE_ITERATIONS), v.get(QUALITY_SAMPLE), v.get(QUALITY_K), v.get(SEED), v.get(MOSAIC_GRID),
                v.get(MOSAIC_TILE), v.get(SharedOptions.MAX_PIXELS), v.get(SharedOptions.MAX_BYTES), v.get(ONTO));
    }

    /** These options with the perplexity and the quality k given. */
    EmbedOptions with(double perplexity, int qualityK) {
        return new EmbedOptions(features, out, vector, pcaSample, pcaDims, tsneSample, perplexity, iterations, theta, tsneThreads,
                tsneKnn, tsneKnnLists, tsneKnnProbes, placeReferences, placePerplexity,
                placeIterations, qualitySample, qualityK, seed, mosaicGrid, mosaicTile, maxPixels, maxBytes, onto);
    }
}
