package io.cnnlens.jobs.index;

import io.cnnlens.index.GraphParams;
import io.cnnlens.index.Metric;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;
import java.util.Locale;

/**
 * The index job's options: the keys and defaults side by side, checked in the constructor.
 *
 * @param index the index folder: {@code <out>/index}
 * @param ids   for {@code --mode delete}: the image ids to remove
 */
public record IndexOptions(String features, String out, String model, String mode, String column, Metric metric,
                           GraphParams params, int partitions, int shardRows, List<String> ids, String idsFile, int compactBelow,
                           int maxSmallShards, int buildThreads) {

    public static final OptionKey<String> MODE = OptionKey.text("mode", "build",
            "build (a new index, replacing one there), add (the table's images not yet in the index, as new shards) "
                    + "or delete (the --ids, as tombstones).");
    public static final OptionKey<String> COLUMN = OptionKey.text("column", "fc7", "The features table's vector column.");
    public static final OptionKey<String> METRIC = OptionKey.text("metric", "l2", "l2 (Euclidean) or cosine (1 - cos).");
    public static final OptionKey<Integer> M = OptionKey.integer("m", GraphParams.DEFAULT.m(),
            "Graph degree: up to 2M neighbours per node in the base layer (HNSW's M).");
    public static final OptionKey<Integer> EF_CONSTRUCTION = OptionKey.integer("ef-construction", GraphParams.DEFAULT.efConstruction(),
            "Beam width of the graph build.");
    public static final OptionKey<Double> ALPHA = OptionKey.real("alpha", 1.2,
            "Neighbour pruning slack (1.0 = HNSW's heuristic; more keeps longer edges).");
    public static final OptionKey<Integer> PARTITIONS = OptionKey.integer("partitions", 0,
            "Shards to build (one Spark task each); 0 = rows / --shard-rows, rounded up.");
    public static final OptionKey<Integer> SHARD_ROWS = OptionKey.integer("shard-rows", 100_000,
            "Rows per shard when --partitions is 0.");
    public static final OptionKey<List<String>> IDS = OptionKey.names("ids", null,
            "--mode delete: image ids to remove, comma-separated.");
    public static final OptionKey<String> IDS_FILE = OptionKey.text("ids-file", null,
            "--mode delete: a file (any Hadoop FS) with one image id to remove a line.");
    public static final OptionKey<Integer> COMPACT_BELOW = OptionKey.integer("compact-below", 20_000,
            "A shard with fewer live rows is small; when there are more than --max-small-shards, they are merged into one.");
    public static final OptionKey<Integer> MAX_SMALL_SHARDS = OptionKey.integer("max-small-shards", 4,
            "Small shards allowed before a compaction.");
    public static final OptionKey<Integer> BUILD_THREADS = OptionKey.integer("build-threads", 0,
            "Threads per shard build; 0 = the task's cores (spark.task.cpus).");

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.FEATURES, SharedOptions.OUT, SharedOptions.MODEL,
            SharedOptions.MASTER, MODE, COLUMN, METRIC, M, EF_CONSTRUCTION, ALPHA, PARTITIONS, SHARD_ROWS, IDS, IDS_FILE,
            COMPACT_BELOW, MAX_SMALL_SHARDS, BUILD_THREADS);

    public IndexOptions {
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException("--out is empty");
        }
        mode = mode == null ? "" : mode.toLowerCase(Locale.ROOT);
        if (!List.of("build", "add", "delete").contains(mode)) {
            throw new IllegalArgumentException("--mode must be build, add or delete, not " + mode);
        }
        if (!mode.equals("delete") && (features == null || features.isBlank())) {
            throw new IllegalArgumentException("--features is empty");
        }
        if (column == null || column.isBlank()) {
            throw new IllegalArgumentException("--column is empty");
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be 0 (automatic) or positive");
        }
        if (shardRows < 1) {
            throw new IllegalArgumentException("--shard-rows must be at least 1");
        }
        ids = ids == null ? List.of() : List.copyOf(ids);
        if (mode.equals("delete") && ids.isEmpty() && (idsFile == null || idsFile.isBlank())) {
            throw new IllegalArgumentException("--mode delete needs --ids (comma-separated) or --ids-file");
        }
        if (compactBelow < 0 || maxSmallShards < 1) {
            throw new IllegalArgumentException("--compact-below must be 0 or more and --max-small-shards at least 1");
        }
        if (buildThreads < 0) {
            throw new IllegalArgumentException("--build-threads must be 0 (the task's cores) or positive");
        }
    }

    public String index() {
        return new org.apache.hadoop.fs.Path(out, IndexJob.NAME).toString();
    }

    public static IndexOptions of(OptionValues v) {
        return new IndexOptions(v.get(SharedOptions.FEATURES), v.get(SharedOptions.OUT), v.get(SharedOptions.MODEL), v.get(MODE),
                v.get(COLUMN), Metric.parse(v.get(METRIC)),
                new GraphParams(v.get(M), v.get(EF_CONSTRUCTION), v.get(ALPHA).floatValue(), GraphParams.DEFAULT.overflow()),
                v.get(PARTITIONS), v.get(SHARD_ROWS), v.get(IDS), v.get(IDS_FILE), v.get(COMPACT_BELOW), v.get(MAX_SMALL_SHARDS), v.get(BUILD_THREADS));
    }
}
