package io.cnnlens.index;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shards built, written, re-opened and searched, against brute force on seeded vectors. */
class ShardedSearchTest {

    @TempDir
    Path dir;

    static float[][] vectors(int n, int d, long seed) {
        Random r = new Random(seed);
        float[][] v = new float[n][d];
        for (int i = 0; i < n; i++) {
            int c = i % 5; // five clusters, as features have
            for (int j = 0; j < d; j++) {
                v[i][j] = (float) (r.nextGaussian() + (j % 5 == c ? 3 : 0));
            }
        }
        return v;
    }

    static List<Item> items(int from, int n) {
        List<Item> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            out.add(new Item("id" + i, "img/" + i + ".png", "c" + (i % 5)));
        }
        return out;
    }

    /** Brute-force top-k ids among all vectors (ids id0..), skipping {@code deleted}. */
    static List<String> exact(float[][] all, float[] q, int k, Metric m, Set<String> deleted) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < all.length; i++) {
            if (!deleted.contains("id" + i)) {
                idx.add(i);
            }
        }
        idx.sort((a, b) -> Double.compare(m.exact(q, all[a]), m.exact(q, all[b])));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            out.add("id" + idx.get(i));
        }
        return out;
    }

    @Test
    void twoShardsAgreeWithBruteForceAndSkipDeletedIds() throws Exception {
        int d = 16;
        float[][] all = vectors(400, d, 7);
        float[][] a = java.util.Arrays.copyOfRange(all, 0, 250);
        float[][] b = java.util.Arrays.copyOfRange(all, 250, 400);
        for (Metric m : Metric.values()) {
            Path da = dir.resolve(m.key() + "-a");
            Path db = dir.resolve(m.key() + "-b");
            GraphShard.build(items(0, 250), a, m, new GraphParams(8, 64, 1.2f, 1.2f), da, 2);
            GraphShard.build(items(250, 150), b, m, new GraphParams(8, 64, 1.2f, 1.2f), db, 1);
            Set<String> deleted = new HashSet<>(List.of("id3", "id260", "id399"));
            float[][] queries = vectors(40, d, 99);
            try (ShardedSearch s = new ShardedSearch(List.of(GraphShard.open(da, m), GraphShard.open(db, m)), deleted, m)) {
                assertEquals(397, s.live());
                double hits = 0;
                for (float[] q : queries) {
                    List<Hit> got = s.search(q, 10, 64, true);
                    List<String> want = exact(all, q, 10, m, deleted);
                    assertEquals(10, got.size());
                    for (int i = 1; i < got.size(); i++) {
                        assertTrue(got.get(i - 1).distance() <= got.get(i).distance(), "sorted by distance");
                    }
                    for (Hit h : got) {
                        assertFalse(deleted.contains(h.item().imageId()), "a deleted id came back");
                        int i = Integer.parseInt(h.item().imageId().substring(2));
                        assertEquals(m.exact(q, all[i]), h.distance(), 1e-4, "re-ranked distance is the exact one");
                        assertEquals("img/" + i + ".png", h.item().path());
                        if (want.contains(h.item().imageId())) {
                            hits++;
                        }
                    }
                    // the graph's own distances (no re-rank) agree with the exact ones to float precision
                    for (Hit h : s.search(q, 5, 64, false)) {
                        int i = Integer.parseInt(h.item().imageId().substring(2));
                        assertEquals(m.exact(q, all[i]), h.distance(), 2e-3 * Math.max(1, h.distance()));
                    }
                }
                double recall = hits / (10.0 * queries.length);
                assertTrue(recall >= 0.95, m + " recall@10 " + recall);
                assertThrows(IllegalArgumentException.class, () -> s.search(new float[d + 1], 10, 64, false));
                float[] nan = new float[d];
                nan[0] = Float.NaN;
                assertThrows(IllegalArgumentException.class, () -> s.search(nan, 10, 64, false));
            }
        }
    }

    @Test
    void manifestRoundTripsAndCounts() {
        IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "bundled", "fc7", "l2", 128, GraphParams.DEFAULT,
                List.of(new IndexManifest.Shard("s0", 100, 1.5, 0)), List.of(new IndexManifest.Source("/t", 3L, 100, "now")),
                List.of("x"), "then", "now");
        IndexManifest back = IndexManifest.fromJson(m.toJson());
        assertEquals(m, back);
        assertEquals(99, back.live());
        IndexManifest more = back.plus(List.of(new IndexManifest.Shard("s1", 10, 0.1, 0)), new IndexManifest.Source("/u", 0L, 10, "later"), "later");
        assertEquals(1, more.shards().get(1).source());
        assertEquals(109, more.live());
        assertThrows(IllegalArgumentException.class, () -> IndexManifest.fromJson(m.toJson().replace("\"l2\"", "\"manhattan\"")));
    }
}
