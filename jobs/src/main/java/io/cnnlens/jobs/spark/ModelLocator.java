package io.cnnlens.jobs.spark;

import io.cnnlens.model.ModelSpec;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a {@code --model} argument into a local spec file that {@link ModelSpec#load} reads:
 * <ul>
 *   <li>{@code bundled} (the default) or {@code bundled:<name>}: a spec shipped inside the job jar
 *       ({@code conf/models/<name>.properties} and the files it names);</li>
 *   <li>a local path: used as it is;</li>
 *   <li>a Hadoop URI ({@code hdfs:}, {@code s3a:}, ...): the spec and the files it names
 *       ({@code weights}, {@code labels}) are copied once per JVM into a local folder.</li>
 * </ul>
 */
public final class ModelLocator {

    public static final String BUNDLED = "bundled";
    public static final String BUNDLED_DEFAULT = "fashion-alexnet";
    private static final String RESOURCE_ROOT = "cnnlens/models/";

    private static final Map<String, java.nio.file.Path> LOCAL = new ConcurrentHashMap<>();

    private ModelLocator() {
    }

    public static ModelSpec load(String location, Configuration hadoop) {
        return ModelSpec.load(localSpec(location, hadoop));
    }

    public static java.nio.file.Path localSpec(String location, Configuration hadoop) {
        return LOCAL.computeIfAbsent(location, l -> materialise(l, hadoop));
    }

    private static java.nio.file.Path materialise(String location, Configuration hadoop) {
        try {
            if (location.equals(BUNDLED) || location.startsWith(BUNDLED + ":")) {
                String name = location.equals(BUNDLED) ? BUNDLED_DEFAULT : location.substring(BUNDLED.length() + 1);
                return copy(name + ".properties", rel -> {
                    InputStream in = ModelLocator.class.getClassLoader().getResourceAsStream(RESOURCE_ROOT + rel);
                    if (in == null) {
                        throw new IOException("no bundled model file " + rel + " (is it a bundled model name?)");
                    }
                    return in;
                });
            }
            java.net.URI uri = new java.net.URI(location.replace(" ", "%20"));
            if (uri.getScheme() == null || uri.getScheme().equals("file")) {
                java.nio.file.Path p = uri.getScheme() == null ? java.nio.file.Path.of(location) : java.nio.file.Path.of(uri);
                if (!Files.isRegularFile(p)) {
                    throw new IllegalArgumentException("model spec not found: " + location);
                }
                return p;
            }
            Path spec = new Path(location);
            FileSystem fs = spec.getFileSystem(hadoop);
            Path dir = spec.getParent();
            return copy(spec.getName(), rel -> {
                FSDataInputStream in = fs.open(new Path(dir, rel));
                return in;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch model " + location + ": " + e.getMessage(), e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("bad model location " + location, e);
        }
    }

    @FunctionalInterface
    private interface Opener {
        InputStream open(String relative) throws IOException;
    }

    /** Copies the spec and the files it names into a fresh local folder; returns the local spec. */
    private static java.nio.file.Path copy(String specName, Opener opener) throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("cnnlens-model-");
        dir.toFile().deleteOnExit();
        java.nio.file.Path spec = dir.resolve(specName);
        String text;
        try (InputStream in = opener.open(specName)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Files.writeString(spec, text);
        Properties p = new Properties();
        try (Reader r = new StringReader(text)) {
            p.load(r);
        }
        for (String key : new String[] {"weights", "labels"}) {
            String rel = p.getProperty(key);
            if (rel == null || rel.isBlank()) {
                continue;
            }
            java.nio.file.Path target = dir.resolve(rel.trim()).normalize();
            if (!target.startsWith(dir)) {
                throw new IOException(key + " must be a path below the spec's folder: " + rel);
            }
            Files.createDirectories(target.getParent());
            try (InputStream in = opener.open(rel.trim())) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return spec;
    }
}
