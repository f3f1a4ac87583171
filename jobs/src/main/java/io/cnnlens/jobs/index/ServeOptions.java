package io.cnnlens.jobs.index;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/** The serve job's options: the index, where to listen, and the server's bounds. */
public record ServeOptions(String index, String host, int port, int threads, long maxRequestBytes, int timeoutMs, int k, int ef,
                           long maxPixels) {

    public static final OptionKey<String> HOST = OptionKey.text("host", "127.0.0.1",
            "Address to listen on (0.0.0.0 for all interfaces, as in a container).");
    public static final OptionKey<Integer> PORT = OptionKey.integer("port", 8080, "TCP port; 0 = any free port (printed).");
    public static final OptionKey<Integer> THREADS = OptionKey.integer("threads", 8, "Worker threads (requests served at once).");
    public static final OptionKey<Long> MAX_REQUEST_BYTES = OptionKey.count("max-request-bytes", 8L << 20,
            "Largest request body (an image upload); larger ones get 413.");
    public static final OptionKey<Integer> TIMEOUT_MS = OptionKey.integer("timeout-ms", 10_000,
            "A connection idle this long is closed; a search taking longer is answered 503.");
    public static final OptionKey<Integer> K = OptionKey.integer("k", 10, "Neighbours per query unless the request says ?k=.");
    public static final OptionKey<Integer> EF = OptionKey.integer("ef", 64, "Search beam width unless the request says ?ef=.");

    static final List<OptionKey<?>> KEYS = List.of(SearchOptions.INDEX, SharedOptions.MASTER, HOST, PORT, THREADS, MAX_REQUEST_BYTES,
            TIMEOUT_MS, K, EF, SharedOptions.MAX_PIXELS);

    public ServeOptions {
        if (index == null || index.isBlank()) {
            throw new IllegalArgumentException("--index is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be between 0 and 65535");
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("--threads must be between 1 and 1024");
        }
        if (maxRequestBytes < 1024) {
            throw new IllegalArgumentException("--max-request-bytes must be at least 1024");
        }
        if (timeoutMs < 100) {
            throw new IllegalArgumentException("--timeout-ms must be at least 100");
        }
        if (k < 1 || ef < k) {
            throw new IllegalArgumentException("--k must be at least 1 and --ef at least --k");
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("--max-pixels must be positive");
        }
    }

    public static ServeOptions of(OptionValues v) {
        return new ServeOptions(v.get(SearchOptions.INDEX), v.get(HOST), v.get(PORT), v.get(THREADS), v.get(MAX_REQUEST_BYTES),
                v.get(TIMEOUT_MS), v.get(K), v.get(EF), v.get(SharedOptions.MAX_PIXELS));
    }
}
