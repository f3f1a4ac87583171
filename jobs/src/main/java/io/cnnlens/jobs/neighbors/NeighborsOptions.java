package io.cnnlens.jobs.neighbors;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;
import java.util.Locale;

/**
 * The neighbors job's options: the keys and defaults side by side, checked in the constructor.
 * Pixel space re-reads the features table's images under {@code --max-pixels}/{@code --max-bytes}.
 *
 * @param metrics    from {@code --metric}: l2, cosine, or both (l2 first)
 * @param pixelSpace false with {@code --no-pixels}
 */
public record NeighborsOptions(String features, String out, String model, int k, List<ExactKnn.Metric> metrics, int queries,
                               long seed, int pixelSize, int queryBlock, int refBlock, int pictureQueries, long maxPixels,
                               long maxBytes, boolean pixelSpace) {

    public static final OptionKey<Integer> K = OptionKey.integer("k", 10, "Neighbours per query.");
    public static final OptionKey<String> METRIC = OptionKey.text("metric", "l2", "l2, cosine or both.");
    /** The same key as {@code run}'s {@code --queries}, which run passes on by this name. */
    public static final OptionKey<Integer> QUERIES = OptionKey.integer("queries", 0,
            "Number of query images (a seeded sample); 0 = all.");
    public static final OptionKey<Long> SEED = SharedOptions.seed(1, "the query sample and the picture");
    public static final OptionKey<Integer> PIXEL_SIZE = OptionKey.integer("pixel-size", 0,
            "Pixel space: images stretched to this square size; 0 = min(32, model input).");
    public static final OptionKey<Boolean> NO_PIXELS = OptionKey.flag("no-pixels", false,
            "Skip pixel space (FC7 only; images are not re-read).");
    public static final OptionKey<Integer> QUERY_BLOCK = OptionKey.integer("query-block", 1024, "Query rows per matrix product.");
    public static final OptionKey<Integer> REF_BLOCK = OptionKey.integer("ref-block", 8192, "Reference rows per matrix product.");
    public static final OptionKey<Integer> PICTURE_QUERIES = OptionKey.integer("picture-queries", 6, "Queries shown in the picture.");

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.FEATURES, SharedOptions.OUT, SharedOptions.MODEL,
            SharedOptions.MASTER, K, METRIC, QUERIES, SEED, PIXEL_SIZE, NO_PIXELS, QUERY_BLOCK, REF_BLOCK, PICTURE_QUERIES,
            SharedOptions.MAX_PIXELS, SharedOptions.MAX_BYTES);

    public NeighborsOptions {
        if (features == null || features.isBlank()) {
            throw new IllegalArgumentException("--features is empty");
        }
        if (k < 1) {
            throw new IllegalArgumentException("--k must be at least 1");
        }
        if (metrics == null || metrics.isEmpty()) {
            throw new IllegalArgumentException("--metric must be l2, cosine or both");
        }
        metrics = List.copyOf(metrics);
        if (queries < 0) {
            throw new IllegalArgumentException("--queries must be 0 (all) or positive");
        }
        if (pixelSize < 0) {
            throw new IllegalArgumentException("--pixel-size must be 0 (automatic) or positive");
        }
        if (queryBlock < 1 || refBlock < 1) {
            throw new IllegalArgumentException("--query-block and --ref-block must be positive");
        }
        if (pictureQueries < 0) {
            throw new IllegalArgumentException("--picture-queries must be 0 or more");
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("--max-pixels must be positive");
        }
        if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("--max-bytes must be between 1 and " + (Integer.MAX_VALUE - 64));
        }
    }

    /** {@code --metric}: l2, cosine or both. */
    public static List<ExactKnn.Metric> metrics(String metric) {
        return switch (metric == null ? "" : metric.toLowerCase(Locale.ROOT)) {
            case "l2" -> List.of(ExactKnn.Metric.L2);
            case "cosine" -> List.of(ExactKnn.Metric.COSINE);
            case "both" -> List.of(ExactKnn.Metric.L2, ExactKnn.Metric.COSINE);
            default -> throw new IllegalArgumentException("--metric must be l2, cosine or both, not " + metric);
        };
    }

    public static NeighborsOptions of(OptionValues v) {
        return new NeighborsOptions(v.get(SharedOptions.FEATURES), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(K),
                metrics(v.get(METRIC)), v.get(QUERIES), v.get(SEED), v.get(PIXEL_SIZE), v.get(QUERY_BLOCK), v.get(REF_BLOCK),
                v.get(PICTURE_QUERIES), v.get(SharedOptions.MAX_PIXELS), v.get(SharedOptions.MAX_BYTES), !v.get(NO_PIXELS));
    }
}
