package io.cnnlens.image;

/**
 * The smallest upright picture a model's preprocessing can start from without losing anything it
 * would use: a shorter side of at least {@code shorterSide} (Resize + CenterCrop policies), or at
 * least {@code width} × {@code height} (stretch), or the full picture. A JPEG decoder may decode at
 * the largest DCT reduction (1/2, 1/4, 1/8) whose output still covers it ({@link #reduction}).
 */
public record DecodeTarget(int shorterSide, int width, int height) {

    /** No reduction: the picture as stored. */
    public static final DecodeTarget FULL = new DecodeTarget(0, 0, 0);

    /** The reductions a JPEG decoder offers, largest first. */
    static final int[] REDUCTIONS = {8, 4, 2};

    public DecodeTarget {
        if (shorterSide < 0 || width < 0 || height < 0) {
            throw new IllegalArgumentException("decode target sizes must not be negative");
        }
    }

    public static DecodeTarget shorterSide(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("shorter side must be positive");
        }
        return new DecodeTarget(size, 0, 0);
    }

    public static DecodeTarget atLeast(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be positive");
        }
        return new DecodeTarget(0, width, height);
    }

    public boolean isFull() {
        return shorterSide == 0 && width == 0 && height == 0;
    }

    /** Whether an upright picture of {@code w} × {@code h} is big enough. */
    public boolean coveredBy(int w, int h) {
        if (isFull()) {
            return false;
        }
        return Math.min(w, h) >= shorterSide && w >= width && h >= height;
    }

    /**
     * The largest reduction r in 8, 4, 2 whose decode of an upright {@code w} × {@code h} picture
     * (ceil(w / r) × ceil(h / r), as libjpeg scales) still covers this target; 1 when none does.
     */
    public int reduction(int w, int h) {
        for (int r : REDUCTIONS) {
            if (coveredBy(ceilDiv(w, r), ceilDiv(h, r))) {
                return r;
            }
        }
        return 1;
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
