package io.cnnlens.tuning;

import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.Preprocessor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Grey 28×28 labelled images for training the architecture family: Fashion-MNIST's IDX files
 * (a folder holding {@code train-images-idx3-ubyte.gz}), or any folder of class folders
 * ({@code <dir>/<class>/*.png|jpg|...}, class index = folder name's sorted position), each image
 * turned grey and stretched to 28×28. A folder with {@code train/} and {@code test/} subfolders
 * gives both splits; otherwise {@link #test} is empty and the caller holds a test split out.
 *
 * @param pixels {@code pixels[i]} holds 784 grey bytes, row-major
 */
public record LabelledImages(byte[][] pixels, int[] labels, List<String> classes, List<String> skipped) {

    public static final int SIDE = FashionMnist.SIDE;

    public LabelledImages {
        if (pixels.length != labels.length) {
            throw new IllegalArgumentException(pixels.length + " images but " + labels.length + " labels");
        }
        classes = List.copyOf(classes);
        skipped = List.copyOf(skipped);
    }

    public int size() {
        return labels.length;
    }

    /** The images at {@code index}, in that order. */
    public LabelledImages subset(int[] index) {
        byte[][] p = new byte[index.length][];
        int[] l = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            p[i] = pixels[index[i]];
            l[i] = labels[index[i]];
        }
        return new LabelledImages(p, l, classes, List.of());
    }

    /** Mean and standard deviation of the pixels on the 0..1 scale (for normalisation). */
    public float[] meanStd() {
        double s = 0;
        double s2 = 0;
        long n = 0;
        for (byte[] img : pixels) {
            for (byte b : img) {
                double v = (b & 0xff) / 255.0;
                s += v;
                s2 += v * v;
            }
            n += img.length;
        }
        double mean = s / Math.max(1, n);
        double var = Math.max(1e-12, s2 / Math.max(1, n) - mean * mean);
        return new float[] {(float) mean, (float) Math.sqrt(var)};
    }

    /** The training images of {@code dir} (Fashion-MNIST IDX, a {@code train/} folder, or the folder of class folders itself). */
    public static LabelledImages train(Path dir, long maxPixels) throws IOException {
        if (isIdx(dir)) {
            FashionMnist.Split s = FashionMnist.train(dir);
            return new LabelledImages(s.images(), s.labels(), FashionMnist.CLASSES, List.of());
        }
        return Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"))
                ? classFolders(dir.resolve("train"), maxPixels) : classFolders(dir, maxPixels);
    }

    /** The test images of {@code dir}, or empty when it has none of its own. */
    public static java.util.Optional<LabelledImages> test(Path dir, long maxPixels) throws IOException {
        if (isIdx(dir)) {
            FashionMnist.Split s = FashionMnist.test(dir);
            return java.util.Optional.of(new LabelledImages(s.images(), s.labels(), FashionMnist.CLASSES, List.of()));
        }
        return Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("test"))
                ? java.util.Optional.of(classFolders(dir.resolve("test"), maxPixels)) : java.util.Optional.empty();
    }

    static boolean isIdx(Path dir) {
        return Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz"));
    }

    /** Every decodable image under {@code dir/<class>/}; the ones that cannot be decoded are listed in {@link #skipped}, with why. */
    public static LabelledImages classFolders(Path dir, long maxPixels) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a folder of class folders: " + dir);
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).sorted().toList();
        }
        if (classDirs.size() < 2) {
            throw new IOException(dir + " has " + classDirs.size() + " class folders; training needs at least 2");
        }
        ImageDecoder decoder = new ImageDecoder(maxPixels);
        List<byte[]> pixels = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        for (int c = 0; c < classDirs.size(); c++) {
            classes.add(classDirs.get(c).getFileName().toString());
            List<Path> files;
            try (Stream<Path> s = Files.walk(classDirs.get(c))) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                try {
                    Pixels p = decoder.decode(Files.readAllBytes(f));
                    float[] v = Preprocessor.pixelVector(p, 1, SIDE);
                    byte[] b = new byte[v.length];
                    for (int i = 0; i < v.length; i++) {
                        b[i] = (byte) Math.round(Math.max(0, Math.min(1, v[i])) * 255);
                    }
                    pixels.add(b);
                    labels.add(c);
                } catch (DecodeException | IOException e) {
                    skipped.add(dir.relativize(f) + ": " + e.getMessage());
                }
            }
        }
        return new LabelledImages(pixels.toArray(new byte[0][]), labels.stream().mapToInt(Integer::intValue).toArray(),
                classes, skipped);
    }
}
