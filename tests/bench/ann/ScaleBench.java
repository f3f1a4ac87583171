import io.cnnlens.index.GraphShard;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.index.VectorKernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * A large index folder (an index job's output) against brute force: the first nq query vectors'
 * exact top 10 by L2 over every stored vector of every shard (read from the shards' vectors.f32,
 * all of them, on every core), then recall@10 and single-thread queries/s of the index at each ef
 * (median of three timed passes after a warm-up pass), the heap the opened index holds, and the
 * index's bytes on disk per vector. Prints TSV lines. L2 indexes only. With a second index folder
 * that holds the same live images (a fresh build of what an incremental one holds), it is
 * searched too, against the same brute force, and the share of each query's top 10 the two
 * indexes have in common is printed.
 * Usage: java --add-modules=jdk.incubator.vector -cp <cnnlens classpath> ScaleBench.java <index dir> <queries.fvecs> <nq> <ef,ef,...> [other index dir]
 */
public class ScaleBench {
    static float[][] fvecs(String p, int max) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(p))).order(ByteOrder.LITTLE_ENDIAN);
        int d = b.getInt(0);
        int n = Math.min(max, b.capacity() / (4 * (d + 1)));
        float[][] v = new float[n][d];
        for (int i = 0; i < n; i++) {
            b.getInt();
            for (int j = 0; j < d; j++) v[i][j] = b.getFloat();
        }
        return v;
    }

    public static void main(String[] a) throws Exception {
        Path index = Path.of(a[0]);
        int nq = Integer.parseInt(a[2]);
        float[][] queries = fvecs(a[1], nq);
        nq = queries.length;
        String[] efs = a[3].split(",");
        IndexManifest m = IndexManifest.fromJson(Files.readString(index.resolve(IndexManifest.FILE)));
        long diskBytes;
        try (var w = Files.walk(index)) {
            diskBytes = w.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        // brute force over the stored vectors, shard by shard (ids in node order from each shard's items)
        int k = 10;
        float[][] bestD = new float[nq][k];
        String[][] bestId = new String[nq][k];
        for (float[] row : bestD) Arrays.fill(row, Float.POSITIVE_INFINITY);
        VectorKernels kern = VectorKernels.get();
        long t0 = System.nanoTime();
        long total = 0;
        for (IndexManifest.Shard sh : m.shards()) {
            Path dir = index.resolve("shards").resolve(sh.name());
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(GraphShard.VECTORS))).order(ByteOrder.LITTLE_ENDIAN);
            b.getInt();
            int n = b.getInt(), d = b.getInt();
            float[] flat = new float[n * d];
            b.asFloatBuffer().get(flat);
            List<String> ids;
            try (GraphShard g = GraphShard.open(dir, m.metricValue())) {
                ids = new ArrayList<>(n);
                for (int i = 0; i < n; i++) ids.add(g.item(i).imageId());
            }
            Set<String> deleted = m.deletedSet();
            total += n;
            IntStream.range(0, nq).parallel().forEach(q -> {
                float[] bd = bestD[q];
                String[] bi = bestId[q];
                for (int i = 0; i < n; i++) {
                    float dist = kern.squaredDistance(queries[q], 0, flat, i * d, d);
                    if (dist < bd[k - 1] && !deleted.contains(ids.get(i))) {
                        int j = k - 1;
                        while (j > 0 && bd[j - 1] > dist) {
                            bd[j] = bd[j - 1];
                            bi[j] = bi[j - 1];
                            j--;
                        }
                        bd[j] = dist;
                        bi[j] = ids.get(i);
                    }
                }
            });
        }
        System.out.printf(Locale.ROOT, "exact\t%d queries x %d vectors\t%.1f s\tkernels %s%n", nq, total, (System.nanoTime() - t0) / 1e9, kern.name());
        List<String> labels = new ArrayList<>(List.of("index"));
        List<ShardedSearch> searches = new ArrayList<>(List.of(open(index, m, total, diskBytes, "index")));
        if (a.length > 4) {
            Path other = Path.of(a[4]);
            IndexManifest om = IndexManifest.fromJson(Files.readString(other.resolve(IndexManifest.FILE)));
            long od;
            try (var w = Files.walk(other)) {
                od = w.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            long stored = om.shards().stream().mapToLong(IndexManifest.Shard::count).sum();
            ShardedSearch os = open(other, om, stored, od, "other");
            if (os.live() != searches.get(0).live()) {
                throw new IllegalStateException("the other index holds " + os.live() + " live images, this one " + searches.get(0).live());
            }
            labels.add("other");
            searches.add(os);
        }
        for (int q = 0; q < nq; q++) for (ShardedSearch s : searches) s.search(queries[q], k, 64, false); // warm-up
        for (String e : efs) {
            int ef = Integer.parseInt(e);
            List<List<List<Hit>>> results = new ArrayList<>();
            for (int x = 0; x < searches.size(); x++) {
                ShardedSearch s = searches.get(x);
                long[] times = new long[3];
                double r = 0;
                List<List<Hit>> got = null;
                for (int rep = 0; rep < 3; rep++) {
                    got = new ArrayList<>(nq);
                    long t = System.nanoTime();
                    for (int q = 0; q < nq; q++) got.add(s.search(queries[q], k, ef, false));
                    times[rep] = System.nanoTime() - t;
                    r = 0;
                    for (int q = 0; q < nq; q++) {
                        Set<String> truth = new HashSet<>(Arrays.asList(bestId[q]));
                        for (Hit h : got.get(q)) if (truth.contains(h.item().imageId())) r += 1.0 / k;
                    }
                }
                results.add(got);
                Arrays.sort(times);
                System.out.printf(Locale.ROOT, "search\t%s\tef %d\trecall@10 %.4f\t%.0f queries/s (one thread)%n", labels.get(x), ef, r / nq, nq / (times[1] / 1e9));
            }
            if (results.size() == 2) {
                double common = 0;
                int equalLists = 0;
                for (int q = 0; q < nq; q++) {
                    Set<String> one = new HashSet<>();
                    for (Hit h : results.get(0).get(q)) one.add(h.item().imageId());
                    int c = 0;
                    for (Hit h : results.get(1).get(q)) if (one.contains(h.item().imageId())) c++;
                    common += c / (double) k;
                    equalLists += c == k ? 1 : 0;
                }
                System.out.printf(Locale.ROOT, "compare\tef %d\ttop-10 in common %.4f\tequal lists %.4f%n", ef, common / nq, equalLists / (double) nq);
            }
        }
    }

    static ShardedSearch open(Path index, IndexManifest m, long stored, long diskBytes, String label) throws Exception {
        System.gc();
        long heap0 = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        long open0 = System.nanoTime();
        List<GraphShard> shards = new ArrayList<>();
        for (IndexManifest.Shard sh : m.shards()) shards.add(GraphShard.open(index.resolve("shards").resolve(sh.name()), m.metricValue()));
        ShardedSearch s = new ShardedSearch(shards, m.deletedSet(), m.metricValue());
        double openS = (System.nanoTime() - open0) / 1e9;
        System.gc();
        long heap1 = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        System.out.printf(Locale.ROOT, "%s\t%d shards\t%d live\t%d bytes on disk\t%.0f bytes/vector\topen %.1f s\theap %.0f MiB%n",
                label, m.shards().size(), s.live(), diskBytes, diskBytes / (double) stored, openS, (heap1 - heap0) / 1048576.0);
        return s;
    }
}
