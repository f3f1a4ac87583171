package io.cnnlens.index;

import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * A search over all shards of an index (docs/index.md#search): each shard's graph gives its
 * nearest live nodes, the lists merge into one top-k by distance. With {@code rerank}, each shard
 * returns its whole beam ({@code ef} candidates) and every candidate's distance is recomputed
 * exactly (double precision) from the stored vectors before the top k are kept. Thread-safe.
 */
public final class ShardedSearch implements Closeable {

    private final List<GraphShard> shards;
    private final List<Set<Integer>> deleted;
    private final Metric metric;
    private final int dimension;

    public ShardedSearch(List<GraphShard> shards, Set<String> deletedIds, Metric metric) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("the index has no shards");
        }
        this.shards = List.copyOf(shards);
        this.metric = metric;
        this.dimension = shards.get(0).dimension();
        this.deleted = new ArrayList<>();
        for (GraphShard s : shards) {
            if (s.dimension() != dimension) {
                throw new IllegalArgumentException("shards of different dimensions (" + dimension + " and " + s.dimension() + ")");
            }
            deleted.add(s.nodesOf(deletedIds));
        }
    }

    public int dimension() {
        return dimension;
    }

    public Metric metric() {
        return metric;
    }

    public long live() {
        long n = 0;
        for (int i = 0; i < shards.size(); i++) {
            n += shards.get(i).size() - deleted.get(i).size();
        }
        return n;
    }

    /** The stored vector and item of the live image {@code imageId}, if the index holds it. */
    public java.util.Optional<Hit> find(String imageId) {
        for (int i = 0; i < shards.size(); i++) {
            GraphShard s = shards.get(i);
            for (int n = 0; n < s.size(); n++) {
                if (s.item(n).imageId().equals(imageId) && !deleted.get(i).contains(n)) {
                    return java.util.Optional.of(new Hit(s.item(n), 0f, s.vector(n)));
                }
            }
        }
        return java.util.Optional.empty();
    }

    /** The k nearest live images to {@code query}, nearest first. */
    public List<Hit> search(float[] query, int k, int ef, boolean rerank) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1");
        }
        if (query.length != dimension) {
            throw new IllegalArgumentException("the query vector has " + query.length + " values; this index's vectors have " + dimension);
        }
        for (float f : query) {
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("the query vector has a value that is not a finite number");
            }
        }
        List<Hit> all = new ArrayList<>();
        int perShard = rerank ? Math.max(k, ef) : k;
        for (int i = 0; i < shards.size(); i++) {
            for (Hit h : shards.get(i).search(query, perShard, ef, deleted.get(i))) {
                all.add(rerank ? new Hit(h.item(), (float) metric.exact(query, h.vector()), h.vector()) : h);
            }
        }
        all.sort(Comparator.comparingDouble(Hit::distance).thenComparing(h -> h.item().imageId(), Comparator.nullsLast(Comparator.naturalOrder())));
        return all.size() > k ? new ArrayList<>(all.subList(0, k)) : all;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (GraphShard s : shards) {
            try {
                s.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
