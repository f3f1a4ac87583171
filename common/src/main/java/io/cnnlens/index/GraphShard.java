package io.cnnlens.index;

import io.github.jbellis.jvector.disk.MappedChunkReader;
import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.disk.OnDiskGraphIndex;
import io.github.jbellis.jvector.graph.similarity.BuildScoreProvider;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
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
 * thread).
 */
public final class GraphShard implements Closeable {

    public static final String GRAPH = "graph.jv";
    public static final String VECTORS = "vectors.f32";
    public static final String ITEMS = "items.bin";
    public static final List<String> FILES = List.of(GRAPH, VECTORS, ITEMS);

    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();
    private static final int VECTORS_MAGIC = 0x434e4c56; // "CNLV"
    private static final int ITEMS_MAGIC = 0x434e4c49; // "CNLI"

    private final Metric metric;
    private final List<Item> items;
    private final float[][] vectors;
    private final ListRandomAccessVectorValues ravv;
    private final OnDiskGraphIndex graph;
    private final io.github.jbellis.jvector.disk.ReaderSupplier reader;
    private final ThreadLocal<GraphSearcher> searchers;
    private final List<GraphSearcher> opened = new ArrayList<>();

    private GraphShard(Metric metric, List<Item> items, float[][] vectors, io.github.jbellis.jvector.disk.ReaderSupplier reader,
                       OnDiskGraphIndex graph) {
        this.metric = metric;
        this.items = items;
        this.vectors = vectors;
        this.ravv = values(vectors);
        this.reader = reader;
        this.graph = graph;
        this.searchers = ThreadLocal.withInitial(() -> {
            GraphSearcher s = new GraphSearcher(graph);
            synchronized (opened) {
                opened.add(s);
            }
            return s;
        });
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
            ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
            try (GraphIndexBuilder builder = new GraphIndexBuilder(BuildScoreProvider.randomAccessScoreProvider(ravv, metric.similarity()),
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
        float[][] vectors = readVectors(dir.resolve(VECTORS));
        List<Item> items = readItems(dir.resolve(ITEMS));
        if (items.size() != vectors.length) {
            throw new IOException("shard " + dir + " is inconsistent: " + items.size() + " items but " + vectors.length + " vectors");
        }
        // JVector's factory tries Java 22's MemorySegment reader and a native mmap first, warning twice on Java 17,
        // then takes this one: take it directly
        io.github.jbellis.jvector.disk.ReaderSupplier reader = new MappedChunkReader.Supplier(dir.resolve(GRAPH));
        OnDiskGraphIndex graph = OnDiskGraphIndex.load(reader);
        if (graph.size() != vectors.length) {
            reader.close();
            throw new IOException("shard " + dir + " is inconsistent: a graph of " + graph.size() + " nodes but " + vectors.length + " vectors");
        }
        return new GraphShard(metric, items, vectors, reader, graph);
    }

    public int size() {
        return vectors.length;
    }

    public int dimension() {
        return vectors[0].length;
    }

    public Item item(int node) {
        return items.get(node);
    }

    public float[] vector(int node) {
        return vectors[node];
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
        VectorFloat<?> q = VTS.createFloatVector(query);
        Bits accept = deleted.isEmpty() ? Bits.ALL : node -> !deleted.contains(node);
        SearchResult r = searchers.get().search(DefaultSearchScoreProvider.exact(q, metric.similarity(), ravv),
                k, Math.max(k, ef), 0f, 0f, accept);
        List<Hit> out = new ArrayList<>();
        for (SearchResult.NodeScore ns : r.getNodes()) {
            out.add(new Hit(items.get(ns.node), metric.distance(ns.score), vectors[ns.node]));
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

    @Override
    public void close() throws IOException {
        synchronized (opened) {
            for (GraphSearcher s : opened) {
                s.close();
            }
            opened.clear();
        }
        graph.close();
        reader.close();
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

    static float[][] readVectors(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.capacity() < 12 || b.getInt() != VECTORS_MAGIC) {
            throw new IOException(file + " is not a cnnlens vectors file");
        }
        int n = b.getInt();
        int d = b.getInt();
        if (n < 0 || d <= 0 || (long) n * d * 4 + 12 != b.capacity()) {
            throw new IOException(file + " is truncated or corrupt: " + n + " x " + d + " floats in " + b.capacity() + " bytes");
        }
        float[][] v = new float[n][d];
        var fb = b.asFloatBuffer();
        for (int i = 0; i < n; i++) {
            fb.get(v[i]);
        }
        return v;
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
