package io.cnnlens.index;

import io.github.jbellis.jvector.disk.MappedChunkReader;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.NodesIterator;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.disk.OnDiskGraphIndex;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shard's own walk of the graph ({@link LayeredGraph}) against JVector's {@link GraphSearcher}
 * on the same graph file with the same scores, and both against brute force: the walk is a
 * faster loop, not a different search.
 */
class LayeredGraphTest {

    @TempDir
    Path dir;

    @Test
    void theWalkFindsWhatJVectorsSearcherFindsOnTheSameGraph() throws Exception {
        int n = 3000, d = 24, k = 10;
        float[][] all = ShardedSearchTest.vectors(n, d, 3);
        float[][] queries = ShardedSearchTest.vectors(150, d, 4);
        for (Metric m : Metric.values()) {
            Path shardDir = dir.resolve(m.key());
            GraphShard.build(ShardedSearchTest.items(0, n), all, m, new GraphParams(8, 100, 1.2f, 1.2f), shardDir, 2);
            Set<Integer> deletedNodes = new HashSet<>();
            Set<String> deletedIds = new HashSet<>();
            for (int i = 0; i < n; i += 10) { // a tenth tombstoned
                deletedNodes.add(i);
                deletedIds.add("id" + i);
            }
            ShardVectors sv = new ShardVectors(all, m, VectorKernels.get());
            try (GraphShard shard = GraphShard.open(shardDir, m);
                 var reader = new MappedChunkReader.Supplier(shardDir.resolve(GraphShard.GRAPH));
                 OnDiskGraphIndex onDisk = OnDiskGraphIndex.load(reader);
                 GraphSearcher jvector = new GraphSearcher(onDisk)) {
                LayeredGraph walk = new LayeredGraph(onDisk);
                // the copied base layer is the file's
                try (var view = onDisk.getView()) {
                    for (int node : new int[] {0, 1, n / 2, n - 1}) {
                        NodesIterator it = view.getNeighborsIterator(0, node);
                        int[] want = new int[it.size()];
                        for (int j = 0; j < want.length; j++) {
                            want[j] = it.nextInt();
                        }
                        assertArrayEquals(want, walk.neighbours(node), m + " node " + node);
                    }
                }
                for (Set<Integer> deleted : List.of(Set.<Integer>of(), deletedNodes)) {
                    Set<String> deletedIdSet = deleted.isEmpty() ? Set.of() : deletedIds;
                    double ours = 0, theirs = 0, same = 0;
                    for (float[] q : queries) {
                        List<String> want = ShardedSearchTest.exact(all, q, k, m, deletedIdSet);
                        List<Hit> got = shard.search(q, k, 32, deleted);
                        assertEquals(k, got.size());
                        Set<Integer> gotNodes = new HashSet<>();
                        for (int i = 0; i < got.size(); i++) {
                            Hit h = got.get(i);
                            int node = Integer.parseInt(h.item().imageId().substring(2));
                            assertFalse(deleted.contains(node), "a deleted node came back");
                            assertEquals(m.exact(q, all[node]), h.distance(), 1e-4 * Math.max(1, h.distance()), "distance of " + node);
                            if (i > 0) {
                                assertTrue(got.get(i - 1).distance() <= h.distance(), "nearest first");
                            }
                            gotNodes.add(node);
                            ours += want.contains(h.item().imageId()) ? 1 : 0;
                        }
                        Bits accept = deleted.isEmpty() ? Bits.ALL : node -> !deleted.contains(node);
                        SearchResult r = jvector.search(new DefaultSearchScoreProvider(sv.scoreFunction(q)), k, 32, 0f, 0f, accept);
                        for (SearchResult.NodeScore ns : r.getNodes()) {
                            theirs += want.contains("id" + ns.node) ? 1 : 0;
                            same += gotNodes.contains(ns.node) ? 1 : 0;
                        }
                    }
                    int total = k * queries.length;
                    String what = m + (deleted.isEmpty() ? "" : " with tombstones");
                    assertTrue(ours / total >= 0.95, what + ": recall@10 " + ours / total);
                    assertTrue(ours / total >= theirs / total - 0.01, what + ": recall " + ours / total + " against JVector's " + theirs / total);
                    assertTrue(same / total >= 0.97, what + ": " + same / total + " of JVector's results found");
                }
            }
        }
    }

    @Test
    void aBeamOfOneStillReturnsKAndAllDeletedReturnsNone() throws Exception {
        int n = 500, d = 8;
        float[][] all = ShardedSearchTest.vectors(n, d, 5);
        Path shardDir = dir.resolve("small");
        GraphShard.build(ShardedSearchTest.items(0, n), all, Metric.L2, new GraphParams(8, 64, 1.2f, 1.2f), shardDir, 1);
        try (GraphShard shard = GraphShard.open(shardDir, Metric.L2)) {
            assertEquals(7, shard.search(all[0], 7, 1, Set.of()).size(), "the beam is at least k");
            Set<Integer> everything = new HashSet<>();
            for (int i = 0; i < n; i++) {
                everything.add(i);
            }
            assertEquals(List.of(), shard.search(all[0], 5, 16, everything));
            List<Integer> order = new ArrayList<>();
            for (Hit h : shard.search(all[42], 3, 32, Set.of())) {
                order.add(Integer.parseInt(h.item().imageId().substring(2)));
            }
            assertEquals(42, order.get(0), "a stored vector finds itself first");
        }
    }
}
