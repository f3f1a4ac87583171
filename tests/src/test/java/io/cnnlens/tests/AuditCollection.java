package io.cnnlens.tests;

import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.PngWriter;

import javax.imageio.ImageIO;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A seeded Fashion-MNIST collection with faults injected and known: {@code train/<class>/} and
 * {@code test/<class>/} folders; a few percent of train images filed under a wrong class;
 * near-duplicates of train images in the test folders (resized to 34×34, and JPEG re-encoded);
 * byte-identical copies; corrupt files (truncated PNGs, random bytes); dark and blurred images;
 * noise images (outliers). {@link #addBatch} adds later batches, inverted (drift) or not.
 */
final class AuditCollection {

    /** The injected faults, by path relative to the collection root. */
    record Truth(Set<String> flipped, List<String[]> nearPairs, Set<String> exactCopies, Set<String> corrupt, Set<String> dark,
                 Set<String> blurred, Set<String> noise, int images) {
    }

    private final FashionMnist.Split train;
    private final FashionMnist.Split test;
    private int nextTest;
    private int nextTrain;

    AuditCollection(Path fashionMnist) throws IOException {
        train = FashionMnist.train(fashionMnist);
        test = FashionMnist.test(fashionMnist);
    }

    static Path dataset() {
        return Path.of(System.getProperty("cnnlens.fashionMnist", "/usr/share/datasets/fashion-mnist"));
    }

    /**
     * {@code trainImages} train and {@code testImages} test images, plus the faults: a fraction
     * {@code flipRate} of train labels flipped, {@code faults} each of near-duplicate pairs (half
     * resized, half re-encoded), exact copies, corrupt files, dark, blurred and noise images.
     */
    Truth build(Path root, int trainImages, int testImages, double flipRate, int faults, long seed) throws IOException {
        Random rnd = new Random(seed);
        Set<String> flipped = new LinkedHashSet<>();
        List<String[]> near = new ArrayList<>();
        Set<String> copies = new LinkedHashSet<>();
        Set<String> corrupt = new LinkedHashSet<>();
        Set<String> dark = new LinkedHashSet<>();
        Set<String> blurred = new LinkedHashSet<>();
        Set<String> noise = new LinkedHashSet<>();
        int images = 0;
        List<String> clean = new ArrayList<>();
        for (int i = 0; i < trainImages; i++) {
            int label = train.labels()[i];
            boolean flip = rnd.nextDouble() < flipRate;
            int filed = flip ? (label + 1 + rnd.nextInt(9)) % 10 : label;
            String rel = "train/" + FashionMnist.CLASSES.get(filed) + String.format("/tr-%05d.png", i);
            write(root, rel, PngWriter.grey(train.images()[i], 28, 28));
            images++;
            (flip ? flipped : new LinkedHashSet<String>()).add(rel);
            if (!flip) {
                clean.add(rel + "#" + i);
            }
        }
        for (int i = 0; i < testImages; i++) {
            writeTest(root, i, false);
            images++;
        }
        nextTest = testImages;
        nextTrain = trainImages + 3000; // past the train images the dark and blurred faults use
        for (int f = 0; f < faults; f++) {
            String[] src = clean.get(rnd.nextInt(clean.size())).split("#");
            int i = Integer.parseInt(src[1]);
            String cls = FashionMnist.CLASSES.get(train.labels()[i]);
            byte[] px = train.images()[i];
            String rel;
            if (f % 2 == 0) {
                rel = "test/" + cls + String.format("/near-resized-%05d.png", i);
                write(root, rel, png(resize(grey(px), 34)));
            } else {
                rel = "test/" + cls + String.format("/near-jpeg-%05d.jpg", i);
                write(root, rel, jpeg(grey(px)));
            }
            near.add(new String[] {src[0], rel});
            images++;
            String copy = "train/" + cls + String.format("/copy-%05d.png", i);
            write(root, copy, Files.readAllBytes(root.resolve(src[0])));
            copies.add(copy);
            copies.add(src[0]);
            images++;
            String bad = f % 2 == 0 ? "train/" + cls + String.format("/truncated-%d.png", f) : "train/" + cls + String.format("/garbage-%d.png", f);
            byte[] ok = PngWriter.grey(px, 28, 28);
            byte[] b;
            if (f % 2 == 0) {
                b = java.util.Arrays.copyOf(ok, ok.length / 2);
            } else {
                b = new byte[300];
                rnd.nextBytes(b);
            }
            write(root, bad, b);
            corrupt.add(bad);
            images++;
            int j = trainImages + 1000 + f;
            String dk = "train/" + FashionMnist.CLASSES.get(train.labels()[j]) + String.format("/dark-%05d.png", j);
            byte[] d = train.images()[j].clone();
            for (int p = 0; p < d.length; p++) {
                d[p] = (byte) ((d[p] & 0xff) * 12 / 100);
            }
            write(root, dk, PngWriter.grey(d, 28, 28));
            dark.add(dk);
            images++;
            int b2 = trainImages + 2000 + f;
            String bl = "train/" + FashionMnist.CLASSES.get(train.labels()[b2]) + String.format("/blurred-%05d.png", b2);
            write(root, bl, PngWriter.grey(blur(train.images()[b2]), 28, 28));
            blurred.add(bl);
            images++;
            if (f < Math.max(1, faults / 2)) {
                byte[] nz = new byte[784];
                rnd.nextBytes(nz);
                String nr = "train/" + FashionMnist.CLASSES.get(f % 10) + String.format("/noise-%d.png", f);
                write(root, nr, PngWriter.grey(nz, 28, 28));
                noise.add(nr);
                images++;
            }
        }
        return new Truth(flipped, near, copies, corrupt, dark, blurred, noise, images);
    }

    /**
     * A crowd in fc7 around one train image: {@code copies} byte-identical copies of train image
     * {@code i} beside it in {@code train/<class>/} (all at fc7 distance 0 from it, so they fill
     * its k nearest neighbours when copies ≥ k), and one copy resized to 34×34 in
     * {@code test/<class>/}. Returns the train paths (the image, then its copies), then the resized one.
     */
    List<String> crowdAround(Path root, int i, int copies) throws IOException {
        String cls = FashionMnist.CLASSES.get(train.labels()[i]);
        byte[] png = PngWriter.grey(train.images()[i], 28, 28);
        List<String> paths = new ArrayList<>();
        for (int c = 0; c <= copies; c++) {
            String rel = "train/" + cls + String.format("/crowd-%05d-%02d.png", i, c);
            write(root, rel, png);
            paths.add(rel);
        }
        String resized = "test/" + cls + String.format("/crowd-resized-%05d.png", i);
        write(root, resized, png(resize(grey(train.images()[i]), 34)));
        paths.add(resized);
        return paths;
    }

    /**
     * {@code copies} variants of train image {@code i} in {@code train/<class>/}, variant c with
     * each pixel scaled by 1 − c/100 (rounded): distinct contents whose thumbnails correlate at
     * about 1 (they differ by rounding alone, so their order by correlation is not their order in
     * fc7), more of them than a list holds. Their paths.
     */
    List<String> dimmedVariants(Path root, int i, int copies) throws IOException {
        String cls = FashionMnist.CLASSES.get(train.labels()[i]);
        List<String> paths = new ArrayList<>();
        for (int c = 1; c <= copies; c++) {
            byte[] px = dimmed(train.images()[i], c);
            String rel = "train/" + cls + String.format("/dimmed-%05d-%02d.png", i, c);
            write(root, rel, PngWriter.grey(px, 28, 28));
            paths.add(rel);
        }
        return paths;
    }

    /**
     * Two crowds of train image {@code i}, one in each split: {@code copies} variants dimmed as
     * {@link #dimmedVariants} dims them in {@code train/<class>/}, and as many of them resized to
     * 34×34 in {@code test/<class>/}. Within a crowd the thumbnails correlate at about 1, across
     * the two at about 0.99, so with more variants than a list holds every content's thumbnail
     * list is full of its own split's crowd. Their paths: train's, then test's.
     */
    List<List<String>> crowdsInTwoSplits(Path root, int i, int copies) throws IOException {
        String cls = FashionMnist.CLASSES.get(train.labels()[i]);
        List<String> inTrain = new ArrayList<>();
        List<String> inTest = new ArrayList<>();
        for (int c = 1; c <= copies; c++) {
            byte[] px = dimmed(train.images()[i], c);
            String a = "train/" + cls + String.format("/split-crowd-%05d-%02d.png", i, c);
            String b = "test/" + cls + String.format("/split-crowd-resized-%05d-%02d.png", i, c);
            write(root, a, PngWriter.grey(px, 28, 28));
            write(root, b, png(resize(grey(px), 34)));
            inTrain.add(a);
            inTest.add(b);
        }
        return List.of(inTrain, inTest);
    }

    /**
     * Train image {@code i} in {@code train/<class>/} and its copy resized to 34×34 in
     * {@code test/<class>/}: one near-duplicate pair across splits. Their paths.
     */
    List<String> pairAcrossSplits(Path root, int i) throws IOException {
        String cls = FashionMnist.CLASSES.get(train.labels()[i]);
        String a = "train/" + cls + String.format("/pair-%05d.png", i);
        String b = "test/" + cls + String.format("/pair-resized-%05d.png", i);
        write(root, a, PngWriter.grey(train.images()[i], 28, 28));
        write(root, b, png(resize(grey(train.images()[i]), 34)));
        return List.of(a, b);
    }

    /**
     * What pushes {@link #pairAcrossSplits}'s pair out of every list: {@code copies} variants of the
     * train image dimmed as {@link #dimmedVariants} dims them, in {@code test/<class>/}, and as many
     * of the resized copy in {@code train/<class>/}. Each variant correlates with its original at
     * about 1, more than the pair's two images do with each other, and sits in the other's split.
     */
    List<String> crowdOutPair(Path root, int i, int copies) throws IOException {
        String cls = FashionMnist.CLASSES.get(train.labels()[i]);
        BufferedImage resized = resize(grey(train.images()[i]), 34);
        byte[] small = ((java.awt.image.DataBufferByte) resized.getRaster().getDataBuffer()).getData();
        List<String> paths = new ArrayList<>();
        for (int c = 1; c <= copies; c++) {
            byte[] px = dimmed(train.images()[i], c);
            byte[] big = dimmed(small, c);
            String a = "test/" + cls + String.format("/pair-dimmed-%05d-%02d.png", i, c);
            String b = "train/" + cls + String.format("/pair-resized-dimmed-%05d-%02d.png", i, c);
            write(root, a, PngWriter.grey(px, 28, 28));
            write(root, b, PngWriter.grey(big, 34, 34));
            paths.add(a);
            paths.add(b);
        }
        return paths;
    }

    /** {@code count} more test-split images into {@code test/<class>/}, inverted (255 − x) when {@code drift}, then, once those run out, train images not yet in the collection (not inverted); their paths. */
    /** Test images not yet written: what {@link #addBatch} takes before it falls back to train images. */
    int testImagesLeft() {
        return test.images().length - nextTest;
    }

    List<String> addBatch(Path root, int count, boolean drift) throws IOException {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            if (nextTest < test.images().length) {
                out.add(writeTest(root, nextTest++, drift));
            } else {
                // the test images are used up (a bench over all 70,000): train images the collection lacks
                out.add(writeTrain(root, drift));
            }
        }
        return out;
    }

    /**
     * {@code count} train images the collection lacks, under {@code train/} (inverted when
     * {@code drift}): a batch from the same source as the collection's own train images, which the
     * network was trained on too (docs/methods.md#drift).
     */
    List<String> addTrainBatch(Path root, int count, boolean drift) throws IOException {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            out.add(writeTrain(root, drift));
        }
        return out;
    }

    private String writeTrain(Path root, boolean invert) throws IOException {
        int i = nextTrain++;
        String rel = "train/" + FashionMnist.CLASSES.get(train.labels()[i]) + String.format(invert ? "/inv-tr-%05d.png" : "/tr-%05d.png", i);
        write(root, rel, PngWriter.grey(invert ? inverted(train.images()[i]) : train.images()[i], 28, 28));
        return rel;
    }

    /** Rewrites the first test image with each pixel one level brighter: the same path, new content; its path. */
    String changeFirstTestImage(Path root) throws IOException {
        byte[] px = test.images()[0].clone();
        for (int p = 0; p < px.length; p++) {
            px[p] = (byte) Math.min(255, (px[p] & 0xff) + 1);
        }
        String rel = "test/" + FashionMnist.CLASSES.get(test.labels()[0]) + "/te-00000.png";
        write(root, rel, PngWriter.grey(px, 28, 28));
        return rel;
    }

    private String writeTest(Path root, int i, boolean invert) throws IOException {
        byte[] px = invert ? inverted(test.images()[i]) : test.images()[i];
        String rel = "test/" + FashionMnist.CLASSES.get(test.labels()[i]) + String.format(invert ? "/inv-%05d.png" : "/te-%05d.png", i);
        write(root, rel, PngWriter.grey(px, 28, 28));
        return rel;
    }

    /** A copy with every grey level v turned into 255 − v. */
    private static byte[] inverted(byte[] px) {
        byte[] out = new byte[px.length];
        for (int p = 0; p < px.length; p++) {
            out[p] = (byte) (255 - (px[p] & 0xff));
        }
        return out;
    }

    /** Gaussian-like blur: three passes of a 3×3 box, edges clamped. */
    static byte[] blur(byte[] px) {
        int[] a = new int[784];
        for (int i = 0; i < 784; i++) {
            a[i] = px[i] & 0xff;
        }
        for (int pass = 0; pass < 3; pass++) {
            int[] b = new int[784];
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    int s = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            s += a[Math.min(27, Math.max(0, y + dy)) * 28 + Math.min(27, Math.max(0, x + dx))];
                        }
                    }
                    b[y * 28 + x] = s / 9;
                }
            }
            a = b;
        }
        byte[] out = new byte[784];
        for (int i = 0; i < 784; i++) {
            out[i] = (byte) a[i];
        }
        return out;
    }

    /** Grey pixels each scaled by 1 − c/100, rounded: a copy. */
    private static byte[] dimmed(byte[] px, int c) {
        byte[] out = new byte[px.length];
        for (int p = 0; p < px.length; p++) {
            out[p] = (byte) Math.round((px[p] & 0xff) * (1 - c / 100.0));
        }
        return out;
    }

    private static BufferedImage grey(byte[] px) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, 28, 28, px);
        return img;
    }

    private static BufferedImage resize(BufferedImage src, int side) {
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY);
        java.awt.Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, side, side, null);
        g.dispose();
        return out;
    }

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }

    private static byte[] jpeg(BufferedImage img) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "jpeg", b);
        return b.toByteArray();
    }

    private static void write(Path root, String rel, byte[] bytes) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
    }
}
