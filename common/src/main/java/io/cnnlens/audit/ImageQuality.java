package io.cnnlens.audit;

import io.cnnlens.image.Pixels;

/**
 * Per-image quality measures from decoded pixels (values 0–255, as the decoder gives them): the
 * mean intensity and the 99th and 5th percentiles of the grey values (reported in [0, 1]; too dark
 * when even the brightest 1 % of pixels is dark, too bright when even the darkest 5 % is bright,
 * as cleanvision flags them), the variance of the Laplacian of the grey image (Pech-Pacheco et al., "Diatom
 * autofocusing in brightfield microscopy", ICPR 2000) and, for blur, that variance relative to the
 * grey image's own variance at most {@value #BLUR_SIDE} pixels on its long side: the share of the
 * image's contrast that is fine detail, small for a blurred image whatever its contrast, where the
 * plain variance is small for any smooth or faint image too), whether a colour image is grey (every pixel's channels equal within a
 * tolerance), the size and aspect ratio from the decoded dimensions, and a 16×16 grey thumbnail that
 * confirms near-duplicates (docs/methods.md#near-duplicates). O(pixels) per image.
 * See docs/methods.md#image-quality.
 */
public final class ImageQuality {

    /** The measures of one image. */
    public record Measures(double meanIntensity, double brightness99, double brightness5, double laplacianVariance,
                           double relativeLaplacianVariance, boolean grey, int channels, int width, int height, float[] thumbnail) {
        public double aspect() {
            return Math.max(width, height) / (double) Math.max(1, Math.min(width, height));
        }
    }

    private ImageQuality() {
    }

    /** The channel tolerance under which a colour pixel counts as grey (about 2 levels of 255). */
    public static final double GREY_TOLERANCE = 2.0;

    public static Measures of(Pixels p) {
        int w = p.width();
        int h = p.height();
        int c = p.channels();
        double[] grey = new double[w * h];
        boolean isGrey = true;
        double sum = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double g = 0;
                float first = p.get(0, y, x);
                for (int k = 0; k < c; k++) {
                    float v = p.get(k, y, x);
                    g += v;
                    if (Math.abs(v - first) > GREY_TOLERANCE) {
                        isGrey = false;
                    }
                }
                g /= c;
                grey[y * w + x] = g;
                sum += g;
            }
        }
        double mean = sum / grey.length / 255;
        // the grey values of 8-bit channels are multiples of 1/c: one bin each, so the percentiles are exact
        int[] histogram = new int[255 * c + 1];
        for (double g : grey) {
            histogram[(int) Math.max(0, Math.min(histogram.length - 1, Math.round(g * c)))]++;
        }
        return new Measures(mean, percentile(histogram, c, 0.99), percentile(histogram, c, 0.05), laplacianVariance(grey, w, h),
                relativeLaplacianVariance(grey, w, h), isGrey, c, w, h, thumbnail(grey, w, h));
    }

    /**
     * The nearest-rank {@code q} quantile of the grey values in {@code histogram} (bin b holds the
     * value b / c), in [0, 1]: the value of rank ⌈q·N⌉ in ascending order.
     */
    static double percentile(int[] histogram, int c, double q) {
        long n = 0;
        for (int count : histogram) {
            n += count;
        }
        long rank = Math.max(1, (long) Math.ceil(q * n));
        long seen = 0;
        for (int b = 0; b < histogram.length; b++) {
            seen += histogram[b];
            if (seen >= rank) {
                return b / (double) c / 255;
            }
        }
        return 1;
    }

    /** Side of the grey thumbnail that confirms near-duplicates. */
    public static final int THUMB = 16;

    /**
     * The grey image as a {@value #THUMB}×{@value #THUMB} thumbnail: bilinear samples on a grid
     * four times finer, averaged in 4×4 blocks (so any size and aspect gives the same layout).
     */
    public static float[] thumbnail(double[] grey, int w, int h) {
        int fine = THUMB * 4;
        float[] t = new float[THUMB * THUMB];
        for (int y = 0; y < fine; y++) {
            double sy = Math.min(h - 1, Math.max(0, (y + 0.5) * h / fine - 0.5));
            int y0 = (int) Math.floor(sy);
            int y1 = Math.min(h - 1, y0 + 1);
            double wy = sy - y0;
            for (int x = 0; x < fine; x++) {
                double sx = Math.min(w - 1, Math.max(0, (x + 0.5) * w / fine - 0.5));
                int x0 = (int) Math.floor(sx);
                int x1 = Math.min(w - 1, x0 + 1);
                double wx = sx - x0;
                double v = (1 - wy) * ((1 - wx) * grey[y0 * w + x0] + wx * grey[y0 * w + x1])
                        + wy * ((1 - wx) * grey[y1 * w + x0] + wx * grey[y1 * w + x1]);
                t[(y / 4) * THUMB + x / 4] += (float) (v / 16);
            }
        }
        return t;
    }

    /**
     * The thumbnail less its mean, so that the cosine of two centred thumbnails is their
     * {@link #correlation}: a nearest-neighbour search by cosine over centred thumbnails ranks by
     * correlation. Null for a flat thumbnail (no correlation with anything).
     */
    public static float[] centred(float[] t) {
        double m = 0;
        for (float v : t) {
            m += v;
        }
        m /= t.length;
        float[] c = new float[t.length];
        boolean flat = true;
        for (int i = 0; i < t.length; i++) {
            c[i] = (float) (t[i] - m);
            flat &= Math.abs(c[i]) < 1e-6f;
        }
        return flat ? null : c;
    }

    /** Pearson correlation of two thumbnails (1 for copies up to brightness and contrast; 0 if either is flat). */
    public static double correlation(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("thumbnails of different sizes: " + a.length + " and " + b.length);
        }
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            double u = a[i] - ma;
            double v = b[i] - mb;
            ab += u * v;
            aa += u * u;
            bb += v * v;
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }

    /** Long side of the grey image whose relative Laplacian variance measures blur (cleanvision's size for its blur score). */
    public static final int BLUR_SIDE = 64;

    /**
     * The variance of the 4-neighbour Laplacian over the variance of the grey values, of the grey
     * image averaged down to at most {@value #BLUR_SIDE} pixels on its long side
     * (docs/methods.md#image-quality). It does not change with contrast or brightness (a gain and an
     * offset of the grey values), and at a fixed size it does not change with the file's resolution
     * either: a photograph's finest pixels carry little of its contrast however sharp it is. NaN for a
     * flat image or one under 3×3 (no contrast to share).
     */
    public static double relativeLaplacianVariance(double[] grey, int w, int h) {
        double scale = Math.max(w, h) / (double) BLUR_SIDE;
        int sw = scale > 1 ? Math.max(1, (int) Math.round(w / scale)) : w;
        int sh = scale > 1 ? Math.max(1, (int) Math.round(h / scale)) : h;
        double[] small = scale > 1 ? areaAverage(grey, w, h, sw, sh) : grey;
        double mean = 0;
        for (double v : small) {
            mean += v;
        }
        mean /= small.length;
        double variance = 0;
        for (double v : small) {
            variance += (v - mean) * (v - mean);
        }
        variance /= small.length;
        // below about 1e-9 of a grey level squared the contrast is rounding, not content
        return sw < 3 || sh < 3 || variance < 1e-9 ? Double.NaN : laplacianVariance(small, sw, sh) / variance;
    }

    /**
     * {@code grey} (w × h) as tw × th, each pixel the mean of the source area it covers (pixels cut
     * by the area's edge count by the fraction inside): a box filter as wide as the step, so no
     * detail finer than the new pixels folds back into them. For tw ≤ w and th ≤ h.
     */
    static double[] areaAverage(double[] grey, int w, int h, int tw, int th) {
        double[] rows = new double[w * th];
        for (int x = 0; x < w; x++) {
            double[] column = new double[h];
            for (int y = 0; y < h; y++) {
                column[y] = grey[y * w + x];
            }
            double[] c = areaAverage(column, th);
            for (int y = 0; y < th; y++) {
                rows[y * w + x] = c[y];
            }
        }
        double[] out = new double[tw * th];
        for (int y = 0; y < th; y++) {
            double[] c = areaAverage(java.util.Arrays.copyOfRange(rows, y * w, (y + 1) * w), tw);
            System.arraycopy(c, 0, out, y * tw, tw);
        }
        return out;
    }

    /** One line of values averaged down to {@code n} cells of equal width. */
    private static double[] areaAverage(double[] line, int n) {
        double step = line.length / (double) n;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double from = i * step;
            double to = (i + 1) * step;
            double sum = 0;
            for (int j = (int) Math.floor(from); j < Math.min(line.length, (int) Math.ceil(to)); j++) {
                sum += line[j] * (Math.min(to, j + 1) - Math.max(from, j));
            }
            out[i] = sum / step;
        }
        return out;
    }

    /**
     * Variance of the 4-neighbour Laplacian (0 1 0 / 1 −4 1 / 0 1 0) over the interior pixels, on
     * the 0–255 scale of {@code grey}, the scale that blur thresholds are usually quoted in (OpenCV's {@code Laplacian} of an
     * 8-bit image); 0 for an image under 3×3.
     */
    public static double laplacianVariance(double[] grey, int w, int h) {
        if (w < 3 || h < 3) {
            return 0;
        }
        double mean = 0;
        double m2 = 0;
        long n = 0;
        for (int y = 1; y < h - 1; y++) {
            for (int x = 1; x < w - 1; x++) {
                int i = y * w + x;
                double l = (grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i]);
                n++;
                double d = l - mean;
                mean += d / n;
                m2 += d * (l - mean);
            }
        }
        return m2 / n;
    }
}
