package io.cnnlens.jobs.spark;

import io.cnnlens.jobs.features.FeaturesSchema;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one way cnnlens reads the tables it wrote: a Delta table at the version its output folder's
 * {@link TableLog} names (so a table is never read from a run that did not commit), a Delta table
 * without a log at its latest version, and a folder of plain Parquet files (an {@code export}, or
 * a table from before Delta) as Parquet (docs/tables.md).
 */
public final class TableReader {

    private TableReader() {
    }

    /** Where a table lies, and the version to read (empty: its latest; for plain Parquet, none). */
    public record Located(String path, boolean delta, Optional<Long> version) {
        public String describe() {
            return path + (delta ? " (Delta" + version.map(v -> " version " + v).orElse(", latest version") + ")" : " (Parquet)");
        }
    }

    /**
     * The features table at {@code dir} (the features job's {@code --out}, or its {@code features/}
     * folder), checked for the columns a job needs.
     */
    public static Dataset<Row> read(SparkSession spark, String dir, String... columns) {
        Located at = locate(spark, featuresPath(spark, dir))
                .orElseThrow(() -> new IllegalArgumentException("no features table at " + dir
                        + ": run 'cnnlens features --out " + dir + "' first"));
        Dataset<Row> df = load(spark, at);
        List<String> have = Arrays.asList(df.columns());
        for (String c : columns) {
            if (!have.contains(c)) {
                throw new IllegalArgumentException("the table at " + at.path() + " has no column '" + c
                        + "'; is it a features table (cnnlens features)?");
            }
        }
        return df;
    }

    /** The committed table {@code name} of the output folder {@code out}, or empty when it has none. */
    public static Optional<Dataset<Row>> table(SparkSession spark, String out, String name) {
        return locate(spark, new Path(out, name).toString()).map(at -> load(spark, at));
    }

    /** The table at {@code path} (a table folder), read as {@link #locate} finds it. */
    public static Dataset<Row> open(SparkSession spark, String path) {
        return load(spark, require(spark, path));
    }

    /** As {@link #locate}, failing with what is at {@code path} instead (an output folder: its tables). */
    public static Located require(SparkSession spark, String path) {
        return locate(spark, path).orElseThrow(() -> new IllegalArgumentException(notATable(spark, path)));
    }

    /**
     * How to read the table folder {@code path}: a Delta table (at the version named by the log of
     * the folder above it, if that folder has one), plain Parquet, or empty when there is nothing there.
     */
    public static Optional<Located> locate(SparkSession spark, String path) {
        Path p = new Path(path);
        FileSystem fs = fs(spark, p);
        try {
            if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
                return Optional.empty();
            }
            if (fs.exists(new Path(p, "_delta_log"))) {
                Path parent = p.getParent();
                if (parent != null && TableLog.present(spark, parent.toString())) {
                    Map<String, Long> current = new TableLog(spark, parent.toString()).current();
                    Long v = current.get(p.getName());
                    if (v == null) {
                        // written by a run that never committed: not a table of this folder yet
                        return Optional.empty();
                    }
                    return Optional.of(new Located(p.toString(), true, Optional.of(v)));
                }
                return Optional.of(new Located(p.toString(), true, Optional.empty()));
            }
            if (fs.exists(new Path(p, TableLog.NAME))) {
                return Optional.empty(); // an output folder, not a table
            }
            return Optional.of(new Located(p.toString(), false, Optional.empty()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The committed tables of the output folder {@code out} and their versions. */
    public static Map<String, Long> tables(SparkSession spark, String out) {
        return new TableLog(spark, out).current();
    }

    public static Dataset<Row> load(SparkSession spark, Located at) {
        if (!at.delta()) {
            return spark.read().parquet(at.path());
        }
        var reader = spark.read().format("delta");
        if (at.version().isPresent()) {
            reader = reader.option("versionAsOf", at.version().get());
        }
        return reader.load(at.path());
    }

    /**
     * How many of the data files a loaded snapshot's scan needs are gone: 0 when it can be read. A
     * version older than the tables' retention may have been vacuumed (docs/tables.md, "Data
     * files"); its log still names the files, so time travel to it loads, and only a scan would fail.
     * Reads the file list from the table's log and lists each folder that holds them once.
     */
    public static long missingFiles(SparkSession spark, Dataset<Row> snapshot) {
        Map<Path, Set<String>> byFolder = new LinkedHashMap<>();
        for (String f : snapshot.inputFiles()) {
            Path p = new Path(java.net.URI.create(f));
            byFolder.computeIfAbsent(p.getParent(), x -> new HashSet<>()).add(p.getName());
        }
        long missing = 0;
        for (Map.Entry<Path, Set<String>> e : byFolder.entrySet()) {
            Set<String> present = new HashSet<>();
            try {
                for (FileStatus st : fs(spark, e.getKey()).listStatus(e.getKey())) {
                    present.add(st.getPath().getName());
                }
            } catch (java.io.FileNotFoundException gone) {
                // the whole folder is gone: every file in it is missing
            } catch (IOException io) {
                throw new UncheckedIOException("cannot list " + e.getKey() + ": " + io.getMessage(), io);
            }
            missing += e.getValue().stream().filter(n -> !present.contains(n)).count();
        }
        return missing;
    }

    /**
     * Why version {@code version} of the Delta table at {@code path} cannot be read, or empty when
     * it can: its log entry is gone (Delta's log retention) or {@link #missingFiles} finds data files
     * a vacuum removed. Reads the log and lists the table's folders; no data is read.
     */
    public static Optional<String> unreadable(SparkSession spark, String path, long version) {
        Dataset<Row> at;
        try {
            at = load(spark, new Located(path, true, Optional.of(version)));
            at.inputFiles();
        } catch (Exception e) { // Delta's errors for a version the log no longer has are checked exceptions to Java
            return Optional.of("version " + version + " of " + path + " cannot be loaded: " + e.getMessage());
        }
        long gone = missingFiles(spark, at);
        return gone == 0 ? Optional.empty() : Optional.of(String.format(java.util.Locale.ROOT,
                "version %d of %s was vacuumed: %d of its data files are gone", version, path, gone));
    }

    private static String featuresPath(SparkSession spark, String dir) {
        Path p = new Path(dir);
        try {
            Path nested = new Path(p, FeaturesSchema.FEATURES);
            FileSystem fs = fs(spark, p);
            return fs.exists(nested) && fs.getFileStatus(nested).isDirectory() ? nested.toString() : p.toString();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String notATable(SparkSession spark, String path) {
        if (TableLog.present(spark, path)) {
            return path + " is an output folder; name one of its tables: " + String.join(", ", tables(spark, path).keySet());
        }
        return "no committed table at " + path;
    }

    private static FileSystem fs(SparkSession spark, Path p) {
        try {
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }
}
