package io.cnnlens.image;

/**
 * Resizing on planar float pixels. Bilinear with half-pixel centres (OpenCV / PyTorch
 * {@code align_corners=false}); when shrinking by more than 2x, a box filter first brings the
 * image to at most twice the target so that thin detail does not alias.
 */
public final class Resize {

    private Resize() {
    }

    public static Pixels bilinear(Pixels p, int outW, int outH) {
        if (outW == p.width() && outH == p.height()) {
            return p;
        }
        int fx = Math.max(1, p.width() / (2 * outW));
        int fy = Math.max(1, p.height() / (2 * outH));
        if (fx > 1 || fy > 1) {
            p = box(p, fx, fy);
        }
        int w = p.width();
        int h = p.height();
        float[] src = p.data();
        float[] dst = new float[p.channels() * outW * outH];
        float sx = (float) w / outW;
        float sy = (float) h / outH;
        int[] x0 = new int[outW];
        int[] x1 = new int[outW];
        float[] ax = new float[outW];
        for (int x = 0; x < outW; x++) {
            float fxp = Math.max(0f, (x + 0.5f) * sx - 0.5f);
            x0[x] = Math.min((int) fxp, w - 1);
            x1[x] = Math.min(x0[x] + 1, w - 1);
            ax[x] = fxp - x0[x];
        }
        for (int c = 0; c < p.channels(); c++) {
            int sBase = c * w * h;
            int dBase = c * outW * outH;
            for (int y = 0; y < outH; y++) {
                float fyp = Math.max(0f, (y + 0.5f) * sy - 0.5f);
                int y0 = Math.min((int) fyp, h - 1);
                int y1 = Math.min(y0 + 1, h - 1);
                float ay = fyp - y0;
                int r0 = sBase + y0 * w;
                int r1 = sBase + y1 * w;
                for (int x = 0; x < outW; x++) {
                    float top = src[r0 + x0[x]] + (src[r0 + x1[x]] - src[r0 + x0[x]]) * ax[x];
                    float bot = src[r1 + x0[x]] + (src[r1 + x1[x]] - src[r1 + x0[x]]) * ax[x];
                    dst[dBase + y * outW + x] = top + (bot - top) * ay;
                }
            }
        }
        return new Pixels(outW, outH, p.channels(), dst);
    }

    /**
     * Bilinear resize of the source window {@code x0 .. x0 + sw} × {@code y0 .. y0 + sh} (in source
     * pixel units, pixel i spanning [i, i + 1); fractional, e.g. a DCT-reduced decode whose last
     * block was partial) to {@code outW} × {@code outH}, with the same box prefilter as
     * {@link #bilinear(Pixels, int, int)}; the whole picture as window is exactly that method.
     */
    public static Pixels bilinear(Pixels p, int outW, int outH, double x0, double sw, double y0, double sh) {
        if (x0 == 0 && y0 == 0 && sw == p.width() && sh == p.height()) {
            return bilinear(p, outW, outH);
        }
        int fx = Math.max(1, (int) (sw / (2 * outW)));
        int fy = Math.max(1, (int) (sh / (2 * outH)));
        if (fx > 1 || fy > 1) {
            p = box(p, fx, fy);
            x0 /= fx;
            sw /= fx;
            y0 /= fy;
            sh /= fy;
        }
        int w = p.width();
        int h = p.height();
        float[] src = p.data();
        float[] dst = new float[p.channels() * outW * outH];
        double sx = sw / outW;
        double sy = sh / outH;
        int[] xa = new int[outW];
        int[] xb = new int[outW];
        float[] ax = new float[outW];
        for (int x = 0; x < outW; x++) {
            double f = Math.min(Math.max(0, x0 + (x + 0.5) * sx - 0.5), w - 1);
            xa[x] = (int) f;
            xb[x] = Math.min(xa[x] + 1, w - 1);
            ax[x] = (float) (f - xa[x]);
        }
        for (int c = 0; c < p.channels(); c++) {
            int sBase = c * w * h;
            int dBase = c * outW * outH;
            for (int y = 0; y < outH; y++) {
                double f = Math.min(Math.max(0, y0 + (y + 0.5) * sy - 0.5), h - 1);
                int ya = (int) f;
                int yb = Math.min(ya + 1, h - 1);
                float ay = (float) (f - ya);
                int r0 = sBase + ya * w;
                int r1 = sBase + yb * w;
                for (int x = 0; x < outW; x++) {
                    float top = src[r0 + xa[x]] + (src[r0 + xb[x]] - src[r0 + xa[x]]) * ax[x];
                    float bot = src[r1 + xa[x]] + (src[r1 + xb[x]] - src[r1 + xa[x]]) * ax[x];
                    dst[dBase + y * outW + x] = top + (bot - top) * ay;
                }
            }
        }
        return new Pixels(outW, outH, p.channels(), dst);
    }

    /** Mean over fx × fy blocks (the ragged right/bottom edge is dropped). */
    static Pixels box(Pixels p, int fx, int fy) {
        int w = p.width() / fx;
        int h = p.height() / fy;
        float[] dst = new float[p.channels() * w * h];
        float inv = 1f / (fx * fy);
        for (int c = 0; c < p.channels(); c++) {
            int sBase = c * p.width() * p.height();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float s = 0;
                    for (int dy = 0; dy < fy; dy++) {
                        int row = sBase + (y * fy + dy) * p.width() + x * fx;
                        for (int dx = 0; dx < fx; dx++) {
                            s += p.data()[row + dx];
                        }
                    }
                    dst[(c * h + y) * w + x] = s * inv;
                }
            }
        }
        return new Pixels(w, h, p.channels(), dst);
    }

    public static Pixels crop(Pixels p, int left, int top, int w, int h) {
        if (left < 0 || top < 0 || left + w > p.width() || top + h > p.height()) {
            throw new IllegalArgumentException("crop outside the image");
        }
        float[] dst = new float[p.channels() * w * h];
        for (int c = 0; c < p.channels(); c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(p.data(), (c * p.height() + top + y) * p.width() + left,
                        dst, (c * h + y) * w, w);
            }
        }
        return new Pixels(w, h, p.channels(), dst);
    }
}
