package io.cnnlens.index;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The index folder's {@code manifest.json} (docs/index.md#manifest): what the vectors are (model,
 * column, metric, dimension), how the graphs were built, the shards, the features-table versions
 * whose rows it holds, and the image ids deleted since (tombstones, skipped by every search until
 * a compaction drops them). A new manifest is written beside the old one and renamed over it, so
 * a reader sees one or the other.
 *
 * @param deleted image ids removed from the index, still present in some shard's files
 */
public record IndexManifest(int format, String model, String column, String metric, int dimension, GraphParams params,
                            List<Shard> shards, List<Source> sources, List<String> deleted, String created, String updated)
        implements java.io.Serializable {

    public static final int FORMAT = 1;
    public static final String FILE = "manifest.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /**
     * One shard: its folder under {@code shards/}, its node count, how long its graph took, and
     * which source (index into {@code sources}) its rows came from (-1: a compaction of several).
     */
    public record Shard(String name, int count, double buildSeconds, int source) implements java.io.Serializable {
    }

    /** A features table read into the index: its path, Delta version (null: Parquet), rows taken, when. */
    public record Source(String table, Long version, long rows, String added) implements java.io.Serializable {
    }

    public IndexManifest {
        if (format != FORMAT) {
            throw new IllegalArgumentException("index manifest format " + format + " is not " + FORMAT + " (made by another cnnlens?)");
        }
        Metric.parse(metric);
        shards = List.copyOf(shards);
        sources = List.copyOf(sources);
        deleted = List.copyOf(deleted);
    }

    public Metric metricValue() {
        return Metric.parse(metric);
    }

    /** Nodes in all shards, deleted ones included. */
    public long stored() {
        return shards.stream().mapToLong(Shard::count).sum();
    }

    /** Images a search can return. */
    public long live() {
        return stored() - deleted.size();
    }

    public Set<String> deletedSet() {
        return new HashSet<>(deleted);
    }

    public IndexManifest withShards(List<Shard> newShards, List<Source> newSources, List<String> newDeleted, String now) {
        return new IndexManifest(format, model, column, metric, dimension, params, newShards, newSources, newDeleted, created, now);
    }

    public IndexManifest plus(List<Shard> added, Source source, String now) {
        List<Source> src = new ArrayList<>(sources);
        src.add(source);
        List<Shard> sh = new ArrayList<>(shards);
        int at = src.size() - 1;
        for (Shard s : added) {
            sh.add(new Shard(s.name(), s.count(), s.buildSeconds(), at));
        }
        return withShards(sh, src, deleted, now);
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static IndexManifest fromJson(String json) {
        IndexManifest m;
        try {
            m = GSON.fromJson(json, IndexManifest.class);
        } catch (RuntimeException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof IllegalArgumentException iae) {
                    throw iae;
                }
            }
            throw new IllegalArgumentException("the index manifest is not valid JSON: " + e.getMessage(), e);
        }
        if (m == null) {
            throw new IllegalArgumentException("empty index manifest");
        }
        return new IndexManifest(m.format, m.model, m.column, m.metric, m.dimension, m.params,
                m.shards == null ? List.of() : m.shards, m.sources == null ? List.of() : m.sources,
                m.deleted == null ? List.of() : m.deleted, m.created, m.updated);
    }
}
