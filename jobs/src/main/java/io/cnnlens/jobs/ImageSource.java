package io.cnnlens.jobs;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

/**
 * The images a job reads, as rows of (path, label, length, content):
 * <ul>
 *   <li>a folder tree or any Hadoop-FS URI ({@code file:}, {@code hdfs:}, {@code s3a:}), listed
 *       recursively; only paths and sizes are listed here, the bytes are read on the executors
 *       (content is null). Every file is an input: a file that
 *       is not an image becomes an error row, so counts reconcile. The label is the name of the
 *       file's folder when that folder is below the input root (class folders), else null;</li>
 *   <li>a Parquet table with an image-bytes column (and optional path and label columns).</li>
 * </ul>
 */
public final class ImageSource {

    public enum Format { AUTO, FILES, PARQUET }

    /** How to read the input; {@link #defaults()} is what the CLI uses without options. */
    public record Options(Format format, String imageColumn, String pathColumn, String labelColumn) {
        public static Options defaults() {
            return new Options(Format.AUTO, "content", "path", "label");
        }
    }

    private ImageSource() {
    }

    static Dataset<Row> read(SparkSession spark, String images, Options o) {
        Format f = o.format();
        if (f == Format.AUTO) {
            f = images.toLowerCase(Locale.ROOT).replaceAll("/+$", "").endsWith(".parquet") ? Format.PARQUET : Format.FILES;
        }
        return f == Format.PARQUET ? parquet(spark, images, o) : files(spark, images);
    }

    private static final org.apache.spark.sql.types.StructType FILE_ROWS = new org.apache.spark.sql.types.StructType()
            .add("path", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("length", DataTypes.LongType, false)
            .add("content", DataTypes.BinaryType, true);

    /**
     * Lists files with the Hadoop file-system API (recursive; globs allowed). Spark's own file
     * sources are not used for listing because they silently drop zero-length files, which must
     * become error rows. Hidden files and folders (names starting with '.' or '_', as Spark skips
     * them) are not inputs.
     */
    private static Dataset<Row> files(SparkSession spark, String images) {
        Path pattern = new Path(images);
        List<Row> rows = new ArrayList<>();
        try {
            FileSystem fs = pattern.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus[] roots = fs.globStatus(pattern);
            if (roots == null || roots.length == 0) {
                throw new IllegalArgumentException("input does not exist: " + images);
            }
            for (FileStatus root : roots) {
                Path rootPath = root.getPath();
                if (root.isFile()) {
                    rows.add(RowFactory.create(rootPath.toString(), null, root.getLen(), null));
                    continue;
                }
                RemoteIterator<LocatedFileStatus> it = fs.listFiles(rootPath, true);
                while (it.hasNext()) {
                    LocatedFileStatus f = it.next();
                    if (hidden(rootPath, f.getPath())) {
                        continue;
                    }
                    Path parent = f.getPath().getParent();
                    String label = parent.equals(rootPath) ? null : parent.getName();
                    rows.add(RowFactory.create(f.getPath().toString(), label, f.getLen(), null));
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot list " + images + ": " + e.getMessage(), e);
        }
        int slices = Math.max(1, Math.min(spark.sparkContext().defaultParallelism(), rows.size()));
        return spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, slices), FILE_ROWS);
    }

    /** True when any path component below {@code root} starts with '.' or '_'. */
    static boolean hidden(Path root, Path file) {
        for (Path p = file; p != null && !p.equals(root); p = p.getParent()) {
            String n = p.getName();
            if (n.startsWith(".") || n.startsWith("_")) {
                return true;
            }
        }
        return false;
    }

    private static Dataset<Row> parquet(SparkSession spark, String images, Options o) {
        Dataset<Row> t = spark.read().parquet(images);
        java.util.List<String> columns = Arrays.asList(t.columns());
        if (!columns.contains(o.imageColumn())) {
            throw new IllegalArgumentException("Parquet input " + images + " has no image column '" + o.imageColumn()
                    + "' (columns: " + columns + "); choose one with --image-column");
        }
        if (!t.schema().apply(o.imageColumn()).dataType().equals(DataTypes.BinaryType)) {
            throw new IllegalArgumentException("column '" + o.imageColumn() + "' is "
                    + t.schema().apply(o.imageColumn()).dataType().simpleString() + ", not binary");
        }
        Column path = columns.contains(o.pathColumn())
                ? col(o.pathColumn()).cast(DataTypes.StringType)
                : concat(input_file_name(), lit("#"), monotonically_increasing_id().cast(DataTypes.StringType));
        Column label = columns.contains(o.labelColumn())
                ? col(o.labelColumn()).cast(DataTypes.StringType)
                : lit(null).cast(DataTypes.StringType);
        Column content = col(o.imageColumn());
        return t.select(path.as("path"), label.as("label"),
                org.apache.spark.sql.functions.length(content).cast(DataTypes.LongType).as("length"),
                content.as("content"));
    }

}
