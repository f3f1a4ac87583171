package io.cnnlens.image;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decodes JPEG, PNG, BMP and GIF bytes into {@link Pixels}. Grey, grey+alpha, RGB, RGBA, palette,
 * 16-bit PNG and CMYK JPEG are handled; the EXIF orientation is applied. Anything else — an
 * unknown format, a truncated or corrupt file, an image over the pixel limit — is a
 * {@link DecodeException} with a reason. The pixel limit is checked from the header, before any
 * pixel buffer is allocated.
 *
 * <p>{@link #decode(byte[])} reads every format through ImageIO (with TwelveMonkeys' JPEG reader
 * for CMYK/YCCK and broken files), as it always did. {@link #decode(byte[], DecodeTarget)}, for
 * model inputs, sends baseline and progressive 8-bit grey and YCbCr/RGB JPEGs through OpenCV's
 * libjpeg-turbo ({@link NativeJpeg}) at the largest DCT reduction (1/2, 1/4, 1/8) that still
 * covers what the model's preprocessing needs (docs/decode.md); everything else — PNG, BMP, GIF,
 * CMYK/YCCK and 12-bit or arithmetic-coded JPEGs, or every JPEG when the natives did not load —
 * takes the ImageIO path at full size.
 *
 * <p>Decoding is strict: a reader warning about the data (e.g. "premature end of JPEG data") is an
 * error, so an audit sees truncated files instead of silently grey-padded pictures; notices
 * about colour profiles are not. libjpeg-turbo only warns on a truncated file, so the native path
 * checks the marker structure first ({@link JpegHeader}): a JPEG that does not reach its
 * end-of-image marker, or whose headers are damaged, is refused before decoding.
 */
public final class ImageDecoder {

    /** Formats this decoder accepts (ImageIO format names, lower case). */
    public static final Set<String> FORMATS = Set.of("jpeg", "png", "bmp", "gif");

    private final long maxPixels;
    private final boolean nativeJpeg;

    public ImageDecoder(long maxPixels) {
        this(maxPixels, true);
    }

    private ImageDecoder(long maxPixels, boolean nativeJpeg) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive");
        }
        this.maxPixels = maxPixels;
        this.nativeJpeg = nativeJpeg;
        ImageIO.setUseCache(false);
    }

    /** The decoder as it was before the native JPEG path: every format through ImageIO, at full size (for comparisons). */
    public static ImageDecoder imageIoOnly(long maxPixels) {
        return new ImageDecoder(maxPixels, false);
    }

    /** Whether JPEGs go through the native decoder (false when it is switched off or its natives did not load). */
    public boolean nativeJpeg() {
        return nativeJpeg && NativeJpeg.available();
    }

    public long maxPixels() {
        return maxPixels;
    }

    /**
     * The picture at full size, upright, through ImageIO whatever the format: the strictest path
     * (damage inside a JPEG's entropy-coded data that the reader only warns about is an error),
     * for audits, thumbnails and everything that is not a model input.
     */
    public Pixels decode(byte[] bytes) throws DecodeException {
        if (bytes == null || bytes.length == 0) {
            throw new DecodeException("read", "empty file (0 bytes)");
        }
        return decodeWithImageIo(bytes);
    }

    /**
     * A model input's picture, upright: JPEGs the native decoder takes at the largest DCT
     * reduction whose output still covers {@code target} ({@link DecodeTarget#FULL}: at full
     * size, the same pixels as {@link #decode(byte[])}); everything else as {@link #decode(byte[])}.
     * Truncated JPEGs are refused; damage inside a complete JPEG's entropy-coded data is not seen
     * here (libjpeg-turbo only warns about it, and OpenCV drops the warning; docs/decode.md).
     */
    public ScaledPixels decode(byte[] bytes, DecodeTarget target) throws DecodeException {
        if (bytes == null || bytes.length == 0) {
            throw new DecodeException("read", "empty file (0 bytes)");
        }
        if (nativeJpeg && JpegHeader.isJpeg(bytes) && NativeJpeg.available()) {
            JpegHeader h = JpegHeader.read(bytes);
            checkSize(h.width(), h.height());
            if (!h.complete()) {
                throw new DecodeException("decode", "corrupt or truncated jpeg: no end-of-image marker (premature end of JPEG data)");
            }
            if (h.nativelyDecodable()) {
                int orientation = exifOrientation(bytes);
                boolean swap = orientation >= 5 && orientation <= 8;
                int uw = swap ? h.height() : h.width();
                int uh = swap ? h.width() : h.height();
                int r = target.reduction(uw, uh);
                Pixels p = Orientation.apply(NativeJpeg.decode(bytes, r, h.components() == 1, h.width(), h.height()), orientation);
                return new ScaledPixels(p, uw, uh, r, Orientation.reversesX(orientation) ? partialShare(uw, r) : 0,
                        Orientation.reversesY(orientation) ? partialShare(uh, r) : 0);
            }
        }
        return ScaledPixels.full(decodeWithImageIo(bytes));
    }

    /** What the partial last block of a reduced axis lacks, in reduced pixels: (r * ceil(full / r) - full) / r. */
    private static double partialShare(int full, int r) {
        return (double) (r * DecodeTarget.ceilDiv(full, r) - full) / r;
    }

    private void checkSize(long w, long h) throws DecodeException {
        if (w <= 0 || h <= 0) {
            throw new DecodeException("decode", "invalid dimensions " + w + "x" + h);
        }
        if (w * h > maxPixels) {
            throw new DecodeException("too-large", "image is " + w + "x" + h + " = " + (w * h)
                    + " pixels, over the limit of " + maxPixels);
        }
    }

    private Pixels decodeWithImageIo(byte[] bytes) throws DecodeException {
        BufferedImage image;
        String format;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader = readerFor(in);
            if (reader == null) {
                throw new DecodeException("decode", "not a supported image (JPEG, PNG, BMP, GIF): unrecognised content");
            }
            format = reader.getFormatName().toLowerCase(Locale.ROOT);
            List<String> warnings = new ArrayList<>();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, warning) -> {
                    if (!colourProfileNotice(warning)) {
                        warnings.add(warning);
                    }
                });
                checkSize(reader.getWidth(0), reader.getHeight(0));
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
            if (!warnings.isEmpty()) {
                throw new DecodeException("decode", "corrupt or truncated " + format + ": " + warnings.get(0));
            }
        } catch (DecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new DecodeException("decode", "corrupt or truncated image: " + describe(e), e);
        }
        Pixels pixels = toPixels(image);
        if ("jpeg".equals(format)) {
            pixels = Orientation.apply(pixels, exifOrientation(bytes));
        }
        return pixels;
    }

    private static ImageReader readerFor(ImageInputStream in) {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            try {
                if (FORMATS.contains(r.getFormatName().toLowerCase(Locale.ROOT))) {
                    return r;
                }
            } catch (IOException e) {
                // fall through to the next reader
            }
            r.dispose();
        }
        return null;
    }

    /**
     * Reads samples straight from the raster where the colour model allows it: Java's grey colour
     * space is linear, so getRGB() would brighten grey images; 16-bit samples are scaled to 0..255.
     */
    static Pixels toPixels(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (cm instanceof IndexColorModel) {
            return fromArgb(image);
        }
        int colour = cm.getNumColorComponents();
        int type = cm.getColorSpace().getType();
        if (colour == 1) {
            return fromBands(image.getRaster(), w, h, 1, cm.getComponentSize(0));
        }
        if (colour == 3 && type == ColorSpace.TYPE_RGB) {
            return fromBands(image.getRaster(), w, h, 3, cm.getComponentSize(0));
        }
        // e.g. an unconverted CMYK or other colour space: convert to sRGB first
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        new ColorConvertOp(null).filter(image, rgb);
        return fromArgb(rgb);
    }

    private static Pixels fromBands(Raster raster, int w, int h, int channels, int bits) {
        float[] data = new float[channels * w * h];
        float scale = bits == 8 ? 1f : 255f / ((1L << bits) - 1);
        float[] row = new float[w];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, c, row);
                int base = (c * h + y) * w;
                for (int x = 0; x < w; x++) {
                    data[base + x] = row[x] * scale;
                }
            }
        }
        return new Pixels(w, h, channels, data);
    }

    private static Pixels fromArgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        float[] data = new float[3 * w * h];
        int plane = w * h;
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            data[i] = (p >> 16) & 0xff;
            data[plane + i] = (p >> 8) & 0xff;
            data[2 * plane + i] = p & 0xff;
        }
        return new Pixels(w, h, 3, data);
    }

    private static int exifOrientation(byte[] bytes) {
        try {
            Metadata metadata = ImageMetadataReader.readMetadata(new ByteArrayInputStream(bytes), bytes.length);
            ExifIFD0Directory dir = metadata.getFirstDirectoryOfType(ExifIFD0Directory.class);
            if (dir != null && dir.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
                return dir.getInt(ExifIFD0Directory.TAG_ORIENTATION);
            }
        } catch (Exception e) {
            // unreadable metadata: the pixels decoded fine, keep them as stored
        }
        return 1;
    }

    /** A reader notice about colour management (e.g. a CMYK JPEG without an ICC profile), not damage. */
    private static boolean colourProfileNotice(String warning) {
        String w = warning.toLowerCase(Locale.ROOT);
        return w.contains("icc") || w.contains("color profile") || w.contains("colour profile");
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
