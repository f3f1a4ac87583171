package io.cnnlens.tests;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cnnlens.features.ImageInput;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Metric;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.index.IndexJob;
import io.cnnlens.jobs.index.IndexOptions;
import io.cnnlens.jobs.index.IndexServer;
import io.cnnlens.jobs.index.IndexStore;
import io.cnnlens.jobs.index.QueryImages;
import io.cnnlens.jobs.index.SearchJob;
import io.cnnlens.jobs.index.SearchOptions;
import io.cnnlens.jobs.index.ServeOptions;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * index, search and serve end to end on two small overlapping sets of the bundled sample: the
 * index against brute force, add and delete against a fresh build of the same set, search by
 * table, ids and image files, and the server's answers to good and bad requests.
 */
class IndexSearchServeTest extends SparkTestBase {

    @TempDir
    static Path dir;
    static Path featuresA;
    static Path featuresB;
    static Path imagesA;

    @BeforeAll
    static void features() throws Exception {
        imagesA = dir.resolve("a");
        Path imagesB = dir.resolve("b");
        copySample(imagesA, 5);
        copySample(imagesB, 7); // every 35th image is in both
        featuresA = dir.resolve("fa");
        featuresB = dir.resolve("fb");
        FeaturesJob.run(spark, FeaturesJobTest.settings(imagesA, featuresA, "bundled"));
        FeaturesJob.run(spark, FeaturesJobTest.settings(imagesB, featuresB, "bundled"));
    }

    static IndexOptions index(Path features, Path out, String mode, int partitions, String ids) {
        OptionValues v = OptionValues.defaults().with(SharedOptions.FEATURES, features == null ? "x" : features.toString())
                .with(SharedOptions.OUT, out.toString()).with(IndexOptions.MODE, mode).with(IndexOptions.PARTITIONS, partitions)
                .with(IndexOptions.M, 8).with(IndexOptions.EF_CONSTRUCTION, 100);
        if (ids != null) {
            v = v.with(IndexOptions.IDS, List.of(ids.split(",")));
        }
        return IndexOptions.of(v);
    }

    /** id → fc7 of a features table. */
    static Map<String, float[]> vectors(Path features) {
        Map<String, float[]> out = new HashMap<>();
        for (Row r : TableReader.read(spark, features.toString(), "image_id", "fc7").select("image_id", "fc7").collectAsList()) {
            out.put(r.getString(0), FeaturesJobTest.floats(r, "fc7"));
        }
        return out;
    }

    static List<String> exact(Map<String, float[]> all, float[] q, int k) {
        List<String> ids = new ArrayList<>(all.keySet());
        ids.sort((a, b) -> Double.compare(Metric.L2.exact(q, all.get(a)), Metric.L2.exact(q, all.get(b))));
        return ids.subList(0, k);
    }

    static double recall(ShardedSearch s, Map<String, float[]> all, int k, int ef) {
        double hit = 0;
        int n = 0;
        for (var e : all.entrySet()) {
            List<String> want = exact(all, e.getValue(), k);
            for (Hit h : s.search(e.getValue(), k, ef, false)) {
                if (want.contains(h.item().imageId())) {
                    hit++;
                }
            }
            n++;
        }
        return hit / (k * (double) n);
    }

    @Test
    void buildAddDeleteMatchAFreshBuildAndBruteForce() throws Exception {
        Path out = dir.resolve("inc");
        Map<String, float[]> a = vectors(featuresA);
        Map<String, float[]> b = vectors(featuresB);
        IndexJob.Summary built = IndexJob.run(spark, index(featuresA, out, "build", 2, null));
        assertEquals(a.size(), built.rows());
        assertEquals(2, built.shards());
        IndexStore store = new IndexStore(out.resolve("index").toString(), spark.sparkContext().hadoopConfiguration());
        IndexManifest m = store.require();
        assertEquals(128, m.dimension());
        assertEquals("fc7", m.column());
        assertEquals(a.size(), m.live());
        assertEquals(0L, m.sources().get(0).version(), "the features table's Delta version it holds");
        try (ShardedSearch s = store.open(m)) {
            double r = recall(s, a, 10, 64);
            assertTrue(r >= 0.95, "recall@10 of the built index " + r);
        }

        Set<String> overlap = new HashSet<>(a.keySet());
        overlap.retainAll(b.keySet());
        assertFalse(overlap.isEmpty(), "the two sets overlap by construction");
        IndexJob.Summary added = IndexJob.run(spark, index(featuresB, out, "add", 1, null));
        assertEquals(b.size() - overlap.size(), added.rows(), "only images not yet in the index are added");
        Map<String, float[]> union = new HashMap<>(a);
        union.putAll(b);
        List<String> doomed = new ArrayList<>(union.keySet()).subList(0, 15);
        IndexJob.Summary deleted = IndexJob.run(spark, index(null, out, "delete", 0, String.join(",", doomed) + ",no-such-id"));
        assertEquals(15, deleted.rows());
        m = store.require();
        assertEquals(union.size() - 15, m.live());
        assertEquals(3, m.shards().size(), "the add is a shard of its own; the old ones untouched");
        doomed.forEach(union::remove);

        Path fresh = dir.resolve("fresh");
        // a fresh build over the same live set: the union's tables, less the deleted
        try (ShardedSearch inc = store.open(m)) {
            double r = recall(inc, union, 10, 64);
            assertTrue(r >= 0.95, "recall@10 after add and delete " + r);
            for (float[] q : union.values()) {
                for (Hit h : inc.search(q, 10, 64, false)) {
                    assertFalse(doomed.contains(h.item().imageId()), "a deleted image was returned");
                }
            }
            IndexJob.run(spark, index(featuresA, fresh, "build", 1, null));
            IndexJob.run(spark, index(featuresB, fresh, "add", 1, null));
            IndexStore fs = new IndexStore(fresh.resolve("index").toString(), spark.sparkContext().hadoopConfiguration());
            // compaction: with --compact-below above every shard and one small shard allowed, the add merges them
            IndexOptions compact = IndexOptions.of(OptionValues.defaults().with(SharedOptions.FEATURES, "x")
                    .with(SharedOptions.OUT, fresh.toString()).with(IndexOptions.MODE, "delete")
                    .with(IndexOptions.IDS, doomed).with(IndexOptions.COMPACT_BELOW, 100_000).with(IndexOptions.MAX_SMALL_SHARDS, 1));
            IndexJob.Summary c = IndexJob.run(spark, compact);
            assertEquals(1, c.shards(), "two small shards merged into one");
            IndexManifest fm = fs.require();
            assertTrue(fm.deleted().isEmpty(), "the merge dropped the deleted rows and their tombstones");
            assertEquals(union.size(), fm.live());
            try (ShardedSearch fr = fs.open(fm)) {
                int same = 0;
                int total = 0;
                for (float[] q : union.values()) {
                    List<Hit> x = inc.search(q, 10, 64, true);
                    List<Hit> y = fr.search(q, 10, 64, true);
                    Set<String> xs = new HashSet<>();
                    x.forEach(h -> xs.add(h.item().imageId()));
                    for (Hit h : y) {
                        total++;
                        if (xs.contains(h.item().imageId())) {
                            same++;
                        }
                    }
                }
                assertTrue(same >= 0.95 * total, "incremental and fresh results agree: " + same + " of " + total);
            }
        }
    }

    @Test
    void searchByTableIdsAndImagesThenServe() throws Exception {
        Path out = dir.resolve("srv");
        IndexJob.run(spark, index(featuresA, out, "build", 1, null));
        String idx = out.resolve("index").toString();
        SearchJob.Summary t = SearchJob.run(spark, SearchOptions.of(OptionValues.defaults().with(SearchOptions.INDEX, idx)
                .with(SharedOptions.OUT, out.resolve("q").toString()).with(SearchOptions.QUERIES, featuresA.toString())));
        Map<String, float[]> a = vectors(featuresA);
        assertEquals(a.size(), t.queries());
        assertEquals(10L * a.size(), t.rows());
        List<Row> rank1 = TableReader.open(spark, out.resolve("q/search").toString()).filter("rank = 1").collectAsList();
        long self = rank1.stream().filter(r -> r.getString(r.fieldIndex("query")).equals(r.getString(r.fieldIndex("neighbour")))).count();
        assertTrue(self >= 0.99 * a.size(), "each image is its own nearest neighbour: " + self);
        assertTrue(Files.size(Path.of(t.picture())) > 1000);

        String someId = a.keySet().iterator().next();
        SearchJob.Summary byId = SearchJob.run(spark, SearchOptions.of(OptionValues.defaults().with(SearchOptions.INDEX, idx)
                .with(SharedOptions.OUT, out.resolve("i").toString()).with(SearchOptions.IDS, List.of(someId, "missing")).with(SearchOptions.K, 5)));
        assertEquals(2, byId.queries());
        assertEquals(1, byId.errors());
        assertEquals(5, byId.rows());

        List<Path> pngs;
        try (var w = Files.walk(imagesA)) {
            pngs = w.filter(p -> p.toString().endsWith(".png")).sorted().limit(2).toList();
        }
        Path junk = dir.resolve("junk.png");
        Files.writeString(junk, "not an image");
        SearchJob.Summary byImage = SearchJob.run(spark, SearchOptions.of(OptionValues.defaults().with(SearchOptions.INDEX, idx)
                .with(SharedOptions.OUT, out.resolve("f").toString())
                .with(SearchOptions.QUERY_IMAGES, List.of(pngs.get(0).toString(), pngs.get(1).toString(), junk.toString()))));
        assertEquals(3, byImage.queries());
        assertEquals(1, byImage.errors());
        assertEquals(20, byImage.rows());
        assertThrows(IllegalArgumentException.class, () -> SearchOptions.of(OptionValues.defaults()));

        // serve: good and bad requests
        ServeOptions so = ServeOptions.of(OptionValues.defaults().with(SearchOptions.INDEX, idx).with(ServeOptions.PORT, 0)
                .with(ServeOptions.THREADS, 2).with(ServeOptions.MAX_REQUEST_BYTES, 64L * 1024));
        IndexStore store = new IndexStore(idx, spark.sparkContext().hadoopConfiguration());
        try (IndexServer server = new IndexServer(so, spark.sparkContext().hadoopConfiguration());
             ShardedSearch direct = store.open(store.require())) {
            int port = server.start();
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + port;
            float[] q = a.get(someId);
            JsonObject body = new JsonObject();
            JsonArray arr = new JsonArray();
            for (float f : q) {
                arr.add(f);
            }
            body.add("vector", arr);
            HttpResponse<String> r = post(http, base + "/search?k=5", "application/json", body.toString().getBytes(StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), r.body());
            JsonArray ns = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("neighbours");
            List<Hit> want = direct.search(q, 5, 64, false);
            assertEquals(5, ns.size());
            for (int i = 0; i < 5; i++) {
                assertEquals(want.get(i).item().imageId(), ns.get(i).getAsJsonObject().get("image_id").getAsString());
                assertEquals(want.get(i).item().path(), ns.get(i).getAsJsonObject().get("path").getAsString());
            }
            byte[] png = Files.readAllBytes(pngs.get(0));
            HttpResponse<String> raw = post(http, base + "/search", "image/png", png);
            assertEquals(200, raw.statusCode(), raw.body());
            // the same vector as features computes for that file
            QueryImages qi = new QueryImages(store.require().model(), "fc7", 50_000_000L, spark.sparkContext().hadoopConfiguration());
            float[] fv = qi.vectors(List.of(ImageInput.of("x", null, png))).get(0).vector();
            assertEquals(direct.search(fv, 1, 64, false).get(0).item().imageId(),
                    JsonParser.parseString(raw.body()).getAsJsonObject().getAsJsonArray("neighbours").get(0).getAsJsonObject().get("image_id").getAsString());
            String boundary = "cnnlensboundary";
            byte[] multipart = concat(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8), png,
                    ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> mp = post(http, base + "/search", "multipart/form-data; boundary=" + boundary, multipart);
            assertEquals(200, mp.statusCode(), mp.body());
            assertEquals(raw.body().replaceAll("\"took_ms\":[0-9.E-]+", "").replace("\"query\":\"upload\"", ""),
                    mp.body().replaceAll("\"took_ms\":[0-9.E-]+", "").replace("\"query\":\"q.png\"", ""));
            // bad requests: 4xx with a JSON error, and the server goes on
            assertBad(post(http, base + "/search", "image/png", "not an image".getBytes(StandardCharsets.UTF_8)), 400);
            assertBad(post(http, base + "/search", "application/json", "{\"vector\": [1, 2]}".getBytes(StandardCharsets.UTF_8)), 400);
            assertBad(post(http, base + "/search", "application/json", "{\"vector\": ".getBytes(StandardCharsets.UTF_8)), 400);
            assertBad(post(http, base + "/search", "image/png", new byte[0]), 400);
            assertBad(post(http, base + "/search", "image/png", new byte[200 * 1024]), 413);
            assertBad(post(http, base + "/search?k=abc", "image/png", png), 400);
            assertBad(post(http, base + "/search", "multipart/form-data; boundary=" + boundary,
                    ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--" + boundary + "--\r\n")
                            .getBytes(StandardCharsets.UTF_8)), 400);
            assertBad(http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(), HttpResponse.BodyHandlers.ofString()), 404);
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals(a.size(), JsonParser.parseString(health.body()).getAsJsonObject().get("live").getAsLong());
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(page.body().contains("type=\"file\""));
            String img = ns.get(0).getAsJsonObject().get("image").getAsString();
            HttpResponse<byte[]> thumb = http.send(HttpRequest.newBuilder(URI.create(base + img)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, thumb.statusCode());
            assertEquals((byte) 0x89, thumb.body()[0], "a PNG");
        }
    }

    static void assertBad(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(JsonParser.parseString(r.body()).getAsJsonObject().get("error").getAsString().length() > 3, r.body());
    }

    static HttpResponse<String> post(HttpClient http, String url, String type, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
