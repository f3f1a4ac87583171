package io.cnnlens.jobs.index;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cnnlens.features.ImageInput;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Item;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.jobs.spark.ImageBytes;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import org.apache.hadoop.conf.Configuration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The serve job's HTTP server (docs/index.md#serve), on Javalin (Jetty underneath): {@code POST
 * /search} with an image (raw body, or multipart field {@code image}) or a JSON vector
 * ({@code {"vector": [...]}}) answers the neighbours as JSON; {@code GET /} is an upload page;
 * {@code GET /image/<id>} an indexed image; {@code GET /health}. Bounded: {@code threads} searches
 * at once (Jetty's pool holds a few more for its acceptors and selectors), bodies over
 * {@code maxRequestBytes} refused with 413, idle connections closed and slow searches answered
 * 503 after the timeout. A bad request is a 4xx with a JSON {@code error}; one log line per request.
 */
public final class IndexServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IndexServer.class);
    private static final Gson GSON = new Gson();

    private final ServeOptions o;
    private final IndexManifest manifest;
    private final ShardedSearch search;
    private final QueryImages images;
    private final Configuration conf;
    private final Map<String, Item> byId = new HashMap<>();
    private final ExecutorService workers;
    private final Javalin app;
    private ServerConnector connector;

    public IndexServer(ServeOptions o, Configuration conf) {
        this.o = o;
        this.conf = conf;
        IndexStore store = new IndexStore(o.index(), conf);
        this.manifest = store.require();
        this.search = store.open(manifest);
        this.images = new QueryImages(manifest.model(), manifest.column(), o.maxPixels(), conf);
        java.util.Set<String> deleted = manifest.deletedSet();
        for (IndexManifest.Shard s : manifest.shards()) {
            // items of live images, for /image/<id>
            try (var g = io.cnnlens.index.GraphShard.open(store.local(s.name()), manifest.metricValue())) {
                for (Item it : g.items()) {
                    if (!deleted.contains(it.imageId())) {
                        byId.put(it.imageId(), it);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        this.workers = Executors.newFixedThreadPool(o.threads());
        this.app = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.startupWatcherEnabled = false;
            c.http.maxRequestSize = o.maxRequestBytes();
            c.jetty.multipartConfig.maxFileSize(o.maxRequestBytes(), SizeUnit.BYTES);
            c.jetty.multipartConfig.maxTotalRequestSize(o.maxRequestBytes(), SizeUnit.BYTES);
            c.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, o.maxRequestBytes()), SizeUnit.BYTES);
            QueuedThreadPool pool = new QueuedThreadPool(o.threads() + 8, 2, o.timeoutMs());
            pool.setName("serve");
            c.jetty.threadPool = pool;
            c.jetty.addConnector((server, http) -> {
                ServerConnector sc = new ServerConnector(server, new HttpConnectionFactory(http));
                sc.setHost(o.host());
                sc.setPort(o.port());
                sc.setIdleTimeout(o.timeoutMs());
                connector = sc;
                return sc;
            });
            c.requestLogger.http((ctx, ms) -> LOG.info("{} {} {} {} {} ms", ctx.ip(), ctx.method(), ctx.path(), ctx.statusCode(),
                    String.format(Locale.ROOT, "%.1f", ms)));
        });
        app.get("/health", this::health);
        app.post("/search", this::search);
        app.get("/image/{id}", this::image);
        app.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(UploadPage.HTML));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
        app.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.warn("serve: {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "internal error: " + e.getClass().getSimpleName());
        });
        app.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty()) {
                error(ctx, 404, "no such resource: " + ctx.method() + " " + ctx.path());
            }
        });
        app.error(405, ctx -> error(ctx, 405, "method not allowed: " + ctx.method() + " " + ctx.path()));
    }

    /** Starts listening; returns the port (the one chosen when the option was 0). */
    public int start() {
        app.start();
        return connector.getLocalPort();
    }

    public int port() {
        return connector.getLocalPort();
    }

    private static void error(Context ctx, int status, String message) {
        JsonObject j = new JsonObject();
        j.addProperty("error", message == null ? "error " + status : message);
        j.addProperty("status", status);
        ctx.status(status).contentType("application/json").result(GSON.toJson(j));
    }

    private void health(Context ctx) {
        JsonObject j = new JsonObject();
        j.addProperty("status", "ok");
        j.addProperty("index", o.index());
        j.addProperty("model", manifest.model());
        j.addProperty("column", manifest.column());
        j.addProperty("metric", manifest.metric());
        j.addProperty("dimension", manifest.dimension());
        j.addProperty("live", search.live());
        j.addProperty("shards", manifest.shards().size());
        ctx.contentType("application/json").result(GSON.toJson(j));
    }

    private void search(Context ctx) throws Exception {
        long t0 = System.nanoTime();
        int k = intParam(ctx, "k", o.k(), 1, 1000);
        int ef = Math.max(k, intParam(ctx, "ef", o.ef(), 1, 10_000));
        boolean rerank = "true".equalsIgnoreCase(ctx.queryParam("rerank"));
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        float[] vector;
        String query;
        if (type.startsWith("application/json")) {
            vector = vectorFromJson(ctx.bodyAsBytes());
            query = "vector";
        } else {
            byte[] bytes;
            if (type.startsWith("multipart/form-data")) {
                UploadedFile f = ctx.uploadedFile("image");
                if (f == null) {
                    throw new IllegalArgumentException("a multipart upload needs a file field named 'image'");
                }
                if (f.size() > o.maxRequestBytes()) {
                    throw new HttpResponseException(413, "the image is larger than " + o.maxRequestBytes() + " bytes");
                }
                try (InputStream in = f.content()) {
                    bytes = in.readAllBytes();
                }
                query = f.filename() == null ? "upload" : f.filename();
            } else {
                bytes = ctx.bodyAsBytes();
                query = "upload";
            }
            if (bytes.length == 0) {
                throw new IllegalArgumentException("empty request body: send an image (raw or multipart field 'image') or JSON {\"vector\": [...]}");
            }
            QueryImages.Result r = run(() -> images.vectors(List.of(ImageInput.of(query, null, bytes))).get(0));
            if (!r.ok()) {
                throw new IllegalArgumentException("not a usable image (" + r.stage() + "): " + r.reason());
            }
            vector = r.vector();
        }
        float[] v = vector;
        List<Hit> hits = run(() -> search.search(v, k, ef, rerank));
        JsonObject out = new JsonObject();
        out.addProperty("query", query);
        out.addProperty("k", k);
        out.addProperty("ef", ef);
        out.addProperty("metric", manifest.metric());
        JsonArray arr = new JsonArray();
        int rank = 1;
        for (Hit h : hits) {
            JsonObject n = new JsonObject();
            n.addProperty("rank", rank++);
            n.addProperty("image_id", h.item().imageId());
            n.addProperty("path", h.item().path());
            n.addProperty("label", h.item().label());
            n.addProperty("distance", h.distance());
            n.addProperty("image", "/image/" + java.net.URLEncoder.encode(h.item().imageId(), StandardCharsets.UTF_8));
            arr.add(n);
        }
        out.add("neighbours", arr);
        out.addProperty("took_ms", (System.nanoTime() - t0) / 1e6);
        ctx.contentType("application/json").result(GSON.toJson(out));
    }

    private <T> T run(java.util.concurrent.Callable<T> task) throws Exception {
        Future<T> f = workers.submit(task);
        try {
            return f.get(o.timeoutMs(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new HttpResponseException(503, "the search took longer than " + o.timeoutMs() + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    private float[] vectorFromJson(byte[] body) {
        JsonElement e;
        try {
            e = JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
        } catch (RuntimeException x) {
            throw new IllegalArgumentException("the body is not valid JSON: " + x.getMessage());
        }
        if (!e.isJsonObject() || !e.getAsJsonObject().has("vector") || !e.getAsJsonObject().get("vector").isJsonArray()) {
            throw new IllegalArgumentException("JSON body must be {\"vector\": [numbers]}");
        }
        JsonArray a = e.getAsJsonObject().getAsJsonArray("vector");
        if (a.size() != search.dimension()) {
            throw new IllegalArgumentException("the vector has " + a.size() + " values; this index's vectors have " + search.dimension());
        }
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonElement x = a.get(i);
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                throw new IllegalArgumentException("vector value " + i + " is not a number");
            }
            v[i] = x.getAsFloat();
        }
        return v;
    }

    private void image(Context ctx) throws Exception {
        Item it = byId.get(ctx.pathParam("id"));
        if (it == null) {
            throw new HttpResponseException(404, "the index holds no image with id " + ctx.pathParam("id"));
        }
        byte[] b = ImageBytes.read(it.path(), -1, null, o.maxRequestBytes() * 4, conf);
        String p = it.path().toLowerCase(Locale.ROOT);
        ctx.contentType(p.endsWith(".png") ? "image/png" : p.endsWith(".gif") ? "image/gif" : p.endsWith(".bmp") ? "image/bmp" : "image/jpeg")
                .header("Cache-Control", "max-age=3600").result(b);
    }

    private static int intParam(Context ctx, String name, int def, int min, int max) {
        String s = ctx.queryParam(name);
        if (s == null || s.isEmpty()) {
            return def;
        }
        try {
            int v = Integer.parseInt(s);
            if (v < min || v > max) {
                throw new IllegalArgumentException("?" + name + " must be between " + min + " and " + max);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("?" + name + " is not a whole number: " + s);
        }
    }

    @Override
    public void close() throws IOException {
        app.stop();
        workers.shutdownNow();
        search.close();
    }
}
