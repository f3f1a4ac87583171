package io.cnnlens.tests;

import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.features.FeaturesOptions;
import io.cnnlens.jobs.spark.ImageSource;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every input accounted for: a folder with the things a real file system holds besides plain
 * images (links, a link loop, a dangling link, a FIFO, a name that is not UTF-8, a Unicode name,
 * a folder the listing cannot enter) gives one row in the features table or one in the errors
 * table for each thing listed, and the counts reconcile.
 */
class InputListingTest extends SparkTestBase {

    @TempDir
    Path tmp;

    /** What one listed thing must become: "ok" (a features row) or an error stage, and a part of its reason. */
    record Expect(String stage, String reason, String label) {
    }

    @Test
    void everyListedThingIsARowOrAnErrorRow() throws Exception {
        Path dir = tmp.resolve("bad-inputs");
        Path deep = dir.resolve("deep");
        Path locked = dir.resolve("locked");
        Map<String, Expect> expected = new TreeMap<>();
        try {
            build(dir, expected);
            FeaturesJob.Summary s = FeaturesJob.run(spark, FeaturesJobTest.settings(dir, tmp.resolve("out"), "bundled"));
            System.out.println("bad inputs: " + s.line());

            Map<String, String> seen = new TreeMap<>(); // key below the folder -> "ok" or "stage: reason"
            List<Row> features = io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out/features").toString()).collectAsList();
            List<Row> errors = io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out/errors").toString()).collectAsList();
            String prefix = "file:" + dir.toAbsolutePath().normalize() + "/";
            for (Row f : features) {
                String path = f.getString(f.fieldIndex("path"));
                assertTrue(path.startsWith(prefix), path);
                String key = path.substring(prefix.length());
                Expect e = expected.get(key);
                assertTrue(e != null, "unexpected row " + key);
                assertEquals("ok", e.stage(), key + " is a row, expected " + e);
                assertEquals(e.label(), f.getString(f.fieldIndex("label")), "label of " + key);
                seen.put(key, "ok");
            }
            for (Row r : errors) {
                String path = r.getString(0);
                assertTrue(path.startsWith(prefix), path);
                String key = path.substring(prefix.length());
                Expect e = expected.get(key);
                assertTrue(e != null, "unexpected error row " + key + ": " + r.getString(1) + ": " + r.getString(2));
                assertEquals(e.stage(), r.getString(1), key + ": " + r.getString(2));
                assertTrue(r.getString(2).contains(e.reason()), key + ": reason '" + r.getString(2) + "' lacks '" + e.reason() + "'");
                seen.put(key, r.getString(1) + ": " + r.getString(2));
            }
            seen.forEach((k, v) -> System.out.println("  " + (k.length() > 90 ? k.substring(0, 40) + "…" + k.substring(k.length() - 40) : k)
                    + " -> " + (v.length() > 150 ? v.substring(0, 150) + "…" : v)));
            assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(seen.keySet()), "every listed thing once");
            assertEquals(expected.size(), s.inputs());
            assertEquals(expected.size(), features.size() + errors.size(), "inputs = rows + errors");
            assertEquals(s.rows(), features.size());
            assertEquals(s.errors(), errors.size());

            // row content does not depend on the partitioning: one task gives the same rows
            FeaturesOptions one = FeaturesOptions.of(FeaturesJobTest.values(dir, tmp.resolve("out1"), "bundled")
                    .with(FeaturesOptions.PARTITIONS, 1));
            FeaturesJob.run(spark, one);
            assertEquals(rowsOf(tmp.resolve("out")), rowsOf(tmp.resolve("out1")));
        } finally {
            // the folders the test made unreadable or too deep for Java to delete
            if (Files.exists(locked)) {
                Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            sh("rm -rf " + q(deep));
        }
    }

    @Test
    void partitionsGiveEachTaskASmallShare() {
        long mb = 128L << 20;
        assertEquals(10, new ImageSource.Inputs(10_000, 10_000L * 400, null).partitions(2, mb), "10,000 images, 2 cores: 1,000 a task");
        assertEquals(8, new ImageSource.Inputs(2_000, 2_000L * 400, null).partitions(2, mb), "≤ 1/8 of the inputs a task");
        assertEquals(16, new ImageSource.Inputs(10_000, 10_000L * 400, null).partitions(16, mb), "a task per core");
        assertEquals(2, new ImageSource.Inputs(100, 100L * 400, null).partitions(2, mb), "no task under one batch for the share rule");
        assertEquals(5, new ImageSource.Inputs(5, 5L * 400, null).partitions(8, mb), "never more tasks than inputs");
        assertEquals(40, new ImageSource.Inputs(1_000, 5_000L * mb, null).partitions(2, 128L * mb), "bytes");
        assertEquals(ImageSource.MAX_PARTITIONS, new ImageSource.Inputs(50_000_000, 50_000_000L * 400, null).partitions(2, mb), "bounded");
    }

    /** The bad-input folder, and what each thing in it must become (keys: the path below {@code dir}). */
    private void build(Path dir, Map<String, Expect> expected) throws Exception {
        List<Path> sample;
        try (Stream<Path> w = Files.walk(bundledSample())) {
            sample = w.filter(p -> p.toString().endsWith(".png")).sorted().limit(4).toList();
        }
        Path shirt = Files.createDirectories(dir.resolve("shirt"));
        Path imgs = Files.createDirectories(dir.resolve("imgs"));
        Files.copy(sample.get(0), shirt.resolve("valid.png"));
        expected.put("shirt/valid.png", new Expect("ok", null, "shirt"));
        Files.copy(sample.get(1), imgs.resolve("a.png"));
        Files.copy(sample.get(2), imgs.resolve("b.png"));
        expected.put("imgs/a.png", new Expect("ok", null, "imgs"));
        expected.put("imgs/b.png", new Expect("ok", null, "imgs"));

        // a link to a valid image: followed, the link's path is the input
        Files.createSymbolicLink(dir.resolve("link-to-valid.png"), shirt.resolve("valid.png"));
        expected.put("link-to-valid.png", new Expect("ok", null, null));
        // a link to a folder of images: walked, labelled by the link's name
        Files.createSymbolicLink(dir.resolve("link-to-imgs"), imgs);
        expected.put("link-to-imgs/a.png", new Expect("ok", null, "link-to-imgs"));
        expected.put("link-to-imgs/b.png", new Expect("ok", null, "link-to-imgs"));
        // a folder link to its parent: a loop, reported once per way the walk meets it, not walked forever
        Files.createSymbolicLink(imgs.resolve("loop"), Path.of(".."));
        expected.put("imgs/loop", new Expect("list", "symbolic link loop", null));
        expected.put("link-to-imgs/loop", new Expect("list", "symbolic link loop", null));
        // a dangling link
        Files.createSymbolicLink(dir.resolve("dangling.png"), dir.resolve("nowhere.png"));
        expected.put("dangling.png", new Expect("list", "dangling symbolic link", null));
        // a FIFO: never opened (opening it would block the task)
        sh("mkfifo " + q(dir.resolve("fifo.png")));
        expected.put("fifo.png", new Expect("list", "FIFO", null));
        // a name that is not UTF-8 (byte 0xFF): no Java path string can open it, so an error row with the byte escaped
        sh("cp " + q(sample.get(0)) + " " + q(shirt) + "/$'bad-\\xff.png'");
        expected.put("shirt/bad-\\xFF.png", new Expect("list", "not valid UTF-8", null));
        // a Unicode name: read under a UTF-8 locale; under another one Java cannot open it and says why
        Files.copy(sample.get(3), shirt.resolve("画像.png"));
        boolean utf8 = "UTF-8".equals(System.getProperty("sun.jnu.encoding"));
        expected.put("shirt/画像.png", utf8 ? new Expect("ok", null, "shirt") : new Expect("read", "LC_ALL=C.UTF-8", null));

        // an unreadable folder: an error row of stage list, not a failed job. chmod 000 does not
        // stop root (CAP_DAC_OVERRIDE), so when it does not block here its image is simply read...
        Path locked = Files.createDirectories(dir.resolve("locked"));
        Files.copy(sample.get(1), locked.resolve("c.png"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        if (listable(locked)) {
            expected.put("locked/c.png", new Expect("ok", null, "locked"));
        } else {
            expected.put("locked", new Expect("list", "AccessDeniedException", null));
        }
        // ...and a folder that no one can enter by its path, root included, takes its place: one whose
        // absolute path is longer than PATH_MAX (4,096 bytes), made by steps of relative paths
        String name = "d".repeat(250);
        sh("cd " + q(Files.createDirectories(dir.resolve("deep"))) + " && for i in $(seq 18); do mkdir " + name
                + " && cd " + name + " || exit 1; done && cp " + q(sample.get(0)) + " x.png");
        StringBuilder key = new StringBuilder("deep");
        Path abs = dir.toAbsolutePath().normalize().resolve("deep");
        while (abs.toString().length() + 1 + name.length() < 4096) {
            abs = abs.resolve(name);
            key.append('/').append(name);
        }
        key.append('/').append(name);
        expected.put(key.toString(), new Expect("list", "File name too long", null));
    }

    private static boolean listable(Path dir) {
        try (var s = Files.newDirectoryStream(dir)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The features table's rows without its timing columns, sorted. */
    private static List<String> rowsOf(Path out) {
        List<String> rows = new ArrayList<>();
        for (Row r : io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).select("path", "label", "image_id", "pred")
                .collectAsList()) {
            rows.add(r.mkString("|"));
        }
        rows.sort(null);
        return rows;
    }

    private static String q(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    private static void sh(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("`" + command + "` failed: " + output);
        }
    }
}
