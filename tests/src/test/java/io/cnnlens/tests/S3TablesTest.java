package io.cnnlens.tests;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code features} reading its images from and committing its tables into an S3 bucket through
 * Hadoop's S3A, against S3Mock (an S3-compatible server) on loopback. S3 has no rename: Delta
 * commits there through its S3SingleDriverLogStore (docs/tables.md, "Object stores and HDFS").
 *
 * <p>S3Mock is a Spring Boot application; it runs as a child JVM from its runnable jar, which the
 * build copies to {@code target/s3mock/s3mock.jar} (system property {@code cnnlens.s3mock.jar}),
 * so that its Spring, Tomcat and Jackson stay off the test's classpath.
 */
class S3TablesTest extends StoreTablesScenario {

    static final String BUCKET = "cnnlens";

    @TempDir
    static Path storeDir;

    @TempDir
    Path tmp;

    private static Process s3mock;
    private static Map<String, String> settings;

    @BeforeAll
    static void startS3Mock() throws Exception {
        int port = freePort();
        Path jar = Path.of(System.getProperty("cnnlens.s3mock.jar", "target/s3mock/s3mock.jar"));
        // its log stays beside the jar (the store itself goes with the test's temporary folder)
        Path log = jar.resolveSibling("s3mock.log");
        s3mock = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-jar", jar.toString(),
                "--server.address=127.0.0.1",
                "--com.adobe.testing.s3mock.httpPort=" + port,
                "--server.port=0", // its https connector: unused
                "--com.adobe.testing.s3mock.store.root=" + storeDir.resolve("root"),
                "--com.adobe.testing.s3mock.store.initialBuckets=" + BUCKET,
                "--spring.main.banner-mode=off"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String endpoint = "http://127.0.0.1:" + port;
        awaitBucket(endpoint + "/" + BUCKET, log);
        settings = new LinkedHashMap<>();
        settings.put("fs.s3a.endpoint", endpoint);
        settings.put("fs.s3a.endpoint.region", "us-east-1");
        settings.put("fs.s3a.path.style.access", "true");
        settings.put("fs.s3a.connection.ssl.enabled", "false");
        settings.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        settings.put("fs.s3a.access.key", "test");
        settings.put("fs.s3a.secret.key", "test");
        configure(settings);
    }

    @AfterAll
    static void stopS3Mock() throws InterruptedException {
        if (s3mock != null) {
            s3mock.destroy();
            if (!s3mock.waitFor(20, TimeUnit.SECONDS)) {
                s3mock.destroyForcibly();
            }
        }
    }

    @Test
    void featuresOnS3aCountsAndADriverKilledMidCommit() throws Exception {
        featuresOnTheStoreAndADriverKilledMidCommit("s3a://" + BUCKET + "/run", settings, tmp);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Waits until S3Mock answers for the bucket (HEAD 200), at most two minutes. */
    private static void awaitBucket(String bucketUrl, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            if (!s3mock.isAlive()) {
                throw new IllegalStateException("S3Mock exited with " + s3mock.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(bucketUrl).toURL().openConnection();
                c.setRequestMethod("HEAD");
                c.setConnectTimeout(1000);
                c.setReadTimeout(5000);
                if (c.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("S3Mock did not start in 2 minutes:\n" + Files.readString(log));
    }
}
