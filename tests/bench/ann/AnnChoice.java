import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.BuildScoreProvider;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomAccessVectorValues;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;

/**
 * Choosing the ANN library by measurement: JVector's graph against Lucene's HNSW, same vectors,
 * same machine, one process, rounds alternated. Build time (threads as given), then single-thread
 * queries/s and recall@10 at a sweep of search beam widths (ef). Both give layer-0 degree 2M.
 * Usage: java -cp <jvector, lucene-core, agrona, commons-math3> AnnChoice.java base.fvecs queries.fvecs gt.ivecs M efC threads nq
 */
public class AnnChoice {
    static float[][] fvecs(String p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(p))).order(ByteOrder.LITTLE_ENDIAN);
        int d = b.getInt(0);
        int n = b.capacity() / (4 * (d + 1));
        float[][] v = new float[n][d];
        for (int i = 0; i < n; i++) {
            b.getInt();
            for (int j = 0; j < d; j++) v[i][j] = b.getFloat();
        }
        return v;
    }

    static int[][] ivecs(String p) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(p))).order(ByteOrder.LITTLE_ENDIAN);
        int d = b.getInt(0);
        int n = b.capacity() / (4 * (d + 1));
        int[][] v = new int[n][d];
        for (int i = 0; i < n; i++) {
            b.getInt();
            for (int j = 0; j < d; j++) v[i][j] = b.getInt();
        }
        return v;
    }

    static double recall(int[] got, int[] truth) {
        Set<Integer> t = new HashSet<>();
        for (int i = 0; i < 10; i++) t.add(truth[i]);
        int hit = 0;
        for (int i = 0; i < Math.min(10, got.length); i++) if (t.contains(got[i])) hit++;
        return hit / 10.0;
    }

    static String load() throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc/loadavg"))).split(" ")[0];
    }

    public static void main(String[] a) throws Exception {
        float[][] base = fvecs(a[0]);
        float[][] queries = fvecs(a[1]);
        int[][] gt = ivecs(a[2]);
        int m = Integer.parseInt(a[3]);
        int efc = Integer.parseInt(a[4]);
        int threads = Integer.parseInt(a[5]);
        int nq = Math.min(queries.length, Integer.parseInt(a[6]));
        int d = base[0].length;
        int[] efs = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256};
        System.out.printf(Locale.ROOT, "# %d base x %d dims, %d queries, M=%d efC=%d, build threads %d, java %s%n",
                base.length, d, nq, m, efc, threads, System.getProperty("java.version"));

        VectorTypeSupport vts = VectorizationProvider.getInstance().getVectorTypeSupport();
        List<VectorFloat<?>> jv = new ArrayList<>();
        for (float[] v : base) jv.add(vts.createFloatVector(v));
        ListRandomAccessVectorValues jravv = new ListRandomAccessVectorValues(jv, d);
        List<float[]> lv = new ArrayList<>(List.of(base));
        RandomAccessVectorValues.Floats lravv = RandomAccessVectorValues.fromFloats(lv, d);

        ImmutableGraphIndex jgraph = null;
        OnHeapHnswGraph lgraph = null;
        for (int round = 0; round < 2; round++) {
            long t = System.nanoTime();
            ForkJoinPool pool = new ForkJoinPool(threads);
            GraphIndexBuilder builder = new GraphIndexBuilder(
                    BuildScoreProvider.randomAccessScoreProvider(jravv, io.github.jbellis.jvector.vector.VectorSimilarityFunction.EUCLIDEAN),
                    d, 2 * m, efc, 1.2f, 1.2f, true, true, pool, pool);
            jgraph = builder.build(jravv);
            double js = (System.nanoTime() - t) / 1e9;
            pool.shutdown();
            t = System.nanoTime();
            RandomVectorScorerSupplier sup = DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorerSupplier(VectorSimilarityFunction.EUCLIDEAN, lravv);
            HnswGraphBuilder lb = HnswGraphBuilder.create(sup, m, efc, 42);
            if (threads > 1) {
                // Lucene's concurrent merger is the multi-threaded path; keep the plain builder single-threaded for a fair note
            }
            lgraph = lb.build(base.length);
            double ls = (System.nanoTime() - t) / 1e9;
            System.out.printf(Locale.ROOT, "build round %d: jvector %.1f s (%d threads), lucene %.1f s (1 thread), load %s%n",
                    round, js, threads, ls, load());
        }
        System.out.println("ef\tjvector_recall\tjvector_qps\tlucene_recall\tlucene_qps\tload");
        try (GraphSearcher searcher = new GraphSearcher(jgraph)) {
            for (int ef : efs) {
                double jr = 0, lr = 0;
                long jt = 0, lt = 0;
                for (int rep = 0; rep < 2; rep++) { // alternate: rep 0 warms up, rep 1 is measured
                    jr = 0; lr = 0;
                    long t = System.nanoTime();
                    for (int q = 0; q < nq; q++) {
                        VectorFloat<?> qv = vts.createFloatVector(queries[q]);
                        SearchResult r = searcher.search(DefaultSearchScoreProvider.exact(qv,
                                io.github.jbellis.jvector.vector.VectorSimilarityFunction.EUCLIDEAN, jravv), 10, ef, 0f, 0f, Bits.ALL);
                        SearchResult.NodeScore[] ns = r.getNodes();
                        int[] got = new int[ns.length];
                        for (int i = 0; i < ns.length; i++) got[i] = ns[i].node;
                        jr += recall(got, gt[q]);
                    }
                    jt = System.nanoTime() - t;
                    t = System.nanoTime();
                    for (int q = 0; q < nq; q++) {
                        TopKnnCollector c = new TopKnnCollector(ef, Integer.MAX_VALUE);
                        HnswGraphSearcher.search(DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(VectorSimilarityFunction.EUCLIDEAN,
                                lravv, queries[q]), c, lgraph, null);
                        ScoreDoc[] sd = c.topDocs().scoreDocs;
                        int[] got = new int[Math.min(10, sd.length)];
                        for (int i = 0; i < got.length; i++) got[i] = sd[i].doc;
                        lr += recall(got, gt[q]);
                    }
                    lt = System.nanoTime() - t;
                }
                System.out.printf(Locale.ROOT, "%d\t%.4f\t%.0f\t%.4f\t%.0f\t%s%n", ef, jr / nq, nq / (jt / 1e9), lr / nq, nq / (lt / 1e9), load());
            }
        }
    }
}
