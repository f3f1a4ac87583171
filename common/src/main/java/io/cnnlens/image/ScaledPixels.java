package io.cnnlens.image;

/**
 * A decoded picture, upright, possibly at a reduced scale: {@code pixels} are 1/{@code reduction}
 * of the stored picture's {@code fullWidth} × {@code fullHeight} (both upright, EXIF orientation
 * applied) in each direction, rounded up.
 */
public record ScaledPixels(Pixels pixels, int fullWidth, int fullHeight, int reduction) {

    public ScaledPixels {
        if (reduction != 1 && reduction != 2 && reduction != 4 && reduction != 8) {
            throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, not " + reduction);
        }
    }

    /** Full-size pixels. */
    public static ScaledPixels full(Pixels p) {
        return new ScaledPixels(p, p.width(), p.height(), 1);
    }
}
