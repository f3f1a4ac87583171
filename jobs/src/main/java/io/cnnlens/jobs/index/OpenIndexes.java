package io.cnnlens.jobs.index;

import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.ShardedSearch;
import org.apache.hadoop.conf.Configuration;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Indexes opened once per JVM (an executor's tasks share one copy), keyed by folder and manifest
 * time, so a changed index is opened again.
 */
final class OpenIndexes {

    private static final ConcurrentHashMap<String, ShardedSearch> OPEN = new ConcurrentHashMap<>();

    private OpenIndexes() {
    }

    static ShardedSearch get(String index, IndexManifest m, Configuration conf) {
        return OPEN.computeIfAbsent(index + "|" + m.updated(), k -> new IndexStore(index, conf).open(m));
    }
}
