package io.cnnlens.tests;

import io.cnnlens.index.GraphParams;
import io.cnnlens.index.Metric;
import io.cnnlens.jobs.index.GraphKnn;
import io.cnnlens.jobs.spark.HadoopConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GraphKnn} (the audit's graph search) against brute force in double precision: clustered
 * vectors with exact copies, in one shard and in three, a zero vector among them.
 */
class GraphKnnTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void graphListsMatchBruteForceInOneShardAndInThree() {
        int n = 3000;
        int d = 48;
        int k = 10;
        Random rnd = new Random(7);
        float[][] centres = new float[30][d];
        for (float[] c : centres) {
            for (int j = 0; j < d; j++) {
                c[j] = (float) rnd.nextGaussian();
            }
        }
        float[][] x = new float[n][d];
        for (int i = 0; i < n; i++) {
            float[] c = centres[rnd.nextInt(centres.length)];
            for (int j = 0; j < d; j++) {
                x[i][j] = c[j] + 0.4f * (float) rnd.nextGaussian();
            }
        }
        for (int i = 0; i < 20; i++) {
            x[n - 1 - i] = x[i].clone(); // exact copies: distance 0, each the other's first neighbour
        }
        x[1500] = new float[d]; // no direction: distance 1 to everything, as the exact search defines it
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Float> v = new ArrayList<>();
            for (float f : x[i]) {
                v.add(f);
            }
            rows.add(RowFactory.create(1000L + i * 7L, v)); // keys other than row numbers
        }
        JavaRDD<Row> rdd = spark.createDataFrame(rows, new StructType().add("key", DataTypes.LongType, false)
                .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), false)).javaRDD().repartition(4);
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        assertEquals(1, GraphKnn.shards(n, 500_000, 2, 20_000), "small sets are one shard");
        assertEquals(2, GraphKnn.shards(60_000, 500_000, 2, 20_000), "one shard per core when shards keep 20,000");
        assertEquals(3, GraphKnn.shards(1_200_000, 500_000, 2, 20_000), "at most shard-rows per shard");

        for (int shards : new int[] {1, 3}) {
            List<Row> got = GraphKnn.search(rdd, rdd, k, Metric.COSINE, new GraphKnn.Settings(shards, 64, GraphParams.DEFAULT),
                    tmp.resolve("g" + shards).toString(), hadoop).collect();
            Map<Long, List<Row>> lists = new HashMap<>();
            for (Row r : got) {
                lists.computeIfAbsent(r.getLong(0), q -> new ArrayList<>()).add(r);
            }
            assertEquals(n, lists.size(), "every query has a list");
            long want = 0;
            long hits = 0;
            for (int i = 0; i < n; i++) {
                long key = 1000L + i * 7L;
                List<Row> list = lists.get(key);
                list.sort(java.util.Comparator.comparingInt(r -> r.getInt(1)));
                assertEquals(k, list.size());
                double[] exact = new double[n - 1];
                int m = 0;
                for (int j = 0; j < n; j++) {
                    if (j != i) {
                        exact[m++] = Metric.COSINE.exact(x[i], x[j]);
                    }
                }
                Arrays.sort(exact);
                double kth = exact[k - 1];
                float prev = -1;
                for (int r = 0; r < k; r++) {
                    Row row = list.get(r);
                    assertEquals(r + 1, row.getInt(1), "ranks 1..k");
                    assertNotEquals(key, row.getLong(2), "never its own neighbour");
                    int j = (int) ((row.getLong(2) - 1000L) / 7L);
                    assertEquals(Metric.COSINE.exact(x[i], x[j]), row.getFloat(3), 1e-6, "distances re-ranked exactly");
                    assertTrue(row.getFloat(3) >= prev, "nearest first");
                    prev = row.getFloat(3);
                    hits += row.getFloat(3) <= kth + 1e-6 ? 1 : 0;
                }
                want += k;
                if (i < 20) {
                    assertEquals(key + (long) (n - 1 - 2 * i) * 7L, list.get(0).getLong(2), "an exact copy is the first neighbour");
                    assertEquals(0f, list.get(0).getFloat(3), 1e-6f);
                }
            }
            double recall = hits / (double) want;
            System.out.printf("graph kNN: %d shard(s), recall@%d against brute force %.4f%n", shards, k, recall);
            assertTrue(recall >= 0.98, shards + " shards: recall " + recall);
        }
    }
}
