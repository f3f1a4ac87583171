import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.jobs.spark.BlockedKnn;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Cross-check of the bench's ground truth (exact.py, numpy in float64) against the project's own
 * exact search, BlockedKnn on local Spark (the neighbors and audit jobs' kNN): every query's top
 * 10 among the base vectors by L2, compared as sets with the .ivecs file. Blocks are made on the
 * driver (a single-file program's lambdas cannot reach executors). Prints the share of the top-10
 * members the two agree on and the queries whose lists agree entirely.
 * Usage: java -cp <cnnlens classpath> BlockedGroundTruth.java base.fvecs queries.fvecs gt.ivecs [block rows]
 */
public class BlockedGroundTruth {
    static float[] fvecs(String p, int[] shape) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(p))).order(ByteOrder.LITTLE_ENDIAN);
        int d = b.getInt(0);
        int n = b.capacity() / (4 * (d + 1));
        float[] v = new float[n * d];
        for (int i = 0; i < n; i++) {
            b.getInt();
            for (int j = 0; j < d; j++) v[i * d + j] = b.getFloat();
        }
        shape[0] = n;
        shape[1] = d;
        return v;
    }

    static List<BlockedKnn.Block> blocks(float[] v, int n, int d, int size, long keyOffset) {
        List<BlockedKnn.Block> out = new ArrayList<>();
        for (int from = 0, id = 0; from < n; from += size, id++) {
            int m = Math.min(size, n - from);
            long[] keys = new long[m];
            for (int i = 0; i < m; i++) keys[i] = keyOffset + from + i;
            float[] data = new float[m * d];
            System.arraycopy(v, from * d, data, 0, m * d);
            out.add(new BlockedKnn.Block(id, keys, data, d));
        }
        return out;
    }

    public static void main(String[] a) throws Exception {
        int[] bs = new int[2], qs = new int[2];
        float[] base = fvecs(a[0], bs);
        float[] queries = fvecs(a[1], qs);
        int size = a.length > 3 ? Integer.parseInt(a[3]) : 2048;
        ByteBuffer g = ByteBuffer.wrap(Files.readAllBytes(Path.of(a[2]))).order(ByteOrder.LITTLE_ENDIAN);
        int gk = g.getInt(0);
        SparkSession spark = SparkSession.builder().master("local[2]").appName("blocked-gt").config("spark.ui.enabled", "false").getOrCreate();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long t0 = System.nanoTime();
        // query keys start at 10^9 so that no query is taken for a base vector
        JavaRDD<BlockedKnn.Block> qb = jsc.parallelize(blocks(queries, qs[0], qs[1], size, 1_000_000_000L), 8);
        JavaRDD<BlockedKnn.Block> rb = jsc.parallelize(blocks(base, bs[0], bs[1], size, 0), 8);
        List<BlockedKnn.Neighbours> found = BlockedKnn.search(qb, rb, 10, ExactKnn.Metric.L2).collect();
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<Set<Long>> lists = new ArrayList<>();
        for (int i = 0; i < qs[0]; i++) lists.add(new HashSet<>());
        for (BlockedKnn.Neighbours nb : found) {
            nb.forEach((query, rank, neighbour, distance) -> lists.get((int) (query - 1_000_000_000L)).add(neighbour));
        }
        double agree = 0;
        int same = 0;
        for (int q = 0; q < qs[0]; q++) {
            int c = 0;
            for (int j = 0; j < 10; j++) {
                if (lists.get(q).contains((long) g.getInt(4 * ((gk + 1) * q + 1 + j)))) c++;
            }
            agree += c / 10.0;
            same += c == 10 ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "blocked exact kNN (%d queries x %d, blocks of %d, %.1f s) against %s: top-10 members in common %.5f, identical lists %d of %d%n",
                qs[0], bs[0], size, seconds, a[2], agree / qs[0], same, qs[0]);
        spark.stop();
    }
}
