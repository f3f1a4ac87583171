package io.cnnlens.tests;

import io.cnnlens.jobs.features.FeaturesOptions;

import io.cnnlens.jobs.SharedOptions;

import io.cnnlens.jobs.OptionValues;

import io.cnnlens.image.HugePng;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeaturesJobTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static OptionValues values(Path images, Path out, String model) {
        return OptionValues.defaults().with(SharedOptions.IMAGES, images.toString()).with(SharedOptions.OUT, out.toString())
                .with(SharedOptions.MODEL, model);
    }

    static FeaturesOptions settings(Path images, Path out, String model) {
        return FeaturesOptions.of(values(images, out, model));
    }

    static float[] floats(Row r, String column) {
        List<Object> l = r.getList(r.fieldIndex(column));
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (Float) l.get(i);
        }
        return f;
    }

    @Test
    void bundledSampleMatchesADirectForwardOfTheSameImages() throws Exception {
        Path out = tmp.resolve("out");
        FeaturesJob.Summary s = FeaturesJob.run(spark, settings(bundledSample(), out, "bundled"));
        List<Path> files;
        try (Stream<Path> w = Files.walk(bundledSample())) {
            files = w.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertEquals(files.size(), s.inputs());
        assertEquals(files.size(), s.rows());
        assertEquals(0, s.errors());

        Dataset<Row> t = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString());
        List<Row> rows = t.collectAsList();
        assertEquals(files.size(), rows.size());
        Map<String, Row> byPath = new HashMap<>();
        Set<String> ids = new HashSet<>();
        for (Row r : rows) {
            byPath.put(Path.of(java.net.URI.create(r.getString(r.fieldIndex("path")))).toString(), r);
            ids.add(r.getString(r.fieldIndex("image_id")));
        }
        assertEquals(files.size(), ids.size(), "image ids unique");

        float[][][] direct = DirectForward.run(ModelSpec.load(bundledSpec()), files);
        double maxFc7 = 0;
        double maxLogits = 0;
        int correct = 0;
        for (int i = 0; i < files.size(); i++) {
            Row r = byPath.get(files.get(i).toString());
            String folder = files.get(i).getParent().getFileName().toString();
            assertEquals(folder, r.getString(r.fieldIndex("label")), "label = class folder");
            maxFc7 = Math.max(maxFc7, DirectForward.maxAbsDiff(direct[0][i], floats(r, "fc7")));
            maxLogits = Math.max(maxLogits, DirectForward.maxAbsDiff(direct[1][i], floats(r, "logits")));
            assertEquals("conv5", r.getString(r.fieldIndex("conv_layer")));
            assertEquals(64, r.getList(r.fieldIndex("conv_max")).size());
            assertEquals(5, r.getList(r.fieldIndex("top5")).size());
            if (folder.equals(r.getString(r.fieldIndex("pred")))) {
                correct++;
            }
        }
        System.out.printf("features vs direct forward on %d sample images: max |fc7 diff| %.3g, max |logits diff| %.3g, accuracy %.4f%n",
                files.size(), maxFc7, maxLogits, correct / (double) files.size());
        assertTrue(maxFc7 <= 1e-4, "fc7 max abs diff " + maxFc7);
        assertTrue(maxLogits <= 1e-4, "logits max abs diff " + maxLogits);
        assertTrue(correct > 0.88 * files.size(), "sample accuracy " + correct);
    }

    /** A corpus of every kind of bad input beside good ones in all supported colour layouts. */
    static Map<String, String> writeCorpus(Path dir, int goodPerClass) throws IOException {
        Map<String, String> expectedStage = new HashMap<>(); // file name -> error stage, or "ok"
        List<Path> sample;
        try (Stream<Path> w = Files.walk(bundledSample())) {
            sample = w.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        Map<String, Integer> perClass = new HashMap<>();
        for (Path p : sample) {
            String cls = p.getParent().getFileName().toString();
            if (perClass.merge(cls, 1, Integer::sum) <= goodPerClass) {
                Path target = dir.resolve(cls).resolve(p.getFileName());
                Files.createDirectories(target.getParent());
                Files.copy(p, target);
                expectedStage.put(p.getFileName().toString(), "ok");
            }
        }
        Path odd = dir.resolve("odd");
        Files.createDirectories(odd);
        byte[] png = Files.readAllBytes(sample.get(0));
        BufferedImage rgb = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 30; y++) {
            for (int x = 0; x < 40; x++) {
                rgb.setRGB(x, y, (x * 6) << 16 | (y * 8) << 8 | 0x40);
            }
        }
        BufferedImage rgba = new BufferedImage(20, 20, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(3, 3, 0x80ffffff);
        BufferedImage grey16 = new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setSample(10, 10, 0, 60000);
        put(odd, "colour.jpg", encode(rgb, "jpeg"), "ok", expectedStage);
        put(odd, "colour.bmp", encode(rgb, "bmp"), "ok", expectedStage);
        put(odd, "colour.gif", encode(rgb, "gif"), "ok", expectedStage);
        put(odd, "rgba.png", encode(rgba, "png"), "ok", expectedStage);
        put(odd, "grey16.png", encode(grey16, "png"), "ok", expectedStage);
        put(odd, "cmyk.jpg", resourceBytes("images/cmyk.jpg"), "ok", expectedStage);
        put(odd, "exif-orientation-6.jpg", resourceBytes("images/exif-orientation-6.jpg"), "ok", expectedStage);
        put(odd, "zero-bytes.png", new byte[0], "read", expectedStage);
        put(odd, "truncated.png", Arrays.copyOf(png, png.length / 2), "decode", expectedStage);
        byte[] jpeg = encode(rgb, "jpeg");
        byte[] corrupt = jpeg.clone();
        for (int i = 2; i < 40; i++) {
            corrupt[i] = (byte) (i * 37); // quantisation / frame headers destroyed
        }
        put(odd, "corrupt.jpg", corrupt, "decode", expectedStage);
        put(odd, "notes.txt", "not an image at all\n".getBytes(), "decode", expectedStage);
        put(odd, "fake.png", "<html>a web page saved as .png</html>".getBytes(), "decode", expectedStage);
        put(odd, "huge.png", HugePng.header(200_000, 100_000), "too-large", expectedStage);
        put(dir, "no-class-folder.png", png, "ok", expectedStage);
        return expectedStage;
    }

    private static void put(Path dir, String name, byte[] bytes, String stage, Map<String, String> expected)
            throws IOException {
        Files.write(dir.resolve(name), bytes);
        expected.put(name, stage);
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }

    /** The decoder's fixtures (common module). */
    private static byte[] resourceBytes(String name) throws IOException {
        return Files.readAllBytes(home().resolve("common/src/test/resources").resolve(name));
    }

    @Test
    void everyBadInputIsAnErrorRowAndCountsReconcile() throws Exception {
        Path images = tmp.resolve("corpus");
        Map<String, String> expected = writeCorpus(images, 5);
        Path out = tmp.resolve("out");
        FeaturesJob.Summary s = FeaturesJob.run(spark, settings(images, out, "bundled"));
        long expectedErrors = expected.values().stream().filter(v -> !v.equals("ok")).count();
        assertEquals(expected.size(), s.inputs());
        assertEquals(expectedErrors, s.errors());
        assertEquals(s.inputs(), s.rows() + s.errors(), "inputs = rows + errors");

        List<Row> features = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).collectAsList();
        List<Row> errors = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("errors").toString()).collectAsList();
        assertEquals(s.rows(), features.size());
        assertEquals(s.errors(), errors.size());
        for (Row e : errors) {
            String name = Path.of(e.getString(0)).getFileName().toString();
            assertEquals(expected.get(name), e.getString(1), "stage of " + name + ": " + e.getString(2));
            assertFalse(e.getString(2).isBlank(), "a reason for " + name);
        }
        Set<String> seen = new HashSet<>();
        for (Row f : features) {
            String name = Path.of(f.getString(f.fieldIndex("path"))).getFileName().toString();
            assertEquals("ok", expected.get(name), name);
            seen.add(name);
            if (name.equals("no-class-folder.png")) {
                assertNull(f.getString(f.fieldIndex("label")), "no label outside class folders");
            }
            if (name.equals("exif-orientation-6.jpg")) {
                assertEquals(20, f.getInt(f.fieldIndex("width")), "EXIF orientation applied");
                assertEquals(40, f.getInt(f.fieldIndex("height")));
            }
        }
        assertTrue(seen.containsAll(List.of("colour.jpg", "colour.bmp", "colour.gif", "rgba.png", "grey16.png", "cmyk.jpg")));
        System.out.println("corpus: " + s.line());
    }

    @Test
    void rerunReplacesTablesAndAFailedRunLeavesThemUntouched() throws Exception {
        Path images = tmp.resolve("corpus");
        writeCorpus(images, 3);
        Path out = tmp.resolve("out");
        FeaturesJob.Summary first = FeaturesJob.run(spark, settings(images, out, "bundled"));
        FeaturesJob.Summary second = FeaturesJob.run(spark, settings(images, out, "bundled"));
        assertEquals(first.rows(), second.rows());
        Dataset<Row> t = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString());
        assertEquals(second.rows(), t.count(), "no duplicates after a re-run");
        assertEquals(second.rows(), t.select("image_id", "path").distinct().count());
        assertEquals(second.errors(), io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("errors").toString()).count());

        List<String> before = listing(out);
        FeaturesOptions bad = FeaturesOptions.of(values(images, out, "bundled").with(FeaturesOptions.CONV_LAYER, "conv9"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeaturesJob.run(spark, bad));
        assertTrue(e.getMessage().contains("conv9") && e.getMessage().contains("conv5"), e.getMessage());
        assertEquals(before, listing(out), "a failed run leaves the committed tables as they were");
    }

    @Test
    void parquetTableOfImageBytesIsAnInput() throws Exception {
        Path images = tmp.resolve("corpus");
        Map<String, String> expected = writeCorpus(images, 2);
        List<Row> rows = new ArrayList<>();
        try (Stream<Path> w = Files.walk(images)) {
            for (Path p : w.filter(Files::isRegularFile).toList()) {
                rows.add(org.apache.spark.sql.RowFactory.create(p.toString(), p.getParent().getFileName().toString(),
                        Files.readAllBytes(p)));
            }
        }
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("path", "string").add("label", "string").add("content", "binary");
        Path table = tmp.resolve("images.parquet");
        spark.createDataFrame(rows, schema).write().parquet(table.toString());
        Path out = tmp.resolve("out");
        FeaturesJob.Summary s = FeaturesJob.run(spark, settings(table, out, "bundled"));
        long errors = expected.values().stream().filter(v -> !v.equals("ok")).count();
        assertEquals(expected.size(), s.inputs());
        assertEquals(errors, s.errors());
        assertEquals(s.inputs() - errors, io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).count());
    }

    @Test
    void emptyInputAndMissingFolderGiveAClearMessage() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeaturesJob.run(spark, settings(empty, tmp.resolve("o1"), "bundled")));
        assertTrue(e.getMessage().contains("no input files"), e.getMessage());
        Exception missing = assertThrows(Exception.class,
                () -> FeaturesJob.run(spark, settings(tmp.resolve("nope"), tmp.resolve("o2"), "bundled")));
        assertTrue(missing.getMessage().contains("does not exist") && missing.getMessage().contains("nope"), missing.getMessage());
    }

    private static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            return w.map(p -> dir.relativize(p) + ":" + (Files.isRegularFile(p) ? p.toFile().length() : -1))
                    .sorted().toList();
        }
    }
}
