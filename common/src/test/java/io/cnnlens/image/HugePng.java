package io.cnnlens.image;

import java.nio.ByteBuffer;
import java.util.zip.CRC32;

/** A PNG that declares huge dimensions in a few dozen bytes (an over-size input). */
public final class HugePng {

    private HugePng() {
    }

    public static byte[] header(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        b.putInt(13);
        int start = b.position();
        b.put(new byte[] {'I', 'H', 'D', 'R'});
        b.putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), start, 17);
        b.putInt((int) crc.getValue());
        b.putInt(0);
        start = b.position();
        b.put(new byte[] {'I', 'E', 'N', 'D'});
        crc.reset();
        crc.update(b.array(), start, 4);
        b.putInt((int) crc.getValue());
        return b.array();
    }
}
