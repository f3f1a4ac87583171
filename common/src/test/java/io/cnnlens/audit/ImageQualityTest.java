package io.cnnlens.audit;

import io.cnnlens.image.Pixels;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageQualityTest {

    @Test
    void flatImageHasNoLaplacianVarianceAndItsMean() {
        float[] d = new float[3 * 10 * 8];
        java.util.Arrays.fill(d, 51f);
        ImageQuality.Measures m = ImageQuality.of(new Pixels(10, 8, 3, d));
        assertEquals(0.2, m.meanIntensity(), 1e-9);
        assertEquals(0, m.laplacianVariance(), 1e-12);
        assertTrue(m.grey());
        assertEquals(1.25, m.aspect(), 1e-12);
    }

    /**
     * A black image with a thin bright object (2 % of its pixels at 255), as a Fashion-MNIST sandal
     * is: its mean is as low as a dark image's, but its brightest 1 % is white, so it is not dark.
     */
    @Test
    void aThinBrightObjectOnBlackIsDarkOnAverageButNotInItsBrightestPercent() {
        int w = 50;
        float[] d = new float[w * w];
        for (int i = 0; i < w * w; i += 50) {
            d[i] = 255;
        }
        ImageQuality.Measures m = ImageQuality.of(new Pixels(w, w, 1, d));
        assertEquals(0.02, m.meanIntensity(), 1e-12);
        assertEquals(1.0, m.brightness99(), 1e-12);
        assertEquals(0.0, m.brightness5(), 1e-12);
    }

    /** The percentiles against sorting the grey values (the mean of the channels) and taking rank ⌈q·N⌉. */
    @Test
    void percentilesEqualTheNearestRankOfTheSortedGreyValues() {
        Random rnd = new Random(3);
        for (int c : new int[] {1, 3}) {
            int w = 37;
            int h = 23;
            float[] d = new float[c * w * h];
            for (int i = 0; i < d.length; i++) {
                d[i] = rnd.nextInt(256);
            }
            Pixels p = new Pixels(w, h, c, d);
            double[] grey = new double[w * h];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double g = 0;
                    for (int k = 0; k < c; k++) {
                        g += p.get(k, y, x);
                    }
                    grey[y * w + x] = g / c / 255;
                }
            }
            java.util.Arrays.sort(grey);
            ImageQuality.Measures m = ImageQuality.of(p);
            assertEquals(grey[(int) Math.ceil(0.99 * grey.length) - 1], m.brightness99(), 1e-12, c + " channels");
            assertEquals(grey[(int) Math.ceil(0.05 * grey.length) - 1], m.brightness5(), 1e-12, c + " channels");
        }
    }

    @Test
    void checkerboardLaplacianByHand() {
        // 0/255 checkerboard: each interior Laplacian is ±4·255 → variance (4·255)²
        int w = 6;
        float[] d = new float[w * w];
        for (int y = 0; y < w; y++) {
            for (int x = 0; x < w; x++) {
                d[y * w + x] = (x + y) % 2 == 0 ? 255 : 0;
            }
        }
        double v = ImageQuality.of(new Pixels(w, w, 1, d)).laplacianVariance();
        assertEquals(Math.pow(4 * 255, 2), v, 1e-6 * v);
    }

    @Test
    void blurLowersTheLaplacianVarianceAndColourIsNotGrey() {
        Random rnd = new Random(3);
        int w = 32;
        float[] sharp = new float[w * w];
        for (int i = 0; i < sharp.length; i++) {
            sharp[i] = rnd.nextInt(256);
        }
        float[] blur = new float[w * w];
        for (int y = 0; y < w; y++) {
            for (int x = 0; x < w; x++) {
                double s = 0;
                int n = 0;
                for (int dy = -2; dy <= 2; dy++) {
                    for (int dx = -2; dx <= 2; dx++) {
                        int yy = Math.min(w - 1, Math.max(0, y + dy));
                        int xx = Math.min(w - 1, Math.max(0, x + dx));
                        s += sharp[yy * w + xx];
                        n++;
                    }
                }
                blur[y * w + x] = (float) (s / n);
            }
        }
        double a = ImageQuality.of(new Pixels(w, w, 1, sharp)).laplacianVariance();
        double b = ImageQuality.of(new Pixels(w, w, 1, blur)).laplacianVariance();
        assertTrue(b < a / 20, a + " vs " + b);
        float[] rgb = new float[3 * 4];
        rgb[0] = 200; // one red pixel
        assertFalse(ImageQuality.of(new Pixels(2, 2, 3, rgb)).grey());
    }

    /** A gain and an offset of the grey values (a faint or washed-out copy) leave the relative variance as it was. */
    @Test
    void relativeLaplacianVarianceIgnoresContrastAndBrightnessWhereThePlainVarianceDoesNot() {
        Random rnd = new Random(7);
        int w = 28;
        double[] sharp = new double[w * w];
        double[] faint = new double[w * w];
        for (int i = 0; i < sharp.length; i++) {
            sharp[i] = rnd.nextInt(256);
            faint[i] = 0.1 * sharp[i] + 40;
        }
        double r = ImageQuality.relativeLaplacianVariance(sharp, w, w);
        assertEquals(r, ImageQuality.relativeLaplacianVariance(faint, w, w), 1e-9 * r);
        assertEquals(0.01, ImageQuality.laplacianVariance(faint, w, w) / ImageQuality.laplacianVariance(sharp, w, w), 1e-9);
        assertTrue(Double.isNaN(ImageQuality.relativeLaplacianVariance(new double[w * w], w, w)), "a flat image has no contrast to share");
    }

    /** Above 64 px the measure is that of the image averaged down: 256 × 192 → 64 × 48, each pixel the mean of a 4 × 4 block. */
    @Test
    void largeImagesAreMeasuredAveragedDownToSixtyFourPixels() {
        Random rnd = new Random(11);
        int w = 256;
        int h = 192;
        double[] grey = new double[w * h];
        for (int i = 0; i < grey.length; i++) {
            grey[i] = rnd.nextInt(256);
        }
        double[] blocks = new double[64 * 48];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                blocks[(y / 4) * 64 + x / 4] += grey[y * w + x] / 16;
            }
        }
        double r = ImageQuality.relativeLaplacianVariance(grey, w, h);
        assertEquals(ImageQuality.relativeLaplacianVariance(blocks, 64, 48), r, 1e-9 * r);
        assertTrue(r > 10, "white noise: the Laplacian's variance is 20 times the pixels' (" + r + ")");
    }

    /**
     * Shapes with sharp edges (random rectangles of random grey) are above the default 0.2; three
     * passes of a 3 × 3 box, the test collection's blur, take them below it.
     */
    @Test
    void blurTakesSharpShapesBelowTheDefault() {
        Random rnd = new Random(13);
        int w = 28;
        for (int image = 0; image < 20; image++) {
            double[] sharp = new double[w * w];
            for (int shape = 0; shape < 4; shape++) {
                int x0 = rnd.nextInt(w - 4);
                int y0 = rnd.nextInt(w - 4);
                int x1 = x0 + 4 + rnd.nextInt(w - x0 - 4);
                int y1 = y0 + 4 + rnd.nextInt(w - y0 - 4);
                double g = rnd.nextInt(256);
                for (int y = y0; y < y1; y++) {
                    for (int x = x0; x < x1; x++) {
                        sharp[y * w + x] = g;
                    }
                }
            }
            double[] blurred = sharp;
            for (int pass = 0; pass < 3; pass++) {
                double[] next = new double[blurred.length];
                for (int y = 0; y < w; y++) {
                    for (int x = 0; x < w; x++) {
                        double s = 0;
                        for (int dy = -1; dy <= 1; dy++) {
                            for (int dx = -1; dx <= 1; dx++) {
                                s += blurred[Math.min(w - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))];
                            }
                        }
                        next[y * w + x] = s / 9;
                    }
                }
                blurred = next;
            }
            double a = ImageQuality.relativeLaplacianVariance(sharp, w, w);
            double b = ImageQuality.relativeLaplacianVariance(blurred, w, w);
            if (!Double.isNaN(a)) {
                assertTrue(a >= 0.2 && b < 0.2, "image " + image + ": sharp " + a + ", blurred " + b);
            }
        }
    }

    /** Five values into two cells of 2.5: the middle value is split half and half. */
    @Test
    void areaAverageWeighsTheCutPixelsByTheirShare() {
        double[] out = ImageQuality.areaAverage(new double[] {1, 2, 3, 4, 5}, 5, 1, 2, 1);
        assertEquals((1 + 2 + 0.5 * 3) / 2.5, out[0], 1e-12);
        assertEquals((0.5 * 3 + 4 + 5) / 2.5, out[1], 1e-12);
    }

    @Test
    void thumbnailsOfAnImageAndItsUpscaledCopyCorrelateAndDifferentImagesLess() {
        Random rnd = new Random(5);
        int w = 28;
        double[] a = new double[w * w];
        double[] b = new double[w * w];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % w) * 9 + rnd.nextInt(20);
            b[i] = rnd.nextInt(256);
        }
        // nearest-neighbour 2x upscale of a
        double[] big = new double[4 * w * w];
        for (int y = 0; y < 2 * w; y++) {
            for (int x = 0; x < 2 * w; x++) {
                big[y * 2 * w + x] = a[(y / 2) * w + x / 2];
            }
        }
        float[] ta = ImageQuality.thumbnail(a, w, w);
        assertEquals(ImageQuality.THUMB * ImageQuality.THUMB, ta.length);
        assertTrue(ImageQuality.correlation(ta, ImageQuality.thumbnail(big, 2 * w, 2 * w)) > 0.98);
        assertTrue(ImageQuality.correlation(ta, ImageQuality.thumbnail(b, w, w)) < 0.5);
        assertEquals(1.0, ImageQuality.correlation(ta, ta), 1e-9);
        assertEquals(0.0, ImageQuality.correlation(ta, new float[ta.length]));
        // the thumbnail of a flat image is that value everywhere
        double[] flat = new double[10 * 7];
        java.util.Arrays.fill(flat, 80);
        for (float v : ImageQuality.thumbnail(flat, 10, 7)) {
            assertEquals(80, v, 1e-3);
        }
    }

    @Test
    void cosineOfCentredThumbnailsIsTheirCorrelation() {
        Random r = new Random(3);
        for (int trial = 0; trial < 20; trial++) {
            float[] a = new float[ImageQuality.THUMB * ImageQuality.THUMB];
            float[] b = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextFloat() * 255;
                // b: a brighter, lower-contrast, noisy copy of a, or something unrelated
                b[i] = trial % 2 == 0 ? 40 + 0.6f * a[i] + (float) r.nextGaussian() * 20 : r.nextFloat() * 255;
            }
            float[] ca = ImageQuality.centred(a);
            float[] cb = ImageQuality.centred(b);
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int i = 0; i < a.length; i++) {
                dot += ca[i] * (double) cb[i];
                na += ca[i] * (double) ca[i];
                nb += cb[i] * (double) cb[i];
            }
            assertEquals(ImageQuality.correlation(a, b), dot / Math.sqrt(na * nb), 1e-5);
        }
        float[] flat = new float[16];
        java.util.Arrays.fill(flat, 7f);
        assertEquals(null, ImageQuality.centred(flat), "a flat thumbnail correlates with nothing");
    }
}
