package io.cnnlens.jobs.audit;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.index.GraphParams;
import io.cnnlens.index.Metric;
import io.cnnlens.jobs.index.GraphKnn;
import io.cnnlens.jobs.spark.BlockedKnn;
import io.cnnlens.jobs.spark.HadoopConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The audit's k nearest neighbours of every image in fc7 space by cosine distance (1 − cos),
 * searched one of two ways ({@link Method}): exactly by {@link BlockedKnn} as the neighbors job
 * searches (every pair of blocks is one matrix product on an executor, the partial top-k lists
 * merge by query block; n²·d for n images), or through a graph index built for the audit
 * ({@link GraphKnn}: about n·log n distance evaluations per shard, re-ranked exactly;
 * docs/audit.md#knn-by-graph), whose recall against exact search is measured on a sample.
 *
 * <p>Incremental (docs/audit.md#incremental-audits): the previous audit's lists (its {@code knn}
 * table) are kept for every image that is unchanged (same path, content and model) and whose k
 * neighbours are all still there unchanged. Such a list is the top k of the unchanged images, so
 * its new top k is the merge of the kept list with a search of the new or changed images only.
 * Every other image (new, changed, or one that lost a neighbour) is searched against all, and the
 * same products, read by column, give each kept image its nearest among them. Exact time: n²·d
 * multiply-adds for a first audit; |searched|·n·d for the next.
 * Keys are a hash of the path, the same in every run, so ties (exact copies) rank alike.
 */
final class AuditKnn {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AuditKnn.class);

    /** The rows the audit's checks read: (query_key, rank 1..k, neighbor_key, distance), self excluded. */
    static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("query_key", DataTypes.LongType, false),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("neighbor_key", DataTypes.LongType, false),
            DataTypes.createStructField("distance", DataTypes.FloatType, false)});

    /** The neighbours, how many images were searched against all, how many kept their lists, and whether a graph searched. */
    record Result(Dataset<Row> knn, long searched, long kept, boolean graph) {
    }

    /**
     * How lists are searched: {@code exact} (blocked products of {@code block} rows), {@code graph}
     * (an index in {@code work}: shards of at most {@code shardRows}, beam {@code ef}), or {@code auto}
     * (graph from {@code graphFrom} images). {@code cores}: the session's parallelism.
     */
    record Method(String name, int graphFrom, int block, int ef, int shardRows, int cores, String work, HadoopConf hadoop) {

        /** The names {@code --knn} takes (AuditOptions checks them). */
        static final List<String> NAMES = List.of("auto", "exact", "graph");
        /** A shard is not cut smaller than this to give every core one. */
        static final int MIN_SHARD_ROWS = 20_000;

        boolean graph(long n) {
            return name.equals("graph") || (name.equals("auto") && n >= graphFrom);
        }
    }

    private AuditKnn() {
    }

    /**
     * {@code images}: (key, path, image_id, model, fc7); {@code previous}: the previous audit's
     * {@code knn} table (path, image_id, model, rank, neighbor_path, neighbor_image_id, distance).
     */
    static Result search(SparkSession spark, Dataset<Row> images, Optional<Dataset<Row>> previous, int k, Method method) {
        long n = images.count();
        Searcher searcher = searcher(spark, method, n);
        int blockSize = method.block();
        // an image's identity as one long (path, content, model), so the joins below shuffle longs, not strings
        Dataset<Row> ids = images.select(col("key"), identity(col("path"), col("image_id"), col("model")).as("identity"))
                .persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> lists = spark.createDataFrame(List.of(), SCHEMA);
        Dataset<Row> kept = lists;
        Dataset<Row> keptKeys = spark.createDataFrame(List.of(), new StructType().add("key", DataTypes.LongType, false));
        if (previous.isPresent()) {
            // one audit's table has one model (a new model recomputes every features row)
            Dataset<Row> p = previous.get().where(col("rank").leq(k))
                    .select(identity(col("path"), col("image_id"), col("model")).as("query_identity"),
                            identity(col("neighbor_path"), col("neighbor_image_id"), col("model")).as("neighbor_identity"),
                            col("distance"));
            Dataset<Row> q = broadcast(ids.select(col("key").as("query_key"), col("identity").as("query_identity")));
            Dataset<Row> r = broadcast(ids.select(col("key").as("neighbor_key"), col("identity").as("neighbor_identity")));
            // each unchanged image's list, less the neighbours that are gone or changed
            lists = p.join(q, "query_identity").join(r, "neighbor_identity")
                    .select(col("query_key"), col("neighbor_key"), col("distance"))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            keptKeys = lists.groupBy("query_key").agg(count(lit(1)).as("n")).where(col("n").equalTo(k))
                    .select(col("query_key").as("key")).persist(StorageLevel.MEMORY_AND_DISK());
            kept = lists.join(broadcast(keptKeys.withColumnRenamed("key", "query_key")), "query_key");
        }
        long t = System.nanoTime();
        long nKept = previous.isPresent() ? keptKeys.count() : 0;
        LOG.info("kNN: {} lists kept in {} s", nKept, (System.nanoTime() - t) / 1e9);
        if (nKept == 0) {
            lists.unpersist();
            keptKeys.unpersist();
            ids.unpersist();
            Dataset<Row> knn = searcher.find(images, images, k);
            return new Result(knn, n, 0, searcher instanceof GraphSearcher);
        }
        // every image not kept (the new ones among them) against all, read both ways: their lists, and
        // each kept image's nearest among them, which merge into its kept list
        Dataset<Row> searched = images.join(broadcast(keptKeys), AuditJob.columns("key"), "left_anti");
        long nSearched = searched.count();
        Lists both = nSearched == 0 ? new Lists(spark.createDataFrame(List.of(), SCHEMA), spark.createDataFrame(List.of(), SCHEMA))
                : searcher.findBothWays(coalesced(searched, nSearched, blockSize), images, k, (int) Math.min(k, nSearched));
        LOG.info("kNN: {} images searched against all in {} s", nSearched, (System.nanoTime() - t) / 1e9);
        Dataset<Row> full = both.rows();
        Dataset<Row> fresh = both.columns().join(broadcast(keptKeys.withColumnRenamed("key", "query_key")), "query_key");
        // merge: the kept list and its candidates among the searched (an unchanged image that lost a
        // neighbour can be in both), ranked as ExactKnn ranks (distance, then key)
        Dataset<Row> merged = kept.select("query_key", "neighbor_key", "distance")
                .union(fresh.select("query_key", "neighbor_key", "distance"))
                .groupBy("query_key", "neighbor_key").agg(min("distance").as("distance"))
                .withColumn("rank", row_number().over(Window.partitionBy("query_key").orderBy(col("distance"), col("neighbor_key"))))
                .where(col("rank").leq(k))
                .select("query_key", "rank", "neighbor_key", "distance");
        Dataset<Row> knn = full.union(merged).persist(StorageLevel.MEMORY_AND_DISK());
        knn.count();
        LOG.info("kNN: lists merged after {} s", (System.nanoTime() - t) / 1e9);
        both.unpersist();
        lists.unpersist();
        keptKeys.unpersist();
        ids.unpersist();
        return new Result(knn, nSearched, nKept, searcher instanceof GraphSearcher);
    }

    /**
     * Each row's k nearest others among {@code vectors} (key, and the vector searched in a column
     * named fc7), searched as {@code method} says, with no earlier lists to keep: for vectors other
     * than fc7, such as the near-duplicates' thumbnails.
     */
    static Dataset<Row> all(SparkSession spark, Dataset<Row> vectors, int k, Method method) {
        return searcher(spark, method, vectors.count()).find(vectors, vectors, k);
    }

    /**
     * Each of {@code queries}' k nearest among {@code refs}, and each of {@code refs}' {@code kRefs}
     * nearest among {@code queries} (both: key, and the vector in a column named fc7), self excluded,
     * as rows of {@link #SCHEMA} with the searching row as query_key: for the new rows of a
     * collection against all, and all against them, in one pass of products when exact.
     */
    static Lists bothWays(SparkSession spark, Dataset<Row> queries, Dataset<Row> refs, int k, int kRefs, Method method) {
        long nQueries = queries.count();
        return searcher(spark, method, refs.count()).findBothWays(coalesced(queries, nQueries, method.block()), refs, k, kRefs);
    }

    /** The queries' lists and the references' lists of a search read both ways; persisted until {@link #unpersist}. */
    record Lists(Dataset<Row> rows, Dataset<Row> columns) {
        Dataset<Row> union() {
            return rows.union(columns);
        }

        void unpersist() {
            rows.unpersist();
            columns.unpersist();
        }
    }

    private static Searcher searcher(SparkSession spark, Method method, long n) {
        return method.graph(n) ? new GraphSearcher(spark, method) : new BlockedSearcher(spark, method.block());
    }

    /** The table a later audit reuses: each image's neighbours by path, content and model. */
    static Dataset<Row> table(Dataset<Row> knn, Dataset<Row> images) {
        Dataset<Row> q = images.select(col("key").as("query_key"), col("path"), col("image_id"), col("model"));
        Dataset<Row> r = images.select(col("key").as("neighbor_key"), col("path").as("neighbor_path"),
                col("image_id").as("neighbor_image_id"));
        return knn.join(q, "query_key").join(r, "neighbor_key")
                .select("path", "image_id", "model", "rank", "neighbor_path", "neighbor_image_id", "distance");
    }

    private static org.apache.spark.sql.Column identity(org.apache.spark.sql.Column path, org.apache.spark.sql.Column imageId,
                                                        org.apache.spark.sql.Column model) {
        return xxhash64(path, imageId, model);
    }

    private static Dataset<Row> coalesced(Dataset<Row> rows, long n, int blockSize) {
        int parts = (int) Math.max(1, Math.min(rows.rdd().getNumPartitions(), (n + blockSize - 1) / blockSize));
        return rows.coalesce(parts);
    }

    /** Finds each query's k nearest references (both with key and fc7), self excluded, as rows of {@link #SCHEMA}; persisted. */
    private interface Searcher {
        Dataset<Row> find(Dataset<Row> queries, Dataset<Row> refs, int k);

        /** {@link #find} of the queries in the references, and of the references' {@code kRefs} nearest in the queries. */
        default Lists findBothWays(Dataset<Row> queries, Dataset<Row> refs, int k, int kRefs) {
            return new Lists(find(queries, refs, k), find(refs, queries, kRefs));
        }
    }

    /** Exact search by blocked matrix products. */
    private record BlockedSearcher(SparkSession spark, int blockSize) implements Searcher {
        @Override
        public Dataset<Row> find(Dataset<Row> queries, Dataset<Row> refs, int k) {
            return blocked(spark, queries, refs, k, blockSize);
        }

        @Override
        public Lists findBothWays(Dataset<Row> queries, Dataset<Row> refs, int k, int kRefs) {
            JavaRDD<BlockedKnn.Block> qb = blocks(queries, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
            JavaRDD<BlockedKnn.Block> rb = blocks(refs, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
            BlockedKnn.BothWays found = BlockedKnn.searchBothWays(qb, rb, k, kRefs, ExactKnn.Metric.COSINE);
            Lists lists = new Lists(rows(spark, found.rows()), rows(spark, found.columns()));
            found.unpersist();
            qb.unpersist();
            rb.unpersist();
            return lists;
        }
    }

    /** A graph index over the references, built in a work folder that is removed once the lists are materialised. */
    private record GraphSearcher(SparkSession spark, Method method) implements Searcher {
        @Override
        public Dataset<Row> find(Dataset<Row> queries, Dataset<Row> refs, int k) {
            long nRefs = refs.count();
            GraphKnn.Settings settings = new GraphKnn.Settings(GraphKnn.shards(nRefs, method.shardRows(), method.cores(), Method.MIN_SHARD_ROWS),
                    method.ef(), GraphParams.DEFAULT);
            String work = GraphKnn.workFolder(method.work(), "knn");
            try {
                JavaRDD<Row> q = queries.select("key", "fc7").javaRDD();
                JavaRDD<Row> rows = GraphKnn.search(q.repartition(Math.max(method.cores(), q.getNumPartitions())),
                        refs.select("key", "fc7").javaRDD(), k, Metric.COSINE, settings, work, method.hadoop());
                Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
                df.count();
                return df;
            } finally {
                remove(work, method.hadoop());
            }
        }
    }

    /**
     * Recall@k of {@code knn} against exact search for a seeded sample of at most {@code sample}
     * images, each searched exactly against all (sample·n·d): per sampled image, how many of its
     * listed neighbours lie within its exact k-th distance (1e-5 of slack for float rounding, so
     * a tie at the k-th distance counts either way), at most k, over k.
     */
    static double recall(SparkSession spark, Dataset<Row> knn, Dataset<Row> images, int k, int sample, long seed, int blockSize) {
        long n = images.count();
        Dataset<Row> queries = images.orderBy(xxhash64(col("key"), lit(seed))).limit((int) Math.min(sample, n)).coalesce(1);
        Dataset<Row> exact = blocked(spark, queries, images, k, blockSize);
        Dataset<Row> kth = exact.groupBy("query_key").agg(max("distance").as("kth"), count(lit(1)).as("want"));
        Row r = knn.join(kth, "query_key").groupBy("query_key")
                .agg(first("want").as("want"), count(when(col("distance").leq(col("kth").plus(1e-5)), 1)).as("hits"))
                .agg(sum("want"), sum(least(col("hits"), col("want"))))
                .first();
        exact.unpersist();
        return r.isNullAt(0) || r.getLong(0) == 0 ? 1.0 : r.getLong(1) / (double) r.getLong(0);
    }

    private static void remove(String dir, HadoopConf hadoop) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
            p.getFileSystem(hadoop.get()).delete(p, true);
        } catch (java.io.IOException e) {
            // a left-over work folder only costs space; the next audit's run folder is another
        }
    }

    /** Exact search of {@code queries} in {@code refs} (both with key and fc7). */
    private static Dataset<Row> blocked(SparkSession spark, Dataset<Row> queries, Dataset<Row> refs, int k, int blockSize) {
        JavaRDD<BlockedKnn.Block> qb = blocks(queries, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<BlockedKnn.Block> rb = queries == refs ? qb : blocks(refs, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> df = rows(spark, BlockedKnn.search(qb, rb, k, ExactKnn.Metric.COSINE));
        qb.unpersist();
        rb.unpersist();
        return df;
    }

    /** Found lists as rows of {@link #SCHEMA}, materialised (persisted). */
    private static Dataset<Row> rows(SparkSession spark, JavaRDD<BlockedKnn.Neighbours> found) {
        JavaRDD<Row> rows = found.flatMap(n -> {
            List<Row> out = new ArrayList<>();
            n.forEach((query, rank, neighbour, distance) -> out.add(RowFactory.create(query, rank, neighbour, distance)));
            return out.iterator();
        });
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
        df.count();
        return df;
    }

    private static JavaRDD<BlockedKnn.Block> blocks(Dataset<Row> rows, int blockSize) {
        return BlockedKnn.blocks(rows.select("key", "fc7").javaRDD(), blockSize, r -> r.getLong(0), r -> io.cnnlens.jobs.spark.VectorColumn.floats(r.getList(1)));
    }
}
