package io.cnnlens.jobs.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.UUID;

/**
 * Writes a job's tables aside and swaps them in only when all of them are written, so a failed
 * run leaves the previous tables untouched and a repeated run replaces them instead of adding to
 * them. Tables are written under {@code <out>/_staging/<run>/<table>}; the commit moves each
 * previous table to {@code <out>/_trash/<run>/} and the new one into place (directory renames:
 * atomic on HDFS and local file systems), then deletes the old copies.
 */
public final class TableCommitter implements AutoCloseable {

    private final Path out;
    private final FileSystem fs;
    private final String run = UUID.randomUUID().toString();

    public TableCommitter(String out, Configuration conf) {
        try {
            this.out = new Path(out);
            this.fs = this.out.getFileSystem(conf);
            this.fs.mkdirs(this.out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + out + ": " + e.getMessage(), e);
        }
    }

    /** Where to write {@code table} before the commit. */
    public String staging(String table) {
        return new Path(new Path(new Path(out, "_staging"), run), table).toString();
    }

    public String finalPath(String table) {
        return new Path(out, table).toString();
    }

    public void commit(List<String> tables) {
        try {
            Path trash = new Path(new Path(out, "_trash"), run);
            for (String table : tables) {
                if (!fs.exists(new Path(staging(table)))) {
                    throw new IOException("table " + table + " was not written");
                }
            }
            for (String table : tables) {
                Path target = new Path(out, table);
                if (fs.exists(target)) {
                    Path aside = new Path(trash, table);
                    fs.mkdirs(aside.getParent());
                    if (!fs.rename(target, aside)) {
                        throw new IOException("cannot move old " + target + " aside");
                    }
                }
                fs.mkdirs(target.getParent());
                if (!fs.rename(new Path(staging(table)), target)) {
                    throw new IOException("cannot move new " + table + " into " + target);
                }
            }
            fs.delete(trash, true);
            deleteIfEmpty(new Path(out, "_trash"));
        } catch (IOException e) {
            throw new UncheckedIOException("commit of " + tables + " into " + out + " failed: " + e.getMessage(), e);
        }
    }

    /** Removes this run's staging folder (after a commit, or after a failure). */
    @Override
    public void close() {
        try {
            fs.delete(new Path(new Path(out, "_staging"), run), true);
            deleteIfEmpty(new Path(out, "_staging"));
        } catch (IOException e) {
            // leftover staging files do not affect committed tables
        }
    }

    /** Writes one file (e.g. a PNG picture) under the staging folder of {@code table}. */
    public void writeFile(String table, String name, byte[] bytes) {
        Path p = new Path(staging(table), name);
        // pictures are for people: no Hadoop .crc side files next to them on a local disk
        FileSystem target = fs instanceof org.apache.hadoop.fs.LocalFileSystem local ? local.getRaw() : fs;
        try (org.apache.hadoop.fs.FSDataOutputStream o = target.create(p, true)) {
            o.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    private void deleteIfEmpty(Path dir) throws IOException {
        if (fs.exists(dir) && fs.listStatus(dir).length == 0) {
            fs.delete(dir, false);
        }
    }
}
