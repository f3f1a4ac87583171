package io.cnnlens.jobs.index;

import io.cnnlens.index.GraphShard;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.ShardedSearch;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An index folder on any Hadoop file system (docs/index.md#files): {@code manifest.json} and
 * {@code shards/<name>/} with each shard's files. Shards are built in a local folder and copied up;
 * to search, a shard on a remote file system is copied down to a local folder first (a local one
 * is opened where it lies). The manifest is written beside the current one and renamed over it.
 */
public final class IndexStore {

    public static final String SHARDS = "shards";

    private final Path root;
    private final Configuration conf;

    public IndexStore(String index, Configuration conf) {
        this.root = new Path(index);
        this.conf = conf;
    }

    public String path() {
        return root.toString();
    }

    private FileSystem fs() throws IOException {
        return root.getFileSystem(conf);
    }

    public Optional<IndexManifest> manifest() {
        try {
            FileSystem fs = fs();
            Path m = new Path(root, IndexManifest.FILE);
            if (!fs.exists(m)) {
                return Optional.empty();
            }
            try (var in = fs.open(m)) {
                return Optional.of(IndexManifest.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the index manifest in " + root + ": " + e.getMessage(), e);
        }
    }

    public IndexManifest require() {
        return manifest().orElseThrow(() -> new IllegalArgumentException("no index at " + root
                + " (no " + IndexManifest.FILE + "): run 'cnnlens index --out ...' first"));
    }

    /** Writes the manifest: to a new file, then renamed over the old one. */
    public void write(IndexManifest m) {
        try {
            FileSystem fs = fs();
            fs.mkdirs(root);
            Path tmp = new Path(root, "." + IndexManifest.FILE + "." + System.nanoTime());
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                out.write(m.toJson().getBytes(StandardCharsets.UTF_8));
            }
            Path dst = new Path(root, IndexManifest.FILE);
            if (fs.exists(dst) && !fs.delete(dst, false)) {
                throw new IOException("cannot replace " + dst);
            }
            if (!fs.rename(tmp, dst)) {
                throw new IOException("cannot rename " + tmp + " to " + dst);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the index manifest in " + root + ": " + e.getMessage(), e);
        }
    }

    /** Copies a shard built in the local folder {@code local} to {@code shards/<name>/} (replacing a partial copy). */
    public void upload(java.nio.file.Path local, String name) {
        try {
            FileSystem fs = fs();
            Path dst = new Path(new Path(root, SHARDS), name);
            if (fs.exists(dst)) {
                fs.delete(dst, true);
            }
            fs.mkdirs(dst);
            for (String f : GraphShard.FILES) {
                fs.copyFromLocalFile(false, true, new Path(local.resolve(f).toUri()), new Path(dst, f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy shard " + name + " to " + root + ": " + e.getMessage(), e);
        }
    }

    /** Bytes of the shards' files that the manifest lists. */
    public long bytes(IndexManifest m) {
        try {
            FileSystem fs = fs();
            long n = 0;
            for (IndexManifest.Shard s : m.shards()) {
                n += fs.getContentSummary(new Path(new Path(root, SHARDS), s.name())).getLength();
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes shard folders the manifest does not list (failed task attempts, compacted shards). */
    public List<String> removeUnlisted(IndexManifest m) {
        List<String> removed = new ArrayList<>();
        try {
            FileSystem fs = fs();
            Path dir = new Path(root, SHARDS);
            if (!fs.exists(dir)) {
                return removed;
            }
            Set<String> keep = new HashSet<>();
            m.shards().forEach(s -> keep.add(s.name()));
            for (FileStatus st : fs.listStatus(dir)) {
                if (!keep.contains(st.getPath().getName())) {
                    fs.delete(st.getPath(), true);
                    removed.add(st.getPath().getName());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return removed;
    }

    private boolean isLocal() throws IOException {
        FileSystem fs = fs();
        return fs instanceof LocalFileSystem || "file".equals(fs.getScheme());
    }

    /** A shard's folder as a local path: where it lies on a local file system, else a fresh local copy. */
    public java.nio.file.Path local(String name) {
        try {
            FileSystem fs = fs();
            Path src = new Path(new Path(root, SHARDS), name);
            if (isLocal()) {
                return java.nio.file.Path.of(fs.makeQualified(src).toUri());
            }
            java.nio.file.Path dir = Files.createTempDirectory("cnnlens-shard-");
            for (String f : GraphShard.FILES) {
                fs.copyToLocalFile(false, new Path(src, f), new Path(dir.resolve(f).toUri()), true);
            }
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shard " + name + " of " + root + ": " + e.getMessage(), e);
        }
    }

    /** Opens every shard of the manifest for searching, deleted ids skipped. */
    public ShardedSearch open(IndexManifest m) {
        List<GraphShard> shards = new ArrayList<>();
        try {
            boolean copies = !isLocal();
            for (IndexManifest.Shard s : m.shards()) {
                java.nio.file.Path dir = local(s.name());
                GraphShard g;
                try {
                    g = GraphShard.open(dir, m.metricValue());
                } finally {
                    if (copies) {
                        deleteLocal(dir); // an opened shard holds its data on the heap, no file
                    }
                }
                if (g.size() != s.count()) {
                    g.close();
                    throw new IOException("shard " + s.name() + " has " + g.size() + " vectors but the manifest says " + s.count());
                }
                shards.add(g);
            }
            return new ShardedSearch(shards, m.deletedSet(), m.metricValue());
        } catch (IOException | RuntimeException e) {
            for (GraphShard g : shards) {
                try {
                    g.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new UncheckedIOException("cannot open the index at " + root + ": " + e.getMessage(), (IOException) e);
        }
    }

    static void deleteLocal(java.nio.file.Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}
