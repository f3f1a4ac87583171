import io.cnnlens.index.GraphParams;
import io.cnnlens.index.GraphShard;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Item;
import io.cnnlens.index.Metric;
import io.cnnlens.index.ShardedSearch;

import io.github.jbellis.jvector.disk.MappedChunkReader;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.disk.OnDiskGraphIndex;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * cnnlens's index on the bench vectors. Mode "build": a shard built from base.fvecs by the same
 * GraphShard.build the index job's tasks call (build time printed), then searched. Mode "open":
 * the index folder an index job wrote (its manifest, every shard), searched; base ids are matched
 * to ground-truth ordinals by path (base.fvecs.tsv). After a warm-up of three passes over the queries,
 * each ef is timed three times (searches only); prints TSV: cnnlens, ef, recall@10, median qps (one thread), load.
 * With -Dbench.jvector=true (build mode), the same graph file is then searched by JVector's own
 * GraphSearcher and exact scores, the library used out of the box (rows labelled jvector).
 * Usage: java -cp <cnnlens-common + deps> IndexBench.java build base.fvecs queries.fvecs gt.ivecs M efC threads nq efs
 *        java -cp ... IndexBench.java open <index dir> base.fvecs.tsv queries.fvecs gt.ivecs nq efs
 */
public class IndexBench {
    static final io.github.jbellis.jvector.vector.types.VectorTypeSupport VTS =
            io.github.jbellis.jvector.vector.VectorizationProvider.getInstance().getVectorTypeSupport();
    static final int REPS = 3;
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

    static String load() throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc/loadavg"))).split(" ")[0];
    }

    public static void main(String[] a) throws Exception {
        ShardedSearch s;
        float[][] queries;
        int[][] gt;
        int nq;
        String[] efs;
        Map<String, Integer> ordinal = new HashMap<>();
        OnDiskGraphIndex jvector = null;
        ListRandomAccessVectorValues jvectorValues = null;
        if (a[0].equals("build")) {
            float[][] base = fvecs(a[1]);
            queries = fvecs(a[2]);
            gt = ivecs(a[3]);
            GraphParams p = new GraphParams(Integer.parseInt(a[4]), Integer.parseInt(a[5]), 1.2f, 1.2f);
            int threads = Integer.parseInt(a[6]);
            nq = Math.min(queries.length, Integer.parseInt(a[7]));
            efs = a[8].split(",");
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < base.length; i++) {
                items.add(new Item(Integer.toString(i), "v" + i, null));
                ordinal.put(Integer.toString(i), i);
            }
            Path dir = Files.createTempDirectory("cnnlens-bench-");
            GraphShard.Built b = GraphShard.build(items, base, Metric.L2, p, dir.resolve("s"), threads);
            System.out.printf(Locale.ROOT, "build\tcnnlens\t%.1f\t%d threads\tload %s\tkernels %s%n", b.seconds(), threads, load(),
                    io.cnnlens.index.VectorKernels.get().name());
            s = new ShardedSearch(List.of(GraphShard.open(dir.resolve("s"), Metric.L2)), Set.of(), Metric.L2);
            if (Boolean.getBoolean("bench.jvector")) {
                jvector = OnDiskGraphIndex.load(new MappedChunkReader.Supplier(dir.resolve("s").resolve(GraphShard.GRAPH)));
                List<io.github.jbellis.jvector.vector.types.VectorFloat<?>> list = new ArrayList<>();
                for (float[] v : base) list.add(VTS.createFloatVector(v));
                jvectorValues = new ListRandomAccessVectorValues(list, base[0].length);
            }
        } else {
            Path index = Path.of(a[1]);
            IndexManifest m = IndexManifest.fromJson(Files.readString(index.resolve(IndexManifest.FILE)));
            List<String> paths = Files.readAllLines(Path.of(a[2]));
            Map<String, Integer> byPath = new HashMap<>();
            for (int i = 0; i < paths.size(); i++) byPath.put(paths.get(i).split("\t")[0], i);
            List<GraphShard> shards = new ArrayList<>();
            for (IndexManifest.Shard sh : m.shards()) {
                GraphShard g = GraphShard.open(index.resolve("shards").resolve(sh.name()), m.metricValue());
                for (Item it : g.items()) ordinal.put(it.imageId(), byPath.get(it.path()));
                shards.add(g);
            }
            s = new ShardedSearch(shards, m.deletedSet(), m.metricValue());
            queries = fvecs(a[3]);
            gt = ivecs(a[4]);
            nq = Math.min(queries.length, Integer.parseInt(a[5]));
            efs = a[6].split(",");
            System.out.printf(Locale.ROOT, "# index %s: %d shards, %d live%n", index, m.shards().size(), m.live());
        }
        Map<String, Integer> ord = ordinal;
        ShardedSearch search = s;
        time("cnnlens", queries, gt, nq, efs, (q, ef) -> {
            List<Hit> hits = search.search(q, 10, ef, false);
            int[] out = new int[hits.size()];
            for (int i = 0; i < out.length; i++) out[i] = ord.get(hits.get(i).item().imageId());
            return out;
        });
        if (jvector != null) {
            // the baseline: JVector's own searcher and scores on the same graph file, as the library is used out of the box
            GraphSearcher gs = new GraphSearcher(jvector);
            ListRandomAccessVectorValues values = jvectorValues;
            time("jvector", queries, gt, nq, efs, (q, ef) -> {
                SearchResult r = gs.search(DefaultSearchScoreProvider.exact(VTS.createFloatVector(q), VectorSimilarityFunction.EUCLIDEAN, values),
                        10, ef, 0f, 0f, Bits.ALL);
                int[] out = new int[r.getNodes().length];
                for (int i = 0; i < out.length; i++) out[i] = r.getNodes()[i].node;
                return out;
            });
        }
    }

    /**
     * After a warm-up of three passes over the queries (the JIT compiles the search path first: a
     * serving JVM is warm), each ef timed REPS times, searches only (recall is counted after);
     * prints the median.
     */
    static void time(String label, float[][] queries, int[][] gt, int nq, String[] efs,
                     java.util.function.BiFunction<float[], Integer, int[]> search) throws Exception {
        int maxEf = 0;
        for (String e : efs) maxEf = Math.max(maxEf, Integer.parseInt(e));
        for (int rep = 0; rep < 3; rep++) {
            for (int q = 0; q < nq; q++) search.apply(queries[q], rep == 1 ? maxEf : 10);
        }
        for (String e : efs) {
            int ef = Integer.parseInt(e);
            double r = 0;
            long[] times = new long[REPS];
            for (int rep = 0; rep < REPS; rep++) {
                r = 0;
                int[][] got = new int[nq][];
                long t0 = System.nanoTime();
                for (int q = 0; q < nq; q++) {
                    got[q] = search.apply(queries[q], ef);
                }
                times[rep] = System.nanoTime() - t0;
                for (int q = 0; q < nq; q++) {
                    Set<Integer> truth = new HashSet<>();
                    for (int i = 0; i < 10; i++) truth.add(gt[q][i]);
                    for (int node : got[q]) {
                        if (truth.contains(node)) r += 0.1;
                    }
                }
            }
            java.util.Arrays.sort(times);
            long t = times[REPS / 2];
            System.out.printf(Locale.ROOT, "%s\t%d\t%.4f\t%.0f\t%s%n", label, ef, r / nq, nq / (t / 1e9), load());
        }
    }
}
