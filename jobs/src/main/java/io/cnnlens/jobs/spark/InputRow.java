package io.cnnlens.jobs.spark;

import io.cnnlens.image.DecodeException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;

/**
 * One input as {@link ImageSource} lists it: path, label (null outside class folders), listed
 * length (−1 if unknown) and the bytes when the input table carries them.
 */
public record InputRow(String path, String label, long length, byte[] content) {

    public static InputRow of(Row r) {
        return new InputRow(r.getString(0), r.isNullAt(1) ? null : r.getString(1), r.isNullAt(2) ? -1 : r.getLong(2),
                r.isNullAt(3) ? null : (byte[]) r.get(3));
    }

    /** The file's bytes, refused unread over {@code maxBytes}. */
    public byte[] bytes(long maxBytes, Configuration conf) throws DecodeException {
        return ImageBytes.read(path, length, content, maxBytes, conf);
    }
}
