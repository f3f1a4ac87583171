package io.cnnlens.image;

/**
 * A decoded image as planar floats (channel, row, column) on the 0..255 scale; 1 channel (grey)
 * or 3 (RGB). Alpha is dropped on decode (as PIL's {@code convert("RGB")} does).
 */
public record Pixels(int width, int height, int channels, float[] data) {

    public Pixels {
        if (data.length != (long) width * height * channels) {
            throw new IllegalArgumentException("data length " + data.length + " != " + width + "x" + height + "x" + channels);
        }
    }

    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }
}
