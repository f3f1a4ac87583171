package io.cnnlens.jobs.spark;

import io.cnnlens.image.DecodeException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/** Reads one image file's bytes on an executor, refusing files over a byte limit unread. */
public final class ImageBytes {

    private ImageBytes() {
    }

    /**
     * @param length  the listed length, or −1 if unknown
     * @param content the bytes when the input table carries them, else null
     */
    public static byte[] read(String path, long length, byte[] content, long maxBytes, Configuration conf) throws DecodeException {
        if (content != null) {
            checkSize(content.length, maxBytes);
            return content;
        }
        checkSize(length, maxBytes);
        Path p = new Path(path);
        try {
            if ("file".equals(p.toUri().getScheme())) {
                // local files: plain NIO (Hadoop's local file system would also look for a .crc file)
                java.nio.file.Path local = localPath(p);
                // one stat (following links) before opening: a FIFO that replaced a listed file
                // would block the task forever, a device would never end
                java.nio.file.attribute.BasicFileAttributes a =
                        java.nio.file.Files.readAttributes(local, java.nio.file.attribute.BasicFileAttributes.class);
                if (!a.isRegularFile()) {
                    throw new DecodeException("read", "not a regular file (" + (a.isDirectory() ? "a folder" : "a special file")
                            + "); not opened");
                }
                checkSize(a.size(), maxBytes);
                return java.nio.file.Files.readAllBytes(local);
            }
            FileSystem fs = p.getFileSystem(conf);
            long len = length >= 0 ? length : fs.getFileStatus(p).getLen();
            checkSize(len, maxBytes);
            byte[] b = new byte[(int) len];
            try (FSDataInputStream in = fs.open(p)) {
                in.readFully(0, b);
            }
            return b;
        } catch (IOException e) {
            throw new DecodeException("read", "cannot read: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The local file of a {@code file:} path. Java 17 turns a file name into bytes with
     * {@code sun.jnu.encoding}, which comes from the locale (LANG / LC_ALL / LC_CTYPE) and cannot
     * be set with {@code -D}: under the C/POSIX locale no non-ASCII name can be opened, so say so.
     */
    static java.nio.file.Path localPath(Path p) throws DecodeException {
        try {
            return java.nio.file.Path.of(p.toUri());
        } catch (java.nio.file.InvalidPathException e) {
            throw new DecodeException("read", "cannot open a non-ASCII file name: this JVM's file-name encoding is "
                    + System.getProperty("sun.jnu.encoding") + " (from the locale); run driver and executors with"
                    + " LC_ALL=C.UTF-8 (bin/cnnlens and conf/spark-defaults-*.conf do)", e);
        }
    }

    private static void checkSize(long bytes, long maxBytes) throws DecodeException {
        if (bytes > maxBytes) {
            throw new DecodeException("too-large", "file is " + bytes + " bytes, over the limit of " + maxBytes);
        }
    }
}
