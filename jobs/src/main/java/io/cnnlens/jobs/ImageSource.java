package io.cnnlens.jobs;

import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

import java.util.Arrays;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.when;

/**
 * The images a job reads, as rows of (path, label, length, content):
 * <ul>
 *   <li>a folder tree or any Hadoop-FS URI ({@code file:}, {@code hdfs:}, {@code s3a:}), listed
 *       recursively with Spark's {@code binaryFile} source; only paths and sizes are listed here,
 *       the bytes are read on the executors (content is null). Every file is an input: a file that
 *       is not an image becomes an error row, so counts reconcile. The label is the name of the
 *       file's folder when that folder is below the input root (class folders), else null;</li>
 *   <li>a Parquet table with an image-bytes column (and optional path and label columns).</li>
 * </ul>
 */
final class ImageSource {

    enum Format { AUTO, FILES, PARQUET }

    record Options(Format format, String imageColumn, String pathColumn, String labelColumn) {
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

    private static Dataset<Row> files(SparkSession spark, String images) {
        Path root = new Path(images);
        String rootQualified;
        try {
            rootQualified = root.getFileSystem(spark.sparkContext().hadoopConfiguration()).makeQualified(root).toString();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot open " + images + ": " + e.getMessage(), e);
        }
        Dataset<Row> listed = spark.read().format("binaryFile")
                .option("recursiveFileLookup", "true")
                .load(images)
                .select(col("path"), col("length"));
        // parent folder = path without its last segment; label = its name when it is not the root
        Column segments = split(col("path"), "/");
        Column parentName = element_at(segments, -2);
        Column parent = org.apache.spark.sql.functions.regexp_replace(col("path"), "/[^/]*$", "");
        Column label = when(parent.equalTo(lit(stripSlash(rootQualified))), lit(null).cast(DataTypes.StringType))
                .otherwise(parentName);
        return listed.select(col("path"), label.as("label"), col("length"),
                lit(null).cast(DataTypes.BinaryType).as("content"));
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

    private static String stripSlash(String s) {
        return s.endsWith("/") && s.length() > 1 ? s.substring(0, s.length() - 1) : s;
    }
}
