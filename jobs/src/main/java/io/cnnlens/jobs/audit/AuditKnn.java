package io.cnnlens.jobs.audit;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.jobs.spark.BlockedKnn;
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
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The audit's exact k nearest neighbours of every image in fc7 space by cosine distance
 * (1 − cos), by {@link BlockedKnn} as the neighbors job searches: every pair of blocks is one
 * matrix product on an executor, and the partial top-k lists merge by query block. Memory per
 * task: two blocks and their product (block² floats). The index does not enter: results are exact.
 *
 * <p>Incremental (docs/audit.md#incremental-audits): the previous audit's lists (its {@code knn}
 * table) are kept for every image that is unchanged (same path, content and model) and whose k
 * neighbours are all still there unchanged. Such a list is the top k of the unchanged images, so
 * its new top k is the merge of the kept list with a search of the new or changed images only.
 * Every other image (new, changed, or one that lost a neighbour) is searched against all. Time:
 * n²·d multiply-adds for a first audit; |searched|·n·d + |kept|·|new|·d for the next.
 * Keys are a hash of the path, the same in every run, so ties (exact copies) rank alike.
 */
final class AuditKnn {

    /** The rows the audit's checks read: (query_key, rank 1..k, neighbor_key, distance), self excluded. */
    static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("query_key", DataTypes.LongType, false),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("neighbor_key", DataTypes.LongType, false),
            DataTypes.createStructField("distance", DataTypes.FloatType, false)});

    /** The neighbours and how many images were searched against all, and how many kept their lists. */
    record Result(Dataset<Row> knn, long searched, long kept) {
    }

    private AuditKnn() {
    }

    /**
     * {@code images}: (key, path, image_id, model, fc7); {@code previous}: the previous audit's
     * {@code knn} table (path, image_id, model, rank, neighbor_path, neighbor_image_id, distance).
     */
    static Result search(SparkSession spark, Dataset<Row> images, Optional<Dataset<Row>> previous, int k, int blockSize) {
        // an image's identity as one long (path, content, model), so the joins below shuffle longs, not strings
        Dataset<Row> ids = images.select(col("key"), identity(col("path"), col("image_id"), col("model")).as("identity"))
                .persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> lists = spark.createDataFrame(List.of(), SCHEMA);
        Dataset<Row> kept = lists;
        Dataset<Row> keptKeys = spark.createDataFrame(List.of(), new StructType().add("key", DataTypes.LongType, false));
        Dataset<Row> added = images;
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
            Dataset<Row> before = p.select(col("query_identity").as("identity")).distinct();
            added = images.join(ids.join(before, "identity", "left_anti").select("key"), "key");
        }
        long nKept = previous.isPresent() ? keptKeys.count() : 0;
        if (nKept == 0) {
            lists.unpersist();
            keptKeys.unpersist();
            ids.unpersist();
            Dataset<Row> knn = blocked(spark, images, images, k, blockSize);
            return new Result(knn, images.count(), 0);
        }
        Dataset<Row> searched = images.join(broadcast(keptKeys), AuditJob.columns("key"), "left_anti");
        long nSearched = searched.count();
        Dataset<Row> full = nSearched == 0 ? spark.createDataFrame(List.of(), SCHEMA)
                : blocked(spark, coalesced(searched, nSearched, blockSize), images, k, blockSize);
        long nAdded = added.count();
        Dataset<Row> fresh = nAdded == 0 ? spark.createDataFrame(List.of(), SCHEMA)
                : blocked(spark, images.join(broadcast(keptKeys), "key"), coalesced(added, nAdded, blockSize), k, blockSize);
        // merge: the kept list and the new images' candidates, ranked as ExactKnn ranks (distance, then key)
        Dataset<Row> merged = kept.select("query_key", "neighbor_key", "distance")
                .union(fresh.select("query_key", "neighbor_key", "distance"))
                .withColumn("rank", row_number().over(Window.partitionBy("query_key").orderBy(col("distance"), col("neighbor_key"))))
                .where(col("rank").leq(k))
                .select("query_key", "rank", "neighbor_key", "distance");
        Dataset<Row> knn = full.union(merged).persist(StorageLevel.MEMORY_AND_DISK());
        knn.count();
        full.unpersist();
        fresh.unpersist();
        lists.unpersist();
        keptKeys.unpersist();
        ids.unpersist();
        return new Result(knn, nSearched, nKept);
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

    /** Exact search of {@code queries} in {@code refs} (both with key and fc7). */
    private static Dataset<Row> blocked(SparkSession spark, Dataset<Row> queries, Dataset<Row> refs, int k, int blockSize) {
        JavaRDD<BlockedKnn.Block> qb = blocks(queries, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<BlockedKnn.Block> rb = queries == refs ? qb : blocks(refs, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<Row> rows = BlockedKnn.search(qb, rb, k, ExactKnn.Metric.COSINE).flatMap(n -> {
            List<Row> out = new ArrayList<>();
            n.forEach((query, rank, neighbour, distance) -> out.add(RowFactory.create(query, rank, neighbour, distance)));
            return out.iterator();
        });
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
        df.count();
        qb.unpersist();
        rb.unpersist();
        return df;
    }

    private static JavaRDD<BlockedKnn.Block> blocks(Dataset<Row> rows, int blockSize) {
        return BlockedKnn.blocks(rows.select("key", "fc7").javaRDD(), blockSize, r -> r.getLong(0), r -> AuditJob.floats(r.getList(1)));
    }
}
