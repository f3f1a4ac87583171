package io.cnnlens.image;

/** EXIF orientation (1..8) applied to planar pixels, so the result is upright. */
final class Orientation {

    private Orientation() {
    }

    /** Whether the upright picture's x axis runs against the stored axis it comes from (2, 3, 6, 7). */
    static boolean reversesX(int orientation) {
        return orientation == 2 || orientation == 3 || orientation == 6 || orientation == 7;
    }

    /** Whether the upright picture's y axis runs against the stored axis it comes from (3, 4, 7, 8). */
    static boolean reversesY(int orientation) {
        return orientation == 3 || orientation == 4 || orientation == 7 || orientation == 8;
    }

    static Pixels apply(Pixels p, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return p;
        }
        int w = p.width();
        int h = p.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        float[] out = new float[p.data().length];
        for (int c = 0; c < p.channels(); c++) {
            int src = c * w * h;
            int dst = c * ow * oh;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    int sx;
                    int sy;
                    switch (orientation) {
                        case 2 -> { sx = w - 1 - x; sy = y; }            // mirror horizontal
                        case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }    // rotate 180
                        case 4 -> { sx = x; sy = h - 1 - y; }            // mirror vertical
                        case 5 -> { sx = y; sy = x; }                    // transpose
                        case 6 -> { sx = y; sy = h - 1 - x; }            // rotate 90 clockwise
                        case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }    // transverse
                        default -> { sx = w - 1 - y; sy = x; }           // 8: rotate 90 counter-clockwise
                    }
                    out[dst + y * ow + x] = p.data()[src + sy * w + sx];
                }
            }
        }
        return new Pixels(ow, oh, p.channels(), out);
    }
}
