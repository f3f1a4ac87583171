package io.cnnlens.image;

/**
 * What a JPEG's marker segments say before any pixel is decoded: the frame (SOF) type, sample
 * precision, size and component count, and whether the file reaches its end-of-image marker.
 * libjpeg (inside OpenCV) only warns on a truncated file and pads it with grey; this is how the
 * native path still refuses one. Marker layout per ITU T.81 annex B.
 */
record JpegHeader(int sof, int precision, int width, int height, int components, boolean complete) {

    private static final int SOI = 0xD8;
    private static final int EOI = 0xD9;
    private static final int SOS = 0xDA;

    /** Whether bytes start with the JPEG start-of-image marker. */
    static boolean isJpeg(byte[] b) {
        return b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == SOI && (b[2] & 0xff) == 0xFF;
    }

    /** Baseline, extended sequential or progressive Huffman-coded 8-bit frames: what the native decoder takes. */
    boolean nativelyDecodable() {
        return (sof == 0xC0 || sof == 0xC1 || sof == 0xC2) && precision == 8 && (components == 1 || components == 3);
    }

    /**
     * Reads the marker segments up to the first scan. Throws when they are damaged or cut off, or
     * there is no frame header before the first scan.
     */
    static JpegHeader read(byte[] b) throws DecodeException {
        if (!isJpeg(b)) {
            throw new DecodeException("decode", "not a JPEG (no start-of-image marker)");
        }
        int n = b.length;
        int i = 2;
        int sof = -1;
        int precision = 0;
        int width = 0;
        int height = 0;
        int components = 0;
        while (true) {
            int m = nextMarker(b, i);
            if (m < 0) {
                throw truncated("in the headers");
            }
            int marker = b[m] & 0xff;
            i = m + 1;
            if (marker == EOI) {
                throw new DecodeException("decode", "corrupt JPEG: end of image before any scan");
            }
            if (standalone(marker)) {
                continue;
            }
            if (i + 2 > n) {
                throw truncated("in the headers");
            }
            int len = u16(b, i);
            if (len < 2) {
                throw new DecodeException("decode", "corrupt JPEG: marker segment length " + len);
            }
            if (i + len > n) {
                throw truncated("in the headers");
            }
            if (isSof(marker) && sof < 0) {
                if (len < 8) {
                    throw new DecodeException("decode", "corrupt JPEG: short frame header");
                }
                sof = marker;
                precision = b[i + 2] & 0xff;
                height = u16(b, i + 3);
                width = u16(b, i + 5);
                components = b[i + 7] & 0xff;
            }
            i += len;
            if (marker == SOS) {
                break;
            }
        }
        if (sof < 0) {
            throw new DecodeException("decode", "corrupt JPEG: no frame header before the first scan");
        }
        return new JpegHeader(sof, precision, width, height, components, reachesEnd(b, i));
    }

    /**
     * Whether the data from {@code i} (just past a scan header) reaches an end-of-image marker:
     * at once when the file ends with one, else by walking the entropy-coded data and any later
     * segments (a progressive file's further scans; data appended after the image, e.g. a
     * phone's motion-photo video, is allowed, as libjpeg stops at the marker).
     */
    private static boolean reachesEnd(byte[] b, int i) {
        int n = b.length;
        if ((b[n - 2] & 0xff) == 0xFF && (b[n - 1] & 0xff) == EOI) {
            return true;
        }
        while (i < n - 1) {
            // entropy-coded data: 0xFF is followed by 0x00 (stuffing) or a restart marker
            int f = i;
            while (f < n - 1) {
                if ((b[f] & 0xff) == 0xFF) {
                    int next = b[f + 1] & 0xff;
                    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
                        f += next == 0xFF ? 1 : 2;
                        continue;
                    }
                    break;
                }
                f++;
            }
            if (f >= n - 1) {
                return false;
            }
            int marker = b[f + 1] & 0xff;
            if (marker == EOI) {
                return true;
            }
            i = f + 2;
            if (standalone(marker)) {
                continue;
            }
            if (i + 2 > n) {
                return false;
            }
            i += u16(b, i);
        }
        return false;
    }

    /** The offset of the next marker's code byte at or after {@code i} (fill bytes 0xFF skipped), or -1 at the end. */
    private static int nextMarker(byte[] b, int i) throws DecodeException {
        int n = b.length;
        if (i >= n) {
            return -1;
        }
        if ((b[i] & 0xff) != 0xFF) {
            throw new DecodeException("decode", "corrupt JPEG: no marker at offset " + i);
        }
        while (i < n && (b[i] & 0xff) == 0xFF) {
            i++;
        }
        return i < n ? i : -1;
    }

    private static boolean standalone(int marker) {
        return marker == 0x01 || marker == SOI || (marker >= 0xD0 && marker <= 0xD7);
    }

    private static boolean isSof(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }

    private static int u16(byte[] b, int i) {
        return (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
    }

    private static DecodeException truncated(String where) {
        return new DecodeException("decode", "corrupt or truncated jpeg: file ends " + where);
    }
}
