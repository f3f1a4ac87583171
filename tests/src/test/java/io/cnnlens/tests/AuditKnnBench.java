package io.cnnlens.tests;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.index.GraphParams;
import io.cnnlens.index.Metric;
import io.cnnlens.jobs.index.GraphKnn;
import io.cnnlens.jobs.spark.BlockedKnn;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the audit's kNN step grows with n (bench profile): the exact blocked search and the graph
 * search (GraphKnn, as {@code audit --knn graph} runs them for a first audit: k = 10, cosine,
 * shards by the cores, beam 64) over a features table's fc7 grown to each size with seeded noisy
 * copies (0.25 × each coordinate's standard deviation), alternating which runs first; prints
 * seconds, their ratio and the graph's recall@10 against the exact lists on 1,000 queries.
 * Run: {@code mvn -B -Pbench -pl tests -am verify -Dtest=AuditKnnBench
 * -Dcnnlens.bench.knn.features=<features out> [-Dcnnlens.bench.knn.sizes=35000,70000,140000]
 * [-Dcnnlens.bench.knn.rounds=1]}.
 */
@Tag("bench")
class AuditKnnBench extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void exactAgainstGraphAsNGrows() {
        String features = System.getProperty("cnnlens.bench.knn.features");
        assertTrue(features != null, "-Dcnnlens.bench.knn.features=<a features job's out folder>");
        int rounds = Integer.getInteger("cnnlens.bench.knn.rounds", 1);
        int ef = Integer.getInteger("cnnlens.bench.knn.ef", 64);
        int efc = Integer.getInteger("cnnlens.bench.knn.efc", GraphParams.DEFAULT.efConstruction());
        int k = 10;
        List<Row> base = TableReader.table(spark, features, "features").orElseThrow().select("fc7").collectAsList();
        int d = base.get(0).getList(0).size();
        float[][] x0 = new float[base.size()][];
        double[] sd = new double[d];
        double[] mean = new double[d];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = io.cnnlens.jobs.spark.VectorColumn.floats(base.get(i).getList(0));
            for (int j = 0; j < d; j++) {
                mean[j] += x0[i][j] / x0.length;
            }
        }
        for (float[] v : x0) {
            for (int j = 0; j < d; j++) {
                sd[j] += (v[j] - mean[j]) * (v[j] - mean[j]) / x0.length;
            }
        }
        int cores = spark.sparkContext().defaultParallelism();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        for (String size : System.getProperty("cnnlens.bench.knn.sizes", "35000,70000,140000").split(",")) {
            int n = Integer.parseInt(size.trim());
            List<Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                float[] src = x0[i % x0.length];
                List<Float> v = new ArrayList<>(d);
                Random rnd = new Random(31L * i + 7);
                for (int j = 0; j < d; j++) {
                    v.add(i < x0.length ? src[j] : (float) (src[j] + 0.25 * Math.sqrt(sd[j]) * rnd.nextGaussian()));
                }
                rows.add(RowFactory.create((long) i, v));
            }
            Dataset<Row> df = spark.createDataFrame(rows, new StructType().add("key", DataTypes.LongType, false)
                    .add("fc7", DataTypes.createArrayType(DataTypes.FloatType, false), false)).repartition(cores)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            df.count();
            rows = null;
            for (int r = 0; r < rounds; r++) {
                double exactSeconds = 0;
                double graphSeconds = 0;
                Map<Long, float[]> exactKth = null;
                Map<Long, List<Float>> graphLists = null;
                for (int turn = 0; turn < 2; turn++) {
                    boolean graph = (turn + r) % 2 == 1;
                    long t0 = System.nanoTime();
                    if (graph) {
                        JavaRDD<Row> lists = GraphKnn.search(df.javaRDD(), df.javaRDD(), k, Metric.COSINE,
                                new GraphKnn.Settings(GraphKnn.shards(n, 500_000, cores, 20_000), ef,
                                        new GraphParams(16, efc, GraphParams.DEFAULT.alpha(), GraphParams.DEFAULT.overflow())),
                                tmp.resolve("g" + n + "-" + r).toString(), hadoop).persist(StorageLevel.MEMORY_AND_DISK());
                        lists.count();
                        graphSeconds = (System.nanoTime() - t0) / 1e9;
                        graphLists = new HashMap<>();
                        for (Row l : lists.filter(l -> l.getLong(0) % 97 == 0).collect()) {
                            graphLists.computeIfAbsent(l.getLong(0), q -> new ArrayList<>()).add(l.getFloat(3));
                        }
                        lists.unpersist();
                    } else {
                        JavaRDD<BlockedKnn.Block> blocks = BlockedKnn.blocks(df.javaRDD(), 2048, l -> l.getLong(0),
                                l -> io.cnnlens.jobs.spark.VectorColumn.floats(l.getList(1))).persist(StorageLevel.MEMORY_AND_DISK());
                        JavaRDD<BlockedKnn.Neighbours> found = BlockedKnn.search(blocks, blocks, k, ExactKnn.Metric.COSINE)
                                .persist(StorageLevel.MEMORY_AND_DISK());
                        found.count();
                        exactSeconds = (System.nanoTime() - t0) / 1e9;
                        exactKth = new HashMap<>();
                        for (BlockedKnn.Neighbours nb : found.collect()) {
                            for (int i = 0; i < nb.keys().length; i++) {
                                if (nb.keys()[i] % 97 == 0) {
                                    exactKth.put(nb.keys()[i], new float[] {nb.result().distance(i, k - 1)});
                                }
                            }
                        }
                        found.unpersist();
                        blocks.unpersist();
                    }
                }
                long want = 0;
                long hits = 0;
                for (Map.Entry<Long, float[]> e : exactKth.entrySet()) {
                    float kth = e.getValue()[0];
                    want += k;
                    hits += Math.min(k, graphLists.getOrDefault(e.getKey(), List.of()).stream().filter(v -> v <= kth + 1e-5).count());
                }
                double recall = hits / (double) want;
                System.out.printf(Locale.ROOT, "audit knn bench: n %d, d %d, round %d (%s first): exact %.1f s, graph %.1f s "
                                + "(shards %d, ef %d, efC %d), graph/exact %.3f, graph recall@%d %.4f on %d queries; load %s%n",
                        n, d, r, r % 2 == 0 ? "exact" : "graph", exactSeconds, graphSeconds, GraphKnn.shards(n, 500_000, cores, 20_000), ef, efc,
                        graphSeconds / exactSeconds, k, recall, exactKth.size(), AuditBench.load());
                assertTrue(recall > 0.9, "graph recall " + recall);
            }
            df.unpersist();
        }
    }
}
