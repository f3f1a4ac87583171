package io.cnnlens.image;

/**
 * A decoded picture, upright, possibly at a reduced scale: {@code pixels} are 1/{@code reduction}
 * of the picture's {@code fullWidth} × {@code fullHeight} (both upright, EXIF orientation applied)
 * in each direction, rounded up (libjpeg's partial last block). The full picture's coordinate X
 * is the reduced picture's X / reduction + {@code offsetX} (pixel i spanning [i, i + 1)): 0, or,
 * where the orientation turned the partial block to the start of that axis, its missing share.
 */
public record ScaledPixels(Pixels pixels, int fullWidth, int fullHeight, int reduction, double offsetX, double offsetY) {

    public ScaledPixels {
        if (reduction != 1 && reduction != 2 && reduction != 4 && reduction != 8) {
            throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, not " + reduction);
        }
    }

    /** Full-size pixels. */
    public static ScaledPixels full(Pixels p) {
        return new ScaledPixels(p, p.width(), p.height(), 1, 0, 0);
    }

    /** The full picture as a window of {@link #pixels()}: x0, width, y0, height in reduced pixels. */
    double[] window() {
        return new double[] {offsetX, (double) fullWidth / reduction, offsetY, (double) fullHeight / reduction};
    }

    /** The picture resized to {@code outW} × {@code outH} (the full picture's extent, whatever the reduction). */
    public Pixels resized(Pixels channels, int outW, int outH) {
        if (reduction == 1) {
            return Resize.bilinear(channels, outW, outH);
        }
        double[] w = window();
        return Resize.bilinear(channels, outW, outH, w[0], w[1], w[2], w[3]);
    }
}
