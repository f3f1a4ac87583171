package io.cnnlens.jobs.audit;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.jobs.spark.BlockedKnn;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The audit's exact k nearest neighbours of every image in fc7 space by cosine distance
 * (1 − cos), by {@link BlockedKnn} as the neighbors job searches: every pair of blocks is one
 * matrix product on an executor, and the partial top-k lists merge by query block. Memory per task: two blocks and their product (block² floats); time
 * n²·d multiply-adds in all, spread over the cluster. The index does not enter: results are exact.
 */
final class AuditKnn {

    static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("query_key", DataTypes.LongType, false),
            DataTypes.createStructField("rank", DataTypes.IntegerType, false),
            DataTypes.createStructField("neighbor_key", DataTypes.LongType, false),
            DataTypes.createStructField("distance", DataTypes.FloatType, false)});

    record Item(long key, float[] v) implements Serializable {
    }

    private AuditKnn() {
    }

    /** {@code items}: (key, fc7); the rows (query_key, rank 1..k, neighbor_key, distance), self excluded. */
    static Dataset<Row> search(SparkSession spark, JavaRDD<Item> items, int k, int blockSize) {
        JavaRDD<BlockedKnn.Block> blocks = BlockedKnn.blocks(items, blockSize, Item::key, Item::v)
                .persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<Row> rows = BlockedKnn.search(blocks, blocks, k, ExactKnn.Metric.COSINE).flatMap(n -> {
            List<Row> out = new ArrayList<>();
            n.forEach((query, rank, neighbour, distance) -> out.add(RowFactory.create(query, rank, neighbour, distance)));
            return out.iterator();
        });
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
        df.count();
        blocks.unpersist();
        return df;
    }
}
