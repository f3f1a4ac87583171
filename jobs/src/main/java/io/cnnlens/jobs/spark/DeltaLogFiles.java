package io.cnnlens.jobs.spark;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * What the file names of a Delta table's {@code _delta_log} folder say, from one listing and
 * without reading a file or starting a Spark job: the latest version, the time and length of its
 * commit file, and the time of the oldest commit file kept. {@link TableCommitter},
 * {@link TableLog} and {@link TableVacuum} use it as a cheap first check and run a Delta query
 * only when it says something changed or is due (docs/tables.md).
 */
record DeltaLogFiles(long latestVersion, long latestCommitMillis, long latestCommitBytes, long oldestCommitMillis) {

    /** A Delta commit file: the version, zero-padded to 20 digits, then {@code .json}. */
    private static final Pattern COMMIT = Pattern.compile("\\d{20}\\.json");

    /** The listing of {@code table}'s log; version -1 (and no time) when the table has no commit. */
    static DeltaLogFiles of(FileSystem fs, Path table) {
        long latest = -1;
        long latestMillis = 0;
        long latestBytes = 0;
        long oldest = Long.MAX_VALUE;
        try {
            for (FileStatus f : fs.listStatus(new Path(table, "_delta_log"))) {
                String name = f.getPath().getName();
                if (f.isFile() && COMMIT.matcher(name).matches()) {
                    long version = Long.parseLong(name.substring(0, 20));
                    if (version > latest) {
                        latest = version;
                        latestMillis = f.getModificationTime();
                        latestBytes = f.getLen();
                    }
                    oldest = Math.min(oldest, f.getModificationTime());
                }
            }
        } catch (FileNotFoundException e) {
            return new DeltaLogFiles(-1, 0, 0, Long.MAX_VALUE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the Delta log of " + table + ": " + e.getMessage(), e);
        }
        return new DeltaLogFiles(latest, latestMillis, latestBytes, oldest);
    }
}
