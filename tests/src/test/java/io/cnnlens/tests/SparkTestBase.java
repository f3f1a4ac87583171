package io.cnnlens.tests;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** One local Spark session per test class (local[2], UI off, loopback host). */
abstract class SparkTestBase {

    static SparkSession spark;

    @BeforeAll
    static void startSpark() {
        spark = io.cnnlens.jobs.spark.SparkSessions.withTables(SparkSession.builder())
                .master("local[2]")
                .appName("cnnlens-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.executor.heartbeatInterval", "1s") // Progress sees running tasks through heartbeats
                .getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
    }

    /** The repository root (set by the build; the tests module's parent otherwise). */
    static Path home() {
        String h = System.getProperty("cnnlens.home");
        return (h == null ? Path.of("..") : Path.of(h)).toAbsolutePath().normalize();
    }

    static Path bundledSample() {
        return home().resolve("conf/sample/fashion-mnist");
    }

    /** Every {@code every}-th image of the bundled sample (sorted by path), copied into class folders under {@code dir}. */
    static List<Path> copySample(Path dir, int every) throws java.io.IOException {
        List<Path> sample;
        try (Stream<Path> w = Files.walk(bundledSample())) {
            sample = w.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        for (int i = 0; i < sample.size(); i += every) {
            Path t = dir.resolve(sample.get(i).getParent().getFileName()).resolve(sample.get(i).getFileName());
            Files.createDirectories(t.getParent());
            Files.copy(sample.get(i), t);
        }
        return sample;
    }

    static Path bundledSpec() {
        return home().resolve("conf/models/fashion-alexnet.properties");
    }

    static Path resource(String name) {
        try {
            return Path.of(SparkTestBase.class.getResource("/" + name).toURI());
        } catch (Exception e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }
}
