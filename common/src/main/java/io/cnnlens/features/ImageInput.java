package io.cnnlens.features;

import io.cnnlens.image.DecodeException;

/**
 * One input image: where it came from, its label (null if none), and how to get its bytes. The
 * bytes are fetched lazily, on the thread that decodes them.
 */
public record ImageInput(String path, String label, Bytes bytes) {

    /** The image's bytes; a failure is a {@link DecodeException} with stage {@code read} or {@code too-large}. */
    @FunctionalInterface
    public interface Bytes {
        byte[] read() throws DecodeException;
    }

    public static ImageInput of(String path, String label, byte[] content) {
        return new ImageInput(path, label, () -> content);
    }
}
