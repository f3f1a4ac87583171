package io.cnnlens.jobs.spark;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.cnnlens.features.ErrorRow;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Where a task puts the error rows of its partition while the same pass writes the feature rows,
 * so the job needs neither a second pass nor a cache of every row: one JSON-lines file per
 * partition that had errors, {@code part-<partition>.json} under a staging folder, which the
 * driver then turns into the errors table. A task attempt writes a hidden temporary file and
 * renames it into place only after its partition's last row, so a failed attempt leaves no part
 * file, and a retried or speculative attempt writes the same rows again (partitions are
 * deterministic) under the same name.
 */
public final class ErrorStash {

    private static final JsonFactory JSON = new JsonFactory();

    private ErrorStash() {
    }

    /** One task attempt's stash file, opened at its first error row. */
    public static final class Writer implements AutoCloseable {
        private final Path dir;
        private final Configuration conf;
        private final int partition;
        private final long attempt;
        private FileSystem fs;
        private Path temp;
        private FSDataOutputStream stream;
        private JsonGenerator json;

        public Writer(String dir, Configuration conf, int partition, long attempt) {
            this.dir = new Path(dir);
            this.conf = conf;
            this.partition = partition;
            this.attempt = attempt;
        }

        public void add(ErrorRow e) {
            try {
                if (json == null) {
                    fs = dir.getFileSystem(conf);
                    temp = new Path(dir, String.format(Locale.ROOT, ".part-%05d-%d.json.tmp", partition, attempt));
                    stream = fs.create(temp, true);
                    json = JSON.createGenerator(new java.io.OutputStreamWriter(stream, StandardCharsets.UTF_8));
                    json.setRootValueSeparator(new com.fasterxml.jackson.core.io.SerializedString("\n"));
                }
                json.writeStartObject();
                json.writeStringField("path", e.path());
                json.writeStringField("stage", e.stage());
                json.writeStringField("reason", e.reason());
                json.writeEndObject();
            } catch (IOException x) {
                throw new UncheckedIOException("cannot stash error rows in " + dir + ": " + x.getMessage(), x);
            }
        }

        /** After the partition's last row: moves the file into place (nothing to do without errors). */
        public void publish() {
            if (json == null) {
                return;
            }
            try {
                json.writeRaw('\n');
                json.close();
                json = null;
                Path target = new Path(dir, String.format(Locale.ROOT, "part-%05d.json", partition));
                fs.delete(target, false); // an earlier attempt's identical file
                if (!fs.rename(temp, target)) {
                    throw new IOException("rename of " + temp + " failed");
                }
            } catch (IOException x) {
                throw new UncheckedIOException("cannot stash error rows in " + dir + ": " + x.getMessage(), x);
            }
        }

        /** Drops an unpublished temporary file (the task failed or was killed). */
        @Override
        public void close() {
            if (json == null) {
                return;
            }
            try {
                json.close();
                fs.delete(temp, false);
            } catch (IOException x) {
                // a leftover hidden file in the staging folder is removed with the folder
            }
        }
    }

    /** The stashed rows, or an empty table when no partition had errors. */
    public static Dataset<Row> read(SparkSession spark, String dir, StructType schema, Configuration conf) {
        try {
            Path p = new Path(dir);
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p) || fs.globStatus(new Path(p, "part-*.json")).length == 0) {
                return spark.createDataFrame(java.util.List.of(), schema);
            }
        } catch (IOException x) {
            throw new UncheckedIOException("cannot read stashed error rows in " + dir + ": " + x.getMessage(), x);
        }
        return spark.read().schema(schema).json(dir);
    }
}
