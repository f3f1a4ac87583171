package io.cnnlens.jobs.index;

import io.cnnlens.index.GraphShard;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Item;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Merging small shards (docs/index.md#compaction): a shard is small when its live rows are fewer
 * than {@code --compact-below}, or when half or more of its rows are deleted. When there are more
 * small shards than {@code --max-small-shards}, their live rows are built into one new shard on
 * the driver and their tombstones dropped; the other shards are not touched.
 */
final class Compaction {

    private Compaction() {
    }

    static IndexManifest maybe(IndexStore store, IndexManifest m, int compactBelow, int maxSmall, String now, List<String> notes) {
        Set<String> deleted = m.deletedSet();
        List<IndexManifest.Shard> small = new ArrayList<>();
        List<IndexManifest.Shard> keep = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (IndexManifest.Shard s : m.shards()) {
            try (GraphShard g = GraphShard.open(store.local(s.name()), m.metricValue())) {
                int dead = g.nodesOf(deleted).size();
                int live = g.size() - dead;
                if (live < compactBelow || 2 * dead >= g.size()) {
                    small.add(s);
                } else {
                    keep.add(s);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (small.size() <= maxSmall) {
            return m;
        }
        long t0 = System.nanoTime();
        for (IndexManifest.Shard s : small) {
            try (GraphShard g = GraphShard.open(store.local(s.name()), m.metricValue())) {
                for (int i = 0; i < g.size(); i++) {
                    Item it = g.item(i);
                    if (deleted.contains(it.imageId())) {
                        dropped.add(it.imageId());
                    } else {
                        items.add(it);
                        vectors.add(g.vector(i).clone());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        List<IndexManifest.Shard> shards = new ArrayList<>(keep);
        if (!items.isEmpty()) {
            String name = "c" + Long.toString(System.currentTimeMillis(), 36) + "-merged";
            java.nio.file.Path local;
            try {
                local = Files.createTempDirectory("cnnlens-compact-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                GraphShard.Built b = GraphShard.build(items, vectors.toArray(new float[0][]), m.metricValue(), m.params(),
                        local.resolve(name), Runtime.getRuntime().availableProcessors());
                store.upload(local.resolve(name), name);
                shards.add(new IndexManifest.Shard(name, b.count(), b.seconds(), -1));
            } finally {
                IndexStore.deleteLocal(local);
            }
        }
        List<String> stillDeleted = new ArrayList<>(m.deleted());
        stillDeleted.removeAll(dropped);
        notes.add(String.format(Locale.ROOT, "index: compaction merged %d small shards into one of %d rows (%d deleted rows dropped) in %.1f s",
                small.size(), items.size(), dropped.size(), (System.nanoTime() - t0) / 1e9));
        return m.withShards(shards, m.sources(), stillDeleted, now);
    }
}
