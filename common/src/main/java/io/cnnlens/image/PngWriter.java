package io.cnnlens.image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** PNG encoding through ImageIO, and decoding of the PNGs the project stored (tiles, overlays). */
public final class PngWriter {

    private PngWriter() {
    }

    /** An 8-bit grey PNG from row-major bytes. */
    public static byte[] grey(byte[] pixels, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, width, height, pixels);
        return encode(img);
    }

    /** A PNG this project wrote back into an image (not for untrusted input: use {@link ImageDecoder}). */
    public static BufferedImage decode(byte[] png) {
        try {
            BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(png));
            if (img == null) {
                throw new IllegalArgumentException("not a PNG");
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] encode(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
