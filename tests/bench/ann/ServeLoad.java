import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load on a running serve (loopback): C clients x N queries each, by vector (JSON from
 * queries.fvecs) or by image (PNG files), with M malformed requests spread among them; prints
 * queries/s, p50/p99 latency, status counts, and checks every malformed one got a 4xx and the
 * server still answers /health.
 * Usage: java ServeLoad.java <base url> vector|image <queries.fvecs | folder of images> clients perClient malformed
 */
public class ServeLoad {
    public static void main(String[] a) throws Exception {
        String base = a[0];
        String mode = a[1];
        int clients = Integer.parseInt(a[3]);
        int per = Integer.parseInt(a[4]);
        int malformed = Integer.parseInt(a[5]);
        List<byte[]> bodies = new ArrayList<>();
        String type;
        if (mode.equals("vector")) {
            type = "application/json";
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(Path.of(a[2]))).order(ByteOrder.LITTLE_ENDIAN);
            int d = b.getInt(0);
            int n = Math.min(b.capacity() / (4 * (d + 1)), 5000);
            for (int i = 0; i < n; i++) {
                b.getInt();
                StringBuilder sb = new StringBuilder("{\"vector\":[");
                for (int j = 0; j < d; j++) {
                    sb.append(j == 0 ? "" : ",").append(b.getFloat());
                }
                bodies.add(sb.append("]}").toString().getBytes(StandardCharsets.UTF_8));
            }
        } else {
            type = "image/png";
            try (var w = Files.walk(Path.of(a[2]))) {
                for (Path p : w.filter(p -> p.toString().endsWith(".png")).sorted().limit(5000).toList()) {
                    bodies.add(Files.readAllBytes(p));
                }
            }
        }
        List<byte[]> bad = List.of("not an image".getBytes(StandardCharsets.UTF_8), new byte[0],
                "{\"vector\": [1,2,3]}".getBytes(StandardCharsets.UTF_8), "{\"vector\": ".getBytes(StandardCharsets.UTF_8),
                new byte[9 << 20]);
        List<String> badTypes = List.of("image/png", "image/png", "application/json", "application/json", "image/png");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicInteger badLeft = new AtomicInteger(malformed);
        List<Long> lat = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger ok = new AtomicInteger(), fourxx = new AtomicInteger(), fivexx = new AtomicInteger(), badNot4xx = new AtomicInteger(),
                badOk = new AtomicInteger();
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int cc = c;
            fs.add(pool.submit(() -> {
                for (int i = 0; i < per; i++) {
                    boolean malformedNow = (i % Math.max(1, per * clients / Math.max(1, malformed))) == cc && badLeft.getAndDecrement() > 0;
                    try {
                        HttpResponse<String> r;
                        if (malformedNow) {
                            int w = (i + cc) % bad.size();
                            r = http.send(HttpRequest.newBuilder(URI.create(base + "/search")).header("Content-Type", badTypes.get(w))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(bad.get(w))).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() >= 400 && r.statusCode() < 500) {
                                badOk.incrementAndGet();
                            } else {
                                badNot4xx.incrementAndGet();
                                System.err.println("malformed request got " + r.statusCode() + ": " + r.body());
                            }
                            continue;
                        }
                        byte[] body = bodies.get((cc * per + i) % bodies.size());
                        long s = System.nanoTime();
                        r = http.send(HttpRequest.newBuilder(URI.create(base + "/search")).header("Content-Type", type)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
                        lat.add(System.nanoTime() - s);
                        if (r.statusCode() == 200) {
                            ok.incrementAndGet();
                        } else if (r.statusCode() < 500) {
                            fourxx.incrementAndGet();
                        } else {
                            fivexx.incrementAndGet();
                        }
                    } catch (Exception e) {
                        fivexx.incrementAndGet();
                        System.err.println("request failed: " + e);
                    }
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        List<Long> l = new ArrayList<>(lat);
        Collections.sort(l);
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        System.out.printf(Locale.ROOT, "serve load (%s): %d clients x %d, %.1f s, %.0f queries/s, p50 %.1f ms, p99 %.1f ms; 200: %d, "
                        + "other 4xx: %d, 5xx/failed: %d; malformed: %d got 4xx, %d did not; /health after: %d; load %s%n",
                mode, clients, per, secs, ok.get() / secs, l.get(l.size() / 2) / 1e6, l.get((int) (l.size() * 0.99)) / 1e6, ok.get(),
                fourxx.get(), fivexx.get(), badOk.get(), badNot4xx.get(), health.statusCode(),
                new String(Files.readAllBytes(Path.of("/proc/loadavg"))).split(" ")[0]);
    }
}
