package io.cnnlens.image;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JPEG decode through OpenCV's imgcodecs (libjpeg-turbo inside; the bytedeco presets' natives for
 * linux-x86_64), optionally at a 1/2, 1/4 or 1/8 DCT scale, which costs a fraction of a full
 * decode. OpenCV's own EXIF rotation is switched off ({@code IMREAD_IGNORE_ORIENTATION}): the
 * caller applies the orientation, as on the ImageIO path. The natives load once per JVM, on first
 * use; if they cannot load (another OS, a missing library) that is logged once and
 * {@link #available()} is false, and JPEGs take the ImageIO path. The system property
 * {@value #ENABLED_KEY} = false switches this path off.
 */
final class NativeJpeg {

    /** System property: false decodes every JPEG with ImageIO (the path before the native decoder). */
    static final String ENABLED_KEY = "cnnlens.jpeg.native";
    static final boolean ENABLED_DEFAULT = true;

    private static final Logger LOG = LoggerFactory.getLogger(NativeJpeg.class);

    private NativeJpeg() {
    }

    private static final class Loaded {
        static final boolean OK = load();
    }

    static boolean available() {
        return Loaded.OK;
    }

    private static boolean load() {
        if (!Boolean.parseBoolean(System.getProperty(ENABLED_KEY, String.valueOf(ENABLED_DEFAULT)))) {
            LOG.info("{}=false: JPEGs are decoded with ImageIO at full size", ENABLED_KEY);
            return false;
        }
        try {
            Loader.load(opencv_imgcodecs.class);
            return true;
        } catch (Throwable t) {
            LOG.warn("OpenCV natives did not load ({}: {}); JPEGs are decoded with ImageIO at full size",
                    t.getClass().getSimpleName(), t.getMessage());
            return false;
        }
    }

    /** The imdecode flags for a reduction of 1, 2, 4 or 8, grey or colour, without EXIF rotation. */
    static int flags(int reduction, boolean grey) {
        int f = switch (reduction) {
            case 1 -> grey ? opencv_imgcodecs.IMREAD_GRAYSCALE : opencv_imgcodecs.IMREAD_COLOR;
            case 2 -> grey ? opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_2 : opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
            case 4 -> grey ? opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_4 : opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
            case 8 -> grey ? opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_8 : opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
            default -> throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, not " + reduction);
        };
        return f | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
    }

    /**
     * Decodes {@code bytes} (a JPEG whose header said {@code expectW} × {@code expectH}) at
     * 1/{@code reduction}, as stored (no orientation): grey as 1 channel, colour as RGB.
     */
    static Pixels decode(byte[] bytes, int reduction, boolean grey, int expectW, int expectH) throws DecodeException {
        try (BytePointer data = new BytePointer(bytes);
             Mat buf = new Mat(1, bytes.length, opencv_core.CV_8UC1, data);
             Mat m = opencv_imgcodecs.imdecode(buf, flags(reduction, grey))) {
            if (m == null || m.empty()) {
                throw new DecodeException("decode", "corrupt or truncated jpeg: the decoder gave no picture");
            }
            int w = m.cols();
            int h = m.rows();
            int c = m.channels();
            if (w != DecodeTarget.ceilDiv(expectW, reduction) || h != DecodeTarget.ceilDiv(expectH, reduction)
                    || c != (grey ? 1 : 3) || m.depth() != opencv_core.CV_8U) {
                throw new DecodeException("decode", "jpeg decoded to " + w + "x" + h + "x" + c + ", not the "
                        + expectW + "x" + expectH + " its header gives at 1/" + reduction);
            }
            int plane = w * h;
            byte[] raw = new byte[plane * c];
            BytePointer px = m.data();
            if (m.isContinuous()) {
                px.get(raw, 0, raw.length);
            } else {
                long step = m.step();
                for (int y = 0; y < h; y++) {
                    px.position(y * step).get(raw, y * w * c, w * c);
                }
            }
            float[] out = new float[raw.length];
            if (c == 1) {
                for (int i = 0; i < plane; i++) {
                    out[i] = raw[i] & 0xff;
                }
            } else {
                // interleaved BGR to planar RGB
                for (int i = 0, j = 0; i < plane; i++, j += 3) {
                    out[i] = raw[j + 2] & 0xff;
                    out[plane + i] = raw[j + 1] & 0xff;
                    out[2 * plane + i] = raw[j] & 0xff;
                }
            }
            return new Pixels(w, h, c, out);
        } catch (DecodeException e) {
            throw e;
        } catch (RuntimeException e) {
            String msg = e.getMessage();
            throw new DecodeException("decode", "corrupt jpeg: " + e.getClass().getSimpleName()
                    + (msg == null ? "" : ": " + msg.strip()), e);
        }
    }
}
