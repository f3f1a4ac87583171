package io.cnnlens.jobs.audit;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.SharedOptions.ImageInput;

import java.util.List;

/** The audit's options: keys and defaults side by side, checked in the constructor. */
public record AuditOptions(ImageInput input, String out, String model, String runName, String thresholds,
                           double nearDuplicateCosine, double nearDuplicatePixels, int k, double outlierFraction, int folds, double probeRefit, double driftLevel,
                           int driftSample, long seed, double dark, double bright, double blurRelative, int tinySide,
                           double extremeAspect, int block, int knnKeepFrom, String knn, int knnGraphFrom, int knnEf,
                           int knnShardRows) implements java.io.Serializable {

    public static final OptionKey<String> RUN = OptionKey.text("run", null,
            "Name of this audit's folder under <out>/audit/; default: the UTC time, yyyy-MM-dd'T'HH-mm-ss'Z'.");
    public static final OptionKey<String> THRESHOLDS = OptionKey.text("thresholds", null,
            "Properties file of alert thresholds (max.<metric>=v, min.<metric>=v); the command exits 1 when one is crossed.");
    public static final OptionKey<Double> NEAR_DUPLICATE_COSINE = OptionKey.real("near-duplicate-cosine", 0.85,
            "fc7 cosine at or above which two neighbours are near-duplicate candidates; the thumbnails confirm them (calibrated on resized and re-encoded copies: docs/methods.md#near-duplicates).");
    public static final OptionKey<Double> NEAR_DUPLICATE_PIXELS = OptionKey.real("near-duplicate-pixels", 0.985,
            "Correlation of 16x16 grey thumbnails at or above which a candidate pair is a near-duplicate.");
    public static final OptionKey<Integer> K = OptionKey.integer("k", 10,
            "Neighbours per image in fc7 space and per content by thumbnail; the outlier scores are the distances to the k-th.");
    public static final OptionKey<Double> OUTLIER_FRACTION = OptionKey.real("outlier-fraction", 0.005,
            "Fraction of images flagged as outliers by each measure: the largest k-th neighbour distances in fc7, and by thumbnail.");
    public static final OptionKey<Integer> FOLDS = OptionKey.integer("folds", 5,
            "Folds of the out-of-sample softmax-regression probes for confident learning (Northcutt 2021 use 5).");
    public static final OptionKey<Double> PROBE_REFIT = OptionKey.real("probe-refit", 0.2,
            "Fit the label probes anew when more than this fraction of the images is new or changed since the previous audit's probes "
                    + "were fitted; otherwise score with those (still out of sample). 0: fit every audit.");
    public static final OptionKey<Double> DRIFT_LEVEL = OptionKey.real("drift-level", 0.05,
            "Level of the drift test: the false-alarm rate on same-distribution batches.");
    public static final OptionKey<Integer> DRIFT_SAMPLE = OptionKey.integer("drift-sample", 4000,
            "At most this many images of each side in the drift test (a seeded sample by image hash).");
    public static final OptionKey<Double> DARK = OptionKey.real("dark", 0.32,
            "An image is too dark when its 99th percentile of grey (0-1) is below this: even its brightest 1 % is dark (cleanvision's default).");
    public static final OptionKey<Double> BRIGHT = OptionKey.real("bright", 0.95,
            "An image is too bright when its 5th percentile of grey (0-1) is above this: even its darkest 5 % is bright (cleanvision's default).");
    public static final OptionKey<Double> BLUR = OptionKey.real("blur-relative", 0.2,
            "An image is blurry when the variance of its Laplacian, over the variance of its grey values, at most 64 px on the long side, "
                    + "is below this: little of its contrast is fine detail (docs/methods.md#image-quality).");
    public static final OptionKey<Integer> TINY = OptionKey.integer("tiny", 16, "Images with a side under this many pixels are tiny.");
    public static final OptionKey<Double> ASPECT = OptionKey.real("extreme-aspect", 4.0, "Long side / short side above which an image's aspect is extreme.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(12, "folds and drift sample");
    public static final OptionKey<Integer> BLOCK = OptionKey.integer("block", 2048, "Rows per block of the exact blocked kNN.");
    public static final OptionKey<Integer> KNN_KEEP_FROM = OptionKey.integer("knn-keep-from", 50000,
            "From this many images on, an audit keeps the previous audit's kNN lists of unchanged images and searches only what changed "
                    + "(docs/audit.md#incremental-audits); below it, a full search (seconds) is cheaper than the merge. 0: always keep.");

    public static final OptionKey<String> KNN = OptionKey.text("knn", "auto",
            "How the fc7 neighbours are searched: exact (blocked products, n^2 d), graph (a JVector graph index built for the audit, "
                    + "re-ranked exactly; its recall against exact search is measured on 1,000 images), or auto: graph from --knn-graph-from images.");
    public static final OptionKey<Integer> KNN_GRAPH_FROM = OptionKey.integer("knn-graph-from", 100_000,
            "With --knn auto, the collection size from which the graph index searches (docs/audit.md#knn-by-graph).");
    public static final OptionKey<Integer> KNN_EF = OptionKey.integer("knn-ef", 64,
            "Beam width of the graph search (higher: better recall, slower).");
    public static final OptionKey<Integer> KNN_SHARD_ROWS = OptionKey.integer("knn-shard-rows", 500_000,
            "Most images per graph shard (one Spark task builds each; every search task holds all shards).");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, RUN, THRESHOLDS, NEAR_DUPLICATE_COSINE, NEAR_DUPLICATE_PIXELS, K,
                    OUTLIER_FRACTION, FOLDS, PROBE_REFIT, DRIFT_LEVEL, DRIFT_SAMPLE, SEED,
                    DARK, BRIGHT, BLUR, TINY, ASPECT, BLOCK, KNN_KEEP_FROM, KNN, KNN_GRAPH_FROM, KNN_EF,
                    KNN_SHARD_ROWS));

    public AuditOptions {
        if (runName != null && !runName.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--run must be letters, digits, '.', '_' or '-'");
        }
        if (!(nearDuplicateCosine > 0 && nearDuplicateCosine <= 1)) {
            throw new IllegalArgumentException("--near-duplicate-cosine must be in (0, 1]");
        }
        if (!(nearDuplicatePixels >= -1 && nearDuplicatePixels <= 1)) {
            throw new IllegalArgumentException("--near-duplicate-pixels must be in [-1, 1]");
        }
        if (k < 1) {
            throw new IllegalArgumentException("--k must be at least 1");
        }
        if (!(outlierFraction >= 0 && outlierFraction < 1)) {
            throw new IllegalArgumentException("--outlier-fraction must be in [0, 1)");
        }
        if (folds < 2) {
            throw new IllegalArgumentException("--folds must be at least 2");
        }
        if (!(probeRefit >= 0 && probeRefit <= 1)) {
            throw new IllegalArgumentException("--probe-refit must be in [0, 1]");
        }
        if (!(driftLevel > 0 && driftLevel < 1)) {
            throw new IllegalArgumentException("--drift-level must be in (0, 1)");
        }
        if (driftSample < 4) {
            throw new IllegalArgumentException("--drift-sample must be at least 4");
        }
        if (!(dark >= 0 && bright <= 1 && dark < bright)) {
            throw new IllegalArgumentException("--dark and --bright must satisfy 0 <= dark < bright <= 1");
        }
        if (blurRelative < 0 || tinySide < 0 || extremeAspect < 1) {
            throw new IllegalArgumentException("--blur-relative and --tiny must be >= 0, --extreme-aspect >= 1");
        }
        if (block < 1) {
            throw new IllegalArgumentException("--block must be at least 1");
        }
        if (knnKeepFrom < 0) {
            throw new IllegalArgumentException("--knn-keep-from must be at least 0");
        }
        if (!AuditKnn.Method.NAMES.contains(knn)) {
            throw new IllegalArgumentException("--knn must be auto, exact or graph, not '" + knn + "'");
        }
        if (knnGraphFrom < 0 || knnEf < 1 || knnShardRows < 1) {
            throw new IllegalArgumentException("--knn-graph-from must be at least 0, --knn-ef and --knn-shard-rows at least 1");
        }
    }

    public static AuditOptions of(OptionValues v) {
        return new AuditOptions(ImageInput.of(v), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(RUN), v.get(THRESHOLDS),
                v.get(NEAR_DUPLICATE_COSINE), v.get(NEAR_DUPLICATE_PIXELS), v.get(K), v.get(OUTLIER_FRACTION), v.get(FOLDS), v.get(PROBE_REFIT), v.get(DRIFT_LEVEL), v.get(DRIFT_SAMPLE),
                v.get(SEED), v.get(DARK), v.get(BRIGHT), v.get(BLUR), v.get(TINY),
                v.get(ASPECT), v.get(BLOCK), v.get(KNN_KEEP_FROM), v.get(KNN), v.get(KNN_GRAPH_FROM), v.get(KNN_EF), v.get(KNN_SHARD_ROWS));
    }

    public AuditOptions withRun(String name) {
        return new AuditOptions(input, out, model, name, thresholds, nearDuplicateCosine, nearDuplicatePixels, k, outlierFraction, folds, probeRefit, driftLevel,
                driftSample, seed, dark, bright, blurRelative, tinySide, extremeAspect, block, knnKeepFrom, knn, knnGraphFrom, knnEf, knnShardRows);
    }
}
