package io.cnnlens.jobs.index;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/**
 * The search job's options: one of {@code --query-images}, {@code --ids} or {@code --queries}.
 *
 * @param index the index folder (the index job's {@code <out>/index})
 */
public record SearchOptions(String index, String out, List<String> images, List<String> ids, String queries, int k, int ef,
                            boolean rerank, int pictureQueries, long maxPixels, long maxBytes) {

    public static final OptionKey<String> INDEX = OptionKey.text("index", "cnnlens-out/index", "The index folder (index's <out>/index).");
    public static final OptionKey<List<String>> QUERY_IMAGES = OptionKey.names("query-images", null,
            "Query image files (comma-separated paths or URIs), run through the index's model as features does.");
    public static final OptionKey<List<String>> IDS = OptionKey.names("ids", null, "Query by image ids held in the index (comma-separated).");
    public static final OptionKey<String> QUERIES = OptionKey.text("queries", null,
            "A features table (features' --out) whose rows are the queries: searched by Spark tasks.");
    public static final OptionKey<Integer> K = OptionKey.integer("k", 10, "Neighbours per query.");
    public static final OptionKey<Integer> EF = OptionKey.integer("ef", 64,
            "Search beam width (at least k; more = higher recall, slower). docs/index.md#measurements has recall at each.");
    public static final OptionKey<Boolean> RERANK = OptionKey.flag("rerank", false,
            "Keep each shard's whole beam and re-rank the candidates by exact distance from the stored vectors.");
    public static final OptionKey<Integer> PICTURE_QUERIES = OptionKey.integer("picture-queries", 6, "Queries shown in the picture.");

    static final List<OptionKey<?>> KEYS = List.of(INDEX, SharedOptions.OUT, SharedOptions.MASTER, QUERY_IMAGES, IDS, QUERIES, K, EF,
            RERANK, PICTURE_QUERIES, SharedOptions.MAX_PIXELS, SharedOptions.MAX_BYTES);

    public SearchOptions {
        images = images == null ? List.of() : List.copyOf(images);
        ids = ids == null ? List.of() : List.copyOf(ids);
        int given = (images.isEmpty() ? 0 : 1) + (ids.isEmpty() ? 0 : 1) + (queries == null || queries.isBlank() ? 0 : 1);
        if (given != 1) {
            throw new IllegalArgumentException("give exactly one of --query-images, --ids and --queries");
        }
        if (index == null || index.isBlank()) {
            throw new IllegalArgumentException("--index is empty");
        }
        if (k < 1 || k > 10_000) {
            throw new IllegalArgumentException("--k must be between 1 and 10000");
        }
        if (ef < k) {
            throw new IllegalArgumentException("--ef must be at least --k (" + k + ")");
        }
        if (pictureQueries < 0) {
            throw new IllegalArgumentException("--picture-queries must be 0 or more");
        }
        if (maxPixels <= 0 || maxBytes <= 0) {
            throw new IllegalArgumentException("--max-pixels and --max-bytes must be positive");
        }
    }

    public static SearchOptions of(OptionValues v) {
        return new SearchOptions(v.get(INDEX), v.get(SharedOptions.OUT), v.get(QUERY_IMAGES), v.get(IDS), v.get(QUERIES), v.get(K),
                v.get(EF), v.get(RERANK), v.get(PICTURE_QUERIES), v.get(SharedOptions.MAX_PIXELS), v.get(SharedOptions.MAX_BYTES));
    }
}
