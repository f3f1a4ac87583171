package io.cnnlens.index;

import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.NodesIterator;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A shard's graph on the heap, searched by the HNSW paper's layer search (Malkov &amp; Yashunin 2018,
 * Algorithm 2; docs/index.md#search-loop): greedy descent through the upper layers from the entry
 * node, then a beam of width {@code ef} in the base layer. The graph itself is the one JVector
 * built (its neighbour lists, levels and entry node are copied once, when the shard opens); only
 * the walk is this class's: the base layer's lists in one flat {@code int[]}, a visited mark per
 * node by generation stamp, and the two heaps as primitive arrays, so a visit costs one distance
 * and a few array reads. Nodes rejected by the accept test (tombstones) are walked through but
 * never returned. Thread-safe: each thread has its own search state.
 */
final class LayeredGraph {

    private final int size;
    private final int degree;
    private final int[] base; // node i's base-layer neighbours at i·degree, -1 after the last
    private final Map<Integer, int[]>[] upper; // upper[level - 1]: node -> neighbours
    private final int entryNode;
    private final int entryLevel;
    private final ThreadLocal<State> states;

    /** A node and its distance to the query (squared L2, or 1 − cos), nearest first in a result. */
    record Scored(int node, float distance) {
    }

    /** A query's distance to each node: smaller is nearer. */
    interface Distance {
        float to(int node);
    }

    @SuppressWarnings("unchecked")
    LayeredGraph(ImmutableGraphIndex graph) throws IOException {
        this.size = graph.size();
        try (ImmutableGraphIndex.View view = graph.getView()) {
            if (view.getIdUpperBound() != size) {
                throw new IOException("the graph's node ids are not dense (" + size + " nodes, ids up to " + view.getIdUpperBound() + ")");
            }
            this.degree = Math.max(1, graph.maxDegrees().get(0));
            this.base = new int[Math.multiplyExact(size, degree)];
            Arrays.fill(base, -1);
            for (int node = 0; node < size; node++) {
                NodesIterator it = view.getNeighborsIterator(0, node);
                int j = 0;
                while (it.hasNext() && j < degree) {
                    base[node * degree + j++] = it.nextInt();
                }
            }
            int levels = graph.getMaxLevel();
            this.upper = new Map[levels];
            for (int level = 1; level <= levels; level++) {
                Map<Integer, int[]> m = new HashMap<>();
                NodesIterator nodes = graph.getNodes(level);
                while (nodes.hasNext()) {
                    int node = nodes.nextInt();
                    NodesIterator it = view.getNeighborsIterator(level, node);
                    int[] nb = new int[it.size()];
                    for (int j = 0; j < nb.length && it.hasNext(); j++) {
                        nb[j] = it.nextInt();
                    }
                    m.put(node, nb);
                }
                upper[level - 1] = m;
            }
            ImmutableGraphIndex.NodeAtLevel entry = view.entryNode();
            this.entryNode = entry.node;
            this.entryLevel = Math.min(entry.level, levels);
        }
        this.states = ThreadLocal.withInitial(() -> new State(size));
    }

    int size() {
        return size;
    }

    /** The base layer's neighbours of {@code node} (for tests). */
    int[] neighbours(int node) {
        int n = 0;
        while (n < degree && base[node * degree + n] >= 0) {
            n++;
        }
        return Arrays.copyOfRange(base, node * degree, node * degree + n);
    }

    /**
     * The {@code k} nearest accepted nodes found with a base-layer beam of {@code ef} (at least k),
     * nearest first (ties by node number).
     */
    Scored[] search(Distance distance, int k, int ef, IntPredicate accept) {
        int beam = Math.max(k, ef);
        int ep = entryNode;
        float epD = distance.to(ep);
        for (int level = entryLevel; level >= 1; level--) {
            Map<Integer, int[]> layer = upper[level - 1];
            boolean moved = true;
            while (moved) {
                moved = false;
                int[] nb = layer.get(ep);
                if (nb == null) {
                    break;
                }
                for (int x : nb) {
                    float d = distance.to(x);
                    if (d < epD) {
                        epD = d;
                        ep = x;
                        moved = true;
                    }
                }
            }
        }
        State s = states.get();
        int stamp = s.next();
        int[] visited = s.visited;
        Heap candidates = s.candidates; // nearest on top
        Heap results = s.results;       // farthest on top, at most beam
        candidates.clear();
        results.clear();
        visited[ep] = stamp;
        candidates.push(ep, -epD);
        if (accept.test(ep)) {
            results.push(ep, epD);
        }
        while (candidates.size() > 0) {
            float cd = -candidates.topKey();
            if (results.size() >= beam && cd > results.topKey()) {
                break;
            }
            int c = candidates.pop();
            int from = c * degree;
            for (int j = from, end = from + degree; j < end; j++) {
                int x = base[j];
                if (x < 0) {
                    break;
                }
                if (visited[x] == stamp) {
                    continue;
                }
                visited[x] = stamp;
                float d = distance.to(x);
                if (results.size() < beam || d < results.topKey()) {
                    candidates.push(x, -d);
                    if (accept.test(x)) {
                        results.push(x, d);
                        if (results.size() > beam) {
                            results.pop();
                        }
                    }
                }
            }
        }
        int n = results.size();
        Scored[] all = new Scored[n];
        for (int i = n - 1; i >= 0; i--) {
            float d = results.topKey();
            all[i] = new Scored(results.pop(), d);
        }
        Arrays.sort(all, (a, b) -> a.distance() != b.distance() ? Float.compare(a.distance(), b.distance()) : Integer.compare(a.node(), b.node()));
        return n > k ? Arrays.copyOf(all, k) : all;
    }

    /** One thread's visited stamps and heaps. */
    private static final class State {
        final int[] visited;
        final Heap candidates = new Heap();
        final Heap results = new Heap();
        int stamp;

        State(int size) {
            visited = new int[size];
        }

        int next() {
            if (++stamp == Integer.MAX_VALUE) {
                Arrays.fill(visited, 0);
                stamp = 1;
            }
            return stamp;
        }
    }

    /** A binary max-heap of (key, node) in two parallel arrays that grow as needed. */
    private static final class Heap {
        private float[] keys = new float[64];
        private int[] nodes = new int[64];
        private int size;

        void clear() {
            size = 0;
        }

        int size() {
            return size;
        }

        float topKey() {
            return keys[0];
        }

        void push(int node, float key) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                nodes = Arrays.copyOf(nodes, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] >= key) {
                    break;
                }
                keys[i] = keys[parent];
                nodes[i] = nodes[parent];
                i = parent;
            }
            keys[i] = key;
            nodes[i] = node;
        }

        /** Removes the top and returns its node. */
        int pop() {
            int top = nodes[0];
            size--;
            if (size > 0) {
                float key = keys[size];
                int node = nodes[size];
                int i = 0;
                int half = size >>> 1;
                while (i < half) {
                    int child = 2 * i + 1;
                    if (child + 1 < size && keys[child + 1] > keys[child]) {
                        child++;
                    }
                    if (keys[child] <= key) {
                        break;
                    }
                    keys[i] = keys[child];
                    nodes[i] = nodes[child];
                    i = child;
                }
                keys[i] = key;
                nodes[i] = node;
            }
            return top;
        }
    }
}
