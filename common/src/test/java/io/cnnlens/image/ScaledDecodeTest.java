package io.cnnlens.image;

import io.cnnlens.model.ModelSpec;
import org.junit.jupiter.api.Test;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native (OpenCV libjpeg-turbo) JPEG path, with and without DCT reduction, against the ImageIO path. */
class ScaledDecodeTest {

    private final ImageDecoder decoder = new ImageDecoder(50_000_000);
    private final ImageDecoder imageIo = ImageDecoder.imageIoOnly(50_000_000);
    /** SqueezeNet / AlexNet ImageNet policy: shorter side to 256, centre crop 224. */
    private final Preprocessor imagenet = new Preprocessor(new ModelSpec("t", ModelSpec.Format.DJL, "", java.nio.file.Path.of("w"),
            3, 224, 224, ModelSpec.Resize.CENTER_CROP, 256, new float[] {0.485f, 0.456f, 0.406f},
            new float[] {0.229f, 0.224f, 0.225f}, "fc7", "logits", "conv5", "conv1", java.util.List.of("a", "b"), ""));

    @Test
    void reductionIsTheLargestThatStillCoversTheTarget() {
        DecodeTarget s256 = DecodeTarget.shorterSide(256);
        assertEquals(8, s256.reduction(4032, 3024));   // 504 x 378
        assertEquals(8, s256.reduction(3024, 4032));
        assertEquals(8, s256.reduction(2048, 2048));   // 256 x 256: exactly covers
        assertEquals(8, s256.reduction(2041, 2041));   // ceil(2041 / 8) = 256, as libjpeg rounds
        assertEquals(4, s256.reduction(2040, 2040));   // 1/8 = 255 x 255 does not cover
        assertEquals(4, s256.reduction(2048, 1536));   // 512 x 384; 1/8 = 256 x 192 does not cover
        assertEquals(2, s256.reduction(1024, 768));    // 512 x 384; 1/4 = 256 x 192 does not
        assertEquals(2, s256.reduction(1023, 511));    // ceil(511 / 2) = 256
        assertEquals(1, s256.reduction(500, 375));     // 1/2 = 250 x 188
        assertEquals(1, s256.reduction(200, 100));     // smaller than the target: as stored
        DecodeTarget box = DecodeTarget.atLeast(28, 28);
        assertEquals(8, box.reduction(500, 375));      // 63 x 47
        assertEquals(2, box.reduction(200, 100));      // 1/4 = 50 x 25 does not cover 28 x 28
        assertEquals(1, box.reduction(28, 28));
        assertEquals(1, DecodeTarget.FULL.reduction(4032, 3024));
        assertEquals(DecodeTarget.shorterSide(256), imagenet.decodeTarget());
        assertEquals(DecodeTarget.atLeast(28, 28), new Preprocessor(PreprocessorTest.spec(1, 28, ModelSpec.Resize.STRETCH, 28, 0.5f, 0.5f))
                .decodeTarget());
    }

    @Test
    void fullSizeNativeDecodeEqualsImageIo() throws Exception {
        assertTrue(decoder.nativeJpeg(), "the OpenCV natives load on linux-x86_64");
        for (String name : new String[] {"photo-1280x960.jpg", "photo-grey-1024x768.jpg"}) {
            byte[] b = fixture(name);
            Pixels n = decoder.decode(b, DecodeTarget.FULL).pixels();
            Pixels o = decoder.decode(b);
            assertEquals(o.width(), n.width(), name);
            assertEquals(o.height(), n.height(), name);
            assertEquals(o.channels(), n.channels(), name);
            double[] d = diff(o.data(), n.data());
            System.out.printf(Locale.ROOT, "%s full size, native vs ImageIO: max |diff| %.1f, mean %.4f%n", name, d[0], d[1]);
            assertTrue(d[0] <= 1 && d[1] < 0.01, name + " max " + d[0] + " mean " + d[1]);
        }
    }

    /**
     * The model input from a reduced decode against the one from today's full decode + box + bilinear
     * resize. They are not equal: 1/8 in the DCT is an 8 x 8 block mean, where the old resize of a
     * 2736-wide picture to 341 is a 4 x 4 box then a 2.006x bilinear whose phase drifts across the
     * picture. Tolerance (0..255 model pixels): mean |diff| at most 2.5 and at most 1 % of values off
     * by more than 32 (measured here, mean: 2.03, 0.85, 1.92); fc7 agreement on the photo sets is in
     * tests/bench/photo-decode.sh.
     */
    @Test
    void scaledDecodeThenResizeStaysCloseToTheFullSizePolicy() throws Exception {
        String[] names = {"photo-2736x2052-exif6.jpg", "photo-1280x960.jpg", "photo-grey-1024x768.jpg"};
        int[] reductions = {8, 2, 2};
        for (int i = 0; i < names.length; i++) {
            byte[] b = fixture(names[i]);
            ScaledPixels s = decoder.decode(b, imagenet.decodeTarget());
            assertEquals(reductions[i], s.reduction(), names[i]);
            Pixels full = imageIo.decode(b);
            assertEquals(full.width(), s.fullWidth(), names[i]);
            assertEquals(full.height(), s.fullHeight(), names[i]);
            float[] now = imagenet.modelPixels(s).data();
            float[] before = imagenet.modelPixels(full).data();
            double[] d = diff(before, now);
            int over = 0;
            for (int j = 0; j < now.length; j++) {
                if (Math.abs(now[j] - before[j]) > 32) {
                    over++;
                }
            }
            double share = (double) over / now.length;
            System.out.printf(Locale.ROOT, "%s 1/%d decode + resize vs full decode + resize (model pixels 0..255): "
                    + "max |diff| %.2f, mean %.3f, share over 32 %.4f%n", names[i], s.reduction(), d[0], d[1], share);
            assertTrue(d[1] <= 2.5, names[i] + " mean |diff| " + d[1]);
            assertTrue(share <= 0.01, names[i] + " share over 32: " + share);
        }
    }

    @Test
    void exifOrientationIsAppliedOnceOnTheScaledPath() throws Exception {
        // stored 2736 x 2052 with orientation 6: upright 2052 x 2736, at 1/8 257 x 342
        byte[] b = fixture("photo-2736x2052-exif6.jpg");
        ScaledPixels s = decoder.decode(b, DecodeTarget.shorterSide(256));
        assertEquals(8, s.reduction());
        assertEquals(2052, s.fullWidth());
        assertEquals(2736, s.fullHeight());
        assertEquals(257, s.pixels().width());
        assertEquals(342, s.pixels().height());
        // the same picture as the ImageIO decode (rotated once: OpenCV's own rotation is off), both
        // stretched to 64 x 96 (a double or missing rotation would compare a different picture)
        Preprocessor stretch = new Preprocessor(new ModelSpec("s", ModelSpec.Format.DJL, "", java.nio.file.Path.of("w"),
                3, 96, 64, ModelSpec.Resize.STRETCH, 64, new float[] {0, 0, 0}, new float[] {1, 1, 1},
                "fc7", "logits", "conv5", "conv1", java.util.List.of("a", "b"), ""));
        double[] d = diff(stretch.modelPixels(imageIo.decode(b)).data(), stretch.modelPixels(s).data());
        assertTrue(d[1] < 4, "upright like the ImageIO decode, mean |diff| " + d[1]);
        // and the synthetic corner fixture: bright top-right after rotation, at 1/8 too
        ScaledPixels corner = decoder.decode(exifSix(), DecodeTarget.shorterSide(2));
        assertEquals(8, corner.reduction());
        assertEquals(32, corner.fullWidth());
        assertEquals(64, corner.fullHeight());
        assertTrue(corner.pixels().get(0, 0, corner.pixels().width() - 1) > 200, "bright top right");
        assertTrue(corner.pixels().get(0, 0, 0) < 60, "dark top left");
    }

    @Test
    void windowedBilinearIsTheWholePictureResizeWhenTheWindowIsThePicture() {
        Pixels p = new Pixels(6, 4, 1, new float[] {0, 10, 20, 30, 40, 50, 5, 15, 25, 35, 45, 55, 9, 19, 29, 39, 49, 59,
                2, 12, 22, 32, 42, 52});
        assertArrayEquals(Resize.bilinear(p, 3, 2).data(), Resize.bilinear(p, 3, 2, 0, 6, 0, 4).data(), 0f);
        // a window shifted by half a pixel samples half a pixel further on: 1:1 gives the means of neighbours
        Pixels shifted = Resize.bilinear(p, 5, 4, 0.5, 5, 0, 4);
        assertEquals(5f, shifted.get(0, 0, 0), 1e-5f);
        assertEquals(45f, shifted.get(0, 0, 4), 1e-5f);
    }

    @Test
    void cmykJpegTakesTheImageIoPathAtFullSize() throws Exception {
        byte[] b = fixture("cmyk.jpg");
        ScaledPixels s = decoder.decode(b, DecodeTarget.shorterSide(2));
        assertEquals(1, s.reduction());
        Pixels o = imageIo.decode(b);
        assertArrayEquals(o.data(), s.pixels().data(), 0f);
        assertEquals(3, s.pixels().channels());
    }

    @Test
    void greyJpegStaysOneChannelAtEveryScale() throws Exception {
        byte[] b = fixture("photo-grey-1024x768.jpg");
        for (DecodeTarget t : new DecodeTarget[] {DecodeTarget.FULL, DecodeTarget.shorterSide(300), DecodeTarget.shorterSide(96)}) {
            ScaledPixels s = decoder.decode(b, t);
            assertEquals(1, s.pixels().channels(), t.toString());
            assertEquals(DecodeTarget.ceilDiv(1024, s.reduction()), s.pixels().width(), t.toString());
        }
        assertEquals(4, decoder.decode(b, DecodeTarget.shorterSide(192)).reduction());
        // a colour model takes it as three equal channels, as before
        float[] x = imagenet.modelPixels(decoder.decode(b, imagenet.decodeTarget())).data();
        int plane = 224 * 224;
        assertEquals(x[plane / 2], x[plane + plane / 2], 0f);
        assertEquals(x[plane / 2], x[2 * plane + plane / 2], 0f);
    }

    @Test
    void truncatedOrDamagedJpegsAreErrorsNotGreyPictures() throws Exception {
        byte[] base = jpeg(gradient(256, 192), false);
        byte[] progressive = jpeg(gradient(256, 192), true);
        for (byte[] good : new byte[][] {base, progressive, fixture("photo-1280x960.jpg")}) {
            for (int keep : new int[] {good.length - 2, good.length - 1 - good.length / 3, good.length / 2, 300, 20}) {
                byte[] cut = Arrays.copyOf(good, keep);
                for (DecodeTarget t : new DecodeTarget[] {DecodeTarget.FULL, DecodeTarget.shorterSide(16)}) {
                    DecodeException e = assertThrows(DecodeException.class, () -> decoder.decode(cut, t), "cut at " + keep);
                    assertEquals("decode", e.stage());
                    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
                }
            }
        }
        // data after the end-of-image marker (a phone's motion-photo video) is not damage
        byte[] tail = Arrays.copyOf(progressive, progressive.length + 5000);
        Arrays.fill(tail, progressive.length, tail.length, (byte) 0x5a);
        assertArrayEquals(decoder.decode(progressive, DecodeTarget.FULL).pixels().data(),
                decoder.decode(tail, DecodeTarget.FULL).pixels().data(), 0f);
        // destroyed tables: the native decoder's error, not a picture
        byte[] corrupt = base.clone();
        for (int i = 2; i < 60; i++) {
            corrupt[i] = (byte) (i * 37);
        }
        assertEquals("decode", assertThrows(DecodeException.class, () -> decoder.decode(corrupt, DecodeTarget.FULL)).stage());
    }

    @Test
    void overThePixelLimitIsRefusedFromTheFrameHeader() {
        // SOI, a baseline frame header of 60000 x 60000 x 3, and nothing else: refused as too large
        // before the missing data is even looked at, so no pixel buffer exists
        byte[] b = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0, 17, 8, (byte) 0xEA, 0x60, (byte) 0xEA, 0x60, 3,
                1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, (byte) 0xFF, (byte) 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0};
        DecodeException e = assertThrows(DecodeException.class, () -> decoder.decode(b, DecodeTarget.shorterSide(256)));
        assertEquals("too-large", e.stage());
        assertTrue(e.getMessage().contains("60000x60000"), e.getMessage());
    }

    @Test
    void pngAndImageIoOnlyTakeTheOldPathAtFullSize() throws Exception {
        BufferedImage img = gradient(64, 48);
        byte[] png = ImageDecoderTest.encode(img, "png");
        ScaledPixels s = decoder.decode(png, DecodeTarget.shorterSide(8));
        assertEquals(1, s.reduction());
        assertEquals(64, s.pixels().width());
        assertArrayEquals(imageIo.decode(png).data(), s.pixels().data(), 0f);
        assertFalse(imageIo.nativeJpeg());
        byte[] jpg = jpeg(img, false);
        assertEquals(1, imageIo.decode(jpg, DecodeTarget.shorterSide(8)).reduction());
        assertEquals(8, decoder.decode(jpg, DecodeTarget.shorterSide(6)).reduction());
    }

    // ---- helpers

    static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 255 / w) << 16 | (y * 255 / h) << 8 | ((x ^ y) & 0xff));
            }
        }
        return img;
    }

    static byte[] jpeg(BufferedImage img, boolean progressive) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            ImageWriteParam p = w.getDefaultWriteParam();
            if (progressive) {
                p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
        return out.toByteArray();
    }

    /** A 64 x 32 dark JPEG with a bright 8 x 8 top-left corner and an EXIF orientation 6 segment. */
    static byte[] exifSix() throws IOException {
        BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, x < 8 && y < 8 ? 0xffffff : 0x101010);
            }
        }
        byte[] j = jpeg(img, false);
        // APP1 "Exif\0\0", little-endian TIFF header, IFD0 with one entry: Orientation (0x0112) SHORT 1 = 6
        byte[] app1 = {(byte) 0xFF, (byte) 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
        byte[] out = new byte[j.length + app1.length];
        out[0] = j[0];
        out[1] = j[1];
        System.arraycopy(app1, 0, out, 2, app1.length);
        System.arraycopy(j, 2, out, 2 + app1.length, j.length - 2);
        return out;
    }

    static double[] diff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            max = Math.max(max, d);
            sum += d;
        }
        return new double[] {max, sum / a.length};
    }

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = ScaledDecodeTest.class.getResourceAsStream("/images/" + name)) {
            if (in == null) {
                throw new IOException("missing test fixture " + name);
            }
            return in.readAllBytes();
        }
    }
}
