package io.cnnlens.jobs.spark;

import io.cnnlens.image.DecodeException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;

/**
 * One input as {@link ImageSource} lists it: path, label (null outside class folders), listed
 * length (−1 if unknown), the bytes when the input table carries them, and the reason the
 * listing found it unreadable (null for an ordinary file): a special file, a dangling link, a
 * link loop, a folder that cannot be listed, a name that is not UTF-8. Such an input is never
 * opened; {@link #bytes} turns it into an error of stage {@code list}.
 */
public record InputRow(String path, String label, long length, byte[] content, String listError) {

    /** Column index of {@code list_error} in {@link ImageSource}'s rows (path, label, length, content, key, list_error). */
    static final int LIST_ERROR = 5;

    public static InputRow of(Row r) {
        String listError = r.size() > LIST_ERROR && !r.isNullAt(LIST_ERROR) ? r.getString(LIST_ERROR) : null;
        return new InputRow(r.getString(0), r.isNullAt(1) ? null : r.getString(1), r.isNullAt(2) ? -1 : r.getLong(2),
                r.isNullAt(3) ? null : (byte[]) r.get(3), listError);
    }

    /** The file's bytes, refused unread over {@code maxBytes}, or a {@code list} error for an input the listing refused. */
    public byte[] bytes(long maxBytes, Configuration conf) throws DecodeException {
        if (listError != null) {
            throw new DecodeException(ImageSource.LIST_STAGE, listError);
        }
        return ImageBytes.read(path, length, content, maxBytes, conf);
    }
}
