package io.cnnlens.image;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageDecoderTest {

    private final ImageDecoder decoder = new ImageDecoder(10_000_000);

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), "no writer for " + format);
        return out.toByteArray();
    }

    @Test
    void greyPngKeepsItsValuesExactly() throws Exception {
        byte[] raw = new byte[6 * 4];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (i * 10);
        }
        Pixels p = decoder.decode(PngWriter.grey(raw, 6, 4));
        assertEquals(1, p.channels());
        assertEquals(6, p.width());
        assertEquals(4, p.height());
        for (int i = 0; i < raw.length; i++) {
            // Java's grey colour space is linear: getRGB() would have returned brighter values
            assertEquals(raw[i] & 0xff, p.data()[i], 0f);
        }
    }

    @Test
    void sixteenBitGreyIsScaledTo255() throws Exception {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 32896, 65535});
        Pixels p = decoder.decode(encode(img, "png"));
        assertEquals(1, p.channels());
        assertArrayEquals(new float[] {0f, 128f, 255f}, p.data(), 1e-3f);
    }

    @Test
    void rgbaDropsAlphaAndKeepsColour() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x80ff0000);
        img.setRGB(1, 0, 0xff00ff7f);
        Pixels p = decoder.decode(encode(img, "png"));
        assertEquals(3, p.channels());
        assertArrayEquals(new float[] {255, 0, 0, 255, 0, 127}, p.data(), 0f);
    }

    @Test
    void paletteGifAndBmpDecode() throws Exception {
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] b = new byte[256];
        r[7] = (byte) 200;
        g[7] = 100;
        b[7] = 50;
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 256, r, g, b));
        for (int y = 0; y < 16; y++) {
            for (int x = 8; x < 16; x++) {
                img.getRaster().setSample(x, y, 0, 7); // right half: palette entry 7
            }
        }
        for (String format : new String[] {"gif", "png"}) {
            Pixels p = decoder.decode(encode(img, format));
            assertEquals(3, p.channels(), format);
            assertEquals(200f, p.get(0, 9, 9), format);
            assertEquals(100f, p.get(1, 9, 9), format);
            assertEquals(50f, p.get(2, 9, 9), format);
            assertEquals(0f, p.get(0, 0, 0), format);
        }
        BufferedImage rgb = new BufferedImage(3, 2, BufferedImage.TYPE_3BYTE_BGR);
        rgb.setRGB(2, 1, 0x102030);
        Pixels bmp = decoder.decode(encode(rgb, "bmp"));
        assertEquals(0x10, (int) bmp.get(0, 1, 2));
        assertEquals(0x20, (int) bmp.get(1, 1, 2));
        assertEquals(0x30, (int) bmp.get(2, 1, 2));
    }

    @Test
    void cmykJpegBecomesRgb() throws Exception {
        // made with ImageMagick: a red/blue split image saved as CMYK JPEG (see fixtures README)
        Pixels p = decoder.decode(fixture("cmyk.jpg"));
        assertEquals(3, p.channels());
        float redLeft = p.get(0, p.height() / 2, 2);
        float blueLeft = p.get(2, p.height() / 2, 2);
        float redRight = p.get(0, p.height() / 2, p.width() - 3);
        float blueRight = p.get(2, p.height() / 2, p.width() - 3);
        assertTrue(redLeft > 180 && blueLeft < 90, "left half red, got r=" + redLeft + " b=" + blueLeft);
        assertTrue(blueRight > 140 && redRight < 90, "right half blue, got r=" + redRight + " b=" + blueRight);
    }

    @Test
    void exifOrientationIsApplied() throws Exception {
        // 40x20 landscape picture with a bright top-left corner, stored with EXIF orientation 6
        // (display rotated 90° clockwise): upright it is 20x40 with the bright corner top-right
        Pixels p = decoder.decode(fixture("exif-orientation-6.jpg"));
        assertEquals(20, p.width());
        assertEquals(40, p.height());
        assertTrue(p.get(0, 2, 17) > 200, "bright corner at top right");
        assertTrue(p.get(0, 2, 2) < 60, "dark at top left");
    }

    @Test
    void emptyCorruptTruncatedAndNonImageInputsAreRefusedWithAReason() throws Exception {
        assertEquals("read", assertThrows(DecodeException.class, () -> decoder.decode(new byte[0])).stage());
        DecodeException text = assertThrows(DecodeException.class,
                () -> decoder.decode("hello, not an image".getBytes()));
        assertEquals("decode", text.stage());
        assertTrue(text.getMessage().contains("not a supported image"), text.getMessage());

        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | ((x ^ y) & 0xff));
            }
        }
        for (String format : new String[] {"png", "jpeg"}) {
            byte[] good = encode(img, format);
            byte[] truncated = Arrays.copyOf(good, good.length / 2);
            DecodeException e = assertThrows(DecodeException.class, () -> decoder.decode(truncated), format);
            assertEquals("decode", e.stage(), format);
            byte[] corrupt = good.clone();
            for (int i = 2; i < 40; i++) {
                corrupt[i] = (byte) (i * 37); // header (PNG IHDR / JPEG tables) destroyed
            }
            assertThrows(DecodeException.class, () -> decoder.decode(corrupt), format + " corrupt");
        }
    }

    @Test
    void hugeImageIsRefusedFromItsHeader() throws Exception {
        // a 100,000 x 100,000 PNG header (10^10 pixels, 40 GB decoded) in a 60-byte file
        byte[] png = HugePng.header(100_000, 100_000);
        long before = usedHeap();
        DecodeException e = assertThrows(DecodeException.class, () -> decoder.decode(png));
        assertEquals("too-large", e.stage());
        assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
        assertTrue(usedHeap() - before < 512L << 20, "no pixel buffer allocated");
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = ImageDecoderTest.class.getResourceAsStream("/images/" + name)) {
            if (in == null) {
                throw new IOException("missing test fixture " + name);
            }
            return in.readAllBytes();
        }
    }
}
