package io.cnnlens.index;

import io.github.jbellis.jvector.disk.MappedChunkReader;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.disk.OnDiskGraphIndex;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;

/**
 * One shard of the index: a JVector graph over a set of vectors, as three files in one folder
 * (docs/index.md#shard-files): {@code graph.jv} (JVector's on-disk graph), {@code vectors.f32}
 * (the vectors, for scoring and the exact re-rank) and {@code items.bin} (image id, path and label
 * of each node, in node order). A shard is built once and never changed: additions are new
 * shards, deletions are tombstones in the manifest. Searching is thread-safe (one searcher per
 * thread). The graph is JVector's, built with {@link ShardVectors}' scores
 * (docs/index.md#distance-kernels); an opened shard holds it on the heap and walks it with
 * {@link LayeredGraph} (docs/index.md#search-loop), so the file is read once and then closed.
 */
public final class GraphShard implements Closeable {

    public static final String GRAPH = "graph.jv";
    public static final String VECTORS = "vectors.f32";
    public static final String ITEMS = "items.bin";
    public static final List<String> FILES = List.of(GRAPH, VECTORS, ITEMS);

    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();
    private static final int VECTORS_MAGIC = 0x434e4c56; // "CNLV"
    private static final int ITEMS_MAGIC = 0x434e4c49; // "CNLI"

    private final List<Item> items;
    private final ShardVectors vectors;
    private final LayeredGraph graph;

    private GraphShard(List<Item> items, ShardVectors vectors, LayeredGraph graph) {
        this.items = items;
        this.vectors = vectors;
        this.graph = graph;
    }

    /** What a build took. */
    public record Built(int count, double seconds) {
    }

    /**
     * Builds a shard over {@code vectors} (one per item, all of one length) into the folder
     * {@code dir} (created), with {@code threads} build threads.
     */
    public static Built build(List<Item> items, float[][] vectors, Metric metric, GraphParams p, Path dir, int threads) {
        if (items.size() != vectors.length) {
            throw new IllegalArgumentException(items.size() + " items but " + vectors.length + " vectors");
        }
        if (vectors.length == 0) {
            throw new IllegalArgumentException("a shard needs at least one vector");
        }
        int d = vectors[0].length;
        for (float[] v : vectors) {
            if (v.length != d) {
                throw new IllegalArgumentException("vectors of different lengths (" + d + " and " + v.length + ")");
            }
        }
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(dir);
            ListRandomAccessVectorValues ravv = values(vectors);
            ShardVectors scores = new ShardVectors(vectors, metric, VectorKernels.get());
            ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
            try (GraphIndexBuilder builder = new GraphIndexBuilder(scores.buildScoreProvider(),
                    d, 2 * p.m(), p.efConstruction(), p.overflow(), p.alpha(), true, true, pool, pool)) {
                ImmutableGraphIndex g = builder.build(ravv);
                OnDiskGraphIndex.write(g, ravv, dir.resolve(GRAPH));
            } finally {
                pool.shutdown();
            }
            writeVectors(vectors, dir.resolve(VECTORS));
            writeItems(items, dir.resolve(ITEMS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the shard in " + dir + ": " + e.getMessage(), e);
        }
        return new Built(vectors.length, (System.nanoTime() - t0) / 1e9);
    }

    /** Opens a shard folder written by {@link #build}. */
    public static GraphShard open(Path dir, Metric metric) throws IOException {
        ShardVectors vectors = readVectors(dir.resolve(VECTORS), metric);
        List<Item> items = readItems(dir.resolve(ITEMS));
        if (items.size() != vectors.size()) {
            throw new IOException("shard " + dir + " is inconsistent: " + items.size() + " items but " + vectors.size() + " vectors");
        }
        // JVector's factory tries Java 22's MemorySegment reader and a native mmap first, warning twice on Java 17,
        // then takes this one: take it directly
        LayeredGraph graph;
        try (var reader = new MappedChunkReader.Supplier(dir.resolve(GRAPH)); OnDiskGraphIndex onDisk = OnDiskGraphIndex.load(reader)) {
            if (onDisk.size() != vectors.size()) {
                throw new IOException("shard " + dir + " is inconsistent: a graph of " + onDisk.size() + " nodes but " + vectors.size() + " vectors");
            }
            graph = new LayeredGraph(onDisk);
        }
        return new GraphShard(items, vectors, graph);
    }

    public int size() {
        return vectors.size();
    }

    public int dimension() {
        return vectors.dimension();
    }

    public Item item(int node) {
        return items.get(node);
    }

    /** A copy of node {@code node}'s stored vector. */
    public float[] vector(int node) {
        return vectors.vector(node);
    }

    public List<Item> items() {
        return items;
    }

    /**
     * The {@code k} nearest live nodes to {@code query} by the graph search with beam {@code ef}
     * (at least k), skipping the nodes in {@code deleted}; distances in the index's metric.
     */
    public List<Hit> search(float[] query, int k, int ef, Set<Integer> deleted) {
        if (query.length != dimension()) {
            throw new IllegalArgumentException("the query has " + query.length + " values but the index's vectors have " + dimension());
        }
        LayeredGraph.Scored[] found = graph.search(vectors.distanceTo(query), k, Math.max(k, ef),
                deleted.isEmpty() ? node -> true : node -> !deleted.contains(node));
        List<Hit> out = new ArrayList<>(found.length);
        for (LayeredGraph.Scored f : found) {
            out.add(new Hit(items.get(f.node()), vectors.reported(f.distance()), vectors.vector(f.node())));
        }
        return out;
    }

    /** Node ordinals of this shard's items whose ids are in {@code ids}. */
    public Set<Integer> nodesOf(Set<String> ids) {
        Set<Integer> out = new java.util.HashSet<>();
        if (ids.isEmpty()) {
            return out;
        }
        for (int i = 0; i < items.size(); i++) {
            if (ids.contains(items.get(i).imageId())) {
                out.add(i);
            }
        }
        return out;
    }

    /** Nothing to release: an opened shard holds its graph and vectors on the heap. */
    @Override
    public void close() throws IOException {
    }

    private static ListRandomAccessVectorValues values(float[][] vectors) {
        List<VectorFloat<?>> list = new ArrayList<>(vectors.length);
        for (float[] v : vectors) {
            list.add(VTS.createFloatVector(v));
        }
        return new ListRandomAccessVectorValues(list, vectors[0].length);
    }

    static void writeVectors(float[][] vectors, Path file) throws IOException {
        int d = vectors[0].length;
        try (var ch = Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(VECTORS_MAGIC).putInt(vectors.length).putInt(d);
            head.flip();
            ch.write(head);
            ByteBuffer b = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] v : vectors) {
                b.clear();
                b.asFloatBuffer().put(v);
                b.limit(4 * d);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }
    }

    static ShardVectors readVectors(Path file, Metric metric) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.capacity() < 12 || b.getInt() != VECTORS_MAGIC) {
            throw new IOException(file + " is not a cnnlens vectors file");
        }
        int n = b.getInt();
        int d = b.getInt();
        if (n < 0 || d <= 0 || (long) n * d * 4 + 12 != b.capacity()) {
            throw new IOException(file + " is truncated or corrupt: " + n + " x " + d + " floats in " + b.capacity() + " bytes");
        }
        if (n == 0) {
            throw new IOException(file + " holds no vectors");
        }
        float[] flat = new float[Math.multiplyExact(n, d)];
        b.asFloatBuffer().get(flat);
        return new ShardVectors(flat, n, d, metric, VectorKernels.get());
    }

    static void writeItems(List<Item> items, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
            out.writeInt(ITEMS_MAGIC);
            out.writeInt(items.size());
            for (Item it : items) {
                writeString(out, it.imageId());
                writeString(out, it.path());
                writeString(out, it.label());
            }
        }
    }

    static List<Item> readItems(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != ITEMS_MAGIC) {
                throw new IOException(file + " is not a cnnlens items file");
            }
            int n = in.readInt();
            List<Item> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new Item(readString(in), readString(in), readString(in)));
            }
            return out;
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
