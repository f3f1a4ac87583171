package io.cnnlens.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST as Debian's {@code dataset-fashion-mnist} ships it: IDX files, gzipped, in one
 * folder ({@code train-images-idx3-ubyte.gz}, ...). Images are 28x28 grey bytes, row-major.
 */
public final class FashionMnist {

    /** Class names, file-system safe; also the folder names of the bundled sample. */
    public static final List<String> CLASSES = List.of(
            "tshirt_top", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle_boot");

    public static final int SIDE = 28;

    /** One split: {@code images[i]} holds 784 bytes, {@code labels[i]} its class index. */
    public record Split(byte[][] images, int[] labels) {
        public int size() {
            return labels.length;
        }
    }

    private FashionMnist() {
    }

    public static Split train(Path dir) throws IOException {
        return read(dir, "train");
    }

    public static Split test(Path dir) throws IOException {
        return read(dir, "t10k");
    }

    static Split read(Path dir, String prefix) throws IOException {
        byte[][] images = readImages(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        int[] labels = readLabels(dir.resolve(prefix + "-labels-idx1-ubyte.gz"));
        if (images.length != labels.length) {
            throw new IOException(prefix + ": " + images.length + " images but " + labels.length + " labels");
        }
        return new Split(images, labels);
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("missing " + file + " (Debian: apt-get install dataset-fashion-mnist)");
        }
        InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16);
        return new DataInputStream(in);
    }

    private static byte[][] readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x00000803) {
                throw new IOException(file + ": not an IDX image file (magic " + Integer.toHexString(magic) + ")");
            }
            int n = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            byte[][] images = new byte[n][rows * cols];
            for (byte[] image : images) {
                in.readFully(image);
            }
            return images;
        }
    }

    private static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x00000801) {
                throw new IOException(file + ": not an IDX label file (magic " + Integer.toHexString(magic) + ")");
            }
            int n = in.readInt();
            byte[] raw = new byte[n];
            in.readFully(raw);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = raw[i] & 0xff;
            }
            return labels;
        }
    }
}
