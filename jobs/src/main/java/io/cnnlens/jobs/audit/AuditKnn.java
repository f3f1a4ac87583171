package io.cnnlens.jobs.audit;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.model.TorchRuntime;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The audit's exact k nearest neighbours of every image in fc7 space by cosine distance
 * (1 − cos), blocked as the neighbors job does: the rows are cut into blocks, every pair of
 * blocks is one matrix product on an executor ({@link ExactKnn}), and the partial top-k lists
 * merge by query block. Memory per task: two blocks and their product (block² floats); time
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

    record Block(int id, long[] keys, float[] data, int d) implements Serializable {
    }

    private AuditKnn() {
    }

    /** {@code items}: (key, fc7); the rows (query_key, rank 1..k, neighbor_key, distance), self excluded. */
    static Dataset<Row> search(SparkSession spark, JavaRDD<Item> items, int k, int blockSize) {
        JavaRDD<Block> blocks = blocks(items, blockSize).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<Row> rows = blocks.cartesian(blocks)
                .mapToPair(p -> {
                    TorchRuntime.setIntraOpThreads(ExecutorRuntime.taskCpus());
                    Block q = p._1();
                    Block r = p._2();
                    return new Tuple2<>(q.id(), new Tuple2<>(q.keys(),
                            ExactKnn.search(q.data(), q.keys(), r.data(), r.keys(), q.d(), k, ExactKnn.Metric.COSINE)));
                })
                .reduceByKey((a, b) -> new Tuple2<>(a._1(), a._2().merge(b._2())))
                .flatMap(t -> {
                    long[] keys = t._2()._1();
                    ExactKnn.Result res = t._2()._2();
                    List<Row> out = new ArrayList<>();
                    for (int i = 0; i < keys.length; i++) {
                        for (int rank = 0; rank < k; rank++) {
                            if (res.key(i, rank) >= 0) {
                                out.add(RowFactory.create(keys[i], rank + 1, res.key(i, rank), res.distance(i, rank)));
                            }
                        }
                    }
                    return out.iterator();
                });
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA).persist(StorageLevel.MEMORY_AND_DISK());
        df.count();
        blocks.unpersist();
        return df;
    }

    private static JavaRDD<Block> blocks(JavaRDD<Item> items, int size) {
        return items.mapPartitionsWithIndex((part, it) -> {
            List<Block> out = new ArrayList<>();
            List<Item> chunk = new ArrayList<>(size);
            while (it.hasNext()) {
                chunk.add(it.next());
                if (chunk.size() == size || !it.hasNext()) {
                    out.add(block(part * 1_000_000 + out.size(), chunk));
                    chunk.clear();
                }
            }
            return out.iterator();
        }, true);
    }

    private static Block block(int id, List<Item> list) {
        int d = list.get(0).v().length;
        long[] keys = new long[list.size()];
        float[] data = new float[list.size() * d];
        for (int i = 0; i < list.size(); i++) {
            float[] v = list.get(i).v();
            if (v.length != d) {
                throw new IllegalArgumentException("fc7 vectors of different lengths (" + v.length + " and " + d + ")");
            }
            keys[i] = list.get(i).key();
            System.arraycopy(v, 0, data, i * d, d);
        }
        return new Block(id, keys, data, d);
    }
}
