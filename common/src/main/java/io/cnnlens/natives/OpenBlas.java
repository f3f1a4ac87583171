package io.cnnlens.natives;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The bundled OpenBLAS (the bytedeco build, LAPACK and LAPACKE inside) that Smile's PCA calls,
 * loaded before any other BLAS can enter the JVM. See docs/natives.md.
 *
 * <p>Every OpenBLAS build names itself {@code libopenblas.so.0}. Spark MLlib's native BLAS loads
 * the system's {@code libblas.so.3}, which on Debian with OpenBLAS installed is such a build, and
 * Debian's has no LAPACKE. Once it is in the process, the dynamic linker binds the bundled JNI
 * library's {@code libopenblas.so.0} to it, and Smile's first LAPACK call ends the JVM with
 * "symbol lookup error: undefined symbol: LAPACKE_dsyevd". So {@link #loadFirst()} runs where a
 * JVM starts cnnlens work (a job's Spark session, the test launcher), and
 * {@link #requireLapack()}, called before each Smile fit, turns the crash into a clear error
 * when another OpenBLAS was there first anyway.
 */
public final class OpenBlas {

    private static final Logger LOG = LoggerFactory.getLogger(OpenBlas.class);

    private OpenBlas() {
    }

    private static final class Loaded {
        /** Empty when the bundled library loaded first; otherwise why LAPACK calls are refused. */
        static final String PROBLEM = load();
    }

    /** Loads the bundled OpenBLAS once per JVM (later calls return at once). */
    public static void loadFirst() {
        if (!Loaded.PROBLEM.isEmpty()) {
            LOG.debug(Loaded.PROBLEM);
        }
    }

    /**
     * Throws when a LAPACK call through the bundled OpenBLAS would end the JVM: the bundled
     * library did not load, or another OpenBLAS was loaded into this JVM before it.
     */
    public static void requireLapack() {
        if (!Loaded.PROBLEM.isEmpty()) {
            throw new IllegalStateException(Loaded.PROBLEM);
        }
    }

    private static String load() {
        List<String> before = foreignLibraries();
        try {
            Loader.load(openblas.class);
        } catch (Throwable t) {
            String p = "the bundled OpenBLAS did not load (" + t.getClass().getSimpleName() + ": " + t.getMessage()
                    + "); PCA needs it";
            LOG.warn(p);
            return p;
        }
        if (!before.isEmpty()) {
            String p = "another OpenBLAS was loaded into this JVM before the bundled one (" + String.join(", ", before)
                    + "), so LAPACK calls would bind to it and end the JVM; load cnnlens's first"
                    + " (io.cnnlens.natives.OpenBlas.loadFirst(), as every cnnlens job does) - docs/natives.md";
            LOG.warn(p);
            return p;
        }
        return "";
    }

    /**
     * The OpenBLAS files mapped into this process now that are not the bundled ones (JavaCPP's
     * cache), read from {@code /proc/self/maps}: empty where there is none (not Linux).
     */
    public static List<String> foreignLibraries() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return List.of();
        }
        String cache;
        try {
            cache = Loader.getCacheDir().getCanonicalPath();
        } catch (IOException e) {
            return List.of();
        }
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.map(l -> l.indexOf('/') < 0 ? "" : l.substring(l.indexOf('/')).trim())
                    .filter(p -> !p.isEmpty() && !p.startsWith(cache))
                    .filter(p -> Path.of(p).getFileName().toString().contains("openblas"))
                    .distinct()
                    .toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
