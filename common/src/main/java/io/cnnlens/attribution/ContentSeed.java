package io.cnnlens.attribution;

/**
 * A seed taken from an image's values (a hash of every 7th float's bits), so that a seeded method
 * draws the same random numbers for an image whether it comes alone or anywhere in a batch.
 */
final class ContentSeed {

    private ContentSeed() {
    }

    /** The hash of {@code x[off], x[off + 7], …} below {@code off + len}. */
    static long of(float[] x, int off, int len) {
        long h = 1125899906842597L;
        for (int j = 0; j < len; j += 7) {
            h = 31 * h + Float.floatToIntBits(x[off + j]);
        }
        return h;
    }
}
