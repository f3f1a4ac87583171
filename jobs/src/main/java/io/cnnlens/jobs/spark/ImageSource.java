package io.cnnlens.jobs.spark;

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
    public record Options(Format format, String imageColumn, String pathColumn, String labelColumn) implements java.io.Serializable {
        public static Options defaults() {
            return new Options(Format.AUTO, "content", "path", "label");
        }
    }

    private ImageSource() {
    }

    /**
     * The inputs, their number, their total size in bytes, and how to spread them over a number
     * of partitions (0 = as listed).
     */
    public record Inputs(long count, long bytes, java.util.function.IntFunction<Dataset<Row>> partitioned) {

        /**
         * Enough partitions to give every core a task, and more only when the image bytes would
         * otherwise exceed {@code maxPartitionBytes} per partition (Spark's
         * {@code spark.sql.files.maxPartitionBytes}, as its file sources split): no more tasks
         * than the data needs, since each one costs a model context, a Parquet file and a tail
         * where cores wait for the last task.
         */
        public int partitions(int parallelism, long maxPartitionBytes) {
            long byBytes = (bytes + maxPartitionBytes - 1) / Math.max(1, maxPartitionBytes);
            return (int) Math.max(1, Math.min(count, Math.max(parallelism, Math.min(byBytes, Integer.MAX_VALUE))));
        }
    }

    public static Inputs read(SparkSession spark, String images, Options o) {
        Format f = o.format();
        if (f == Format.AUTO) {
            f = images.toLowerCase(Locale.ROOT).replaceAll("/+$", "").endsWith(".parquet") ? Format.PARQUET : Format.FILES;
        }
        if (f == Format.PARQUET) {
            Dataset<Row> t = parquet(spark, images, o);
            Row size = t.agg(org.apache.spark.sql.functions.count(lit(1)),
                    org.apache.spark.sql.functions.coalesce(org.apache.spark.sql.functions.sum(col("length")), lit(0L))).first();
            return new Inputs(size.getLong(0), size.getLong(1), n -> n > 0 ? t.repartition(n) : t);
        }
        return files(spark, images);
    }

    private static final org.apache.spark.sql.types.StructType FILE_ROWS = new org.apache.spark.sql.types.StructType()
            .add("path", DataTypes.StringType, false)
            .add("label", DataTypes.StringType, true)
            .add("length", DataTypes.LongType, false)
            .add("content", DataTypes.BinaryType, true)
            .add("key", DataTypes.StringType, false);

    /**
     * Lists files with the Hadoop file-system API (recursive; globs allowed). Spark's own file
     * sources are not used for listing because they silently drop zero-length files, which must
     * become error rows. Hidden files and folders (names starting with '.' or '_', as Spark skips
     * them) are not inputs.
     */
    private static Inputs files(SparkSession spark, String images) {
        Path pattern = new Path(images);
        List<Row> rows = new ArrayList<>();
        long[] bytes = {0};
        try {
            FileSystem fs = pattern.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus[] roots = fs.globStatus(pattern);
            if (roots == null || roots.length == 0) {
                throw new IllegalArgumentException("input does not exist: " + images);
            }
            for (FileStatus root : roots) {
                Path rootPath = root.getPath();
                if (root.isFile()) {
                    rows.add(RowFactory.create(rootPath.toString(), null, root.getLen(), null, rootPath.getName()));
                    bytes[0] += root.getLen();
                    continue;
                }
                walk(fs, rootPath, f -> {
                    if (!hidden(rootPath, f.getPath())) {
                        Path parent = f.getPath().getParent();
                        String label = parent.equals(rootPath) ? null : parent.getName();
                        rows.add(RowFactory.create(f.getPath().toString(), label, f.getLen(), null,
                                relative(rootPath, f.getPath())));
                        bytes[0] += f.getLen();
                    }
                });
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot list " + images + ": " + e.getMessage(), e);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return new Inputs(rows.size(), bytes[0], n -> {
            int slices = Math.max(1, Math.min(n > 0 ? n : jsc.defaultParallelism(), rows.size()));
            return spark.createDataFrame(jsc.parallelize(dealt(rows, slices), slices), FILE_ROWS);
        });
    }

    /**
     * The rows reordered so that Spark's contiguous slices deal them out like cards: slice k gets
     * rows k, k + slices, k + 2·slices… of the listing. Every partition then holds a like share of
     * every folder, so a folder of large or slow images does not all land in one task while the
     * other cores wait for it.
     */
    public static List<Row> dealt(List<Row> rows, int slices) {
        List<Row> out = new ArrayList<>(rows.size());
        for (int k = 0; k < slices; k++) {
            for (int i = k; i < rows.size(); i += slices) {
                out.add(rows.get(i));
            }
        }
        return out;
    }

    /**
     * Every file below {@code root}. Object stores (s3a:, gs:, ...) get one flat recursive
     * listing, HDFS a walk of plain listings, local folders a java.nio walk: Hadoop's local file
     * system asks for each file's permissions with a process per file in a recursive listing
     * (28 s for 10,000 files here).
     */
    private static void walk(FileSystem fs, Path root, java.util.function.Consumer<FileStatus> out)
            throws java.io.IOException {
        String scheme = fs.getUri().getScheme();
        if ("file".equals(scheme)) {
            // one stat per file: the walk hands each file's attributes to the visitor
            java.nio.file.Files.walkFileTree(java.nio.file.Path.of(root.toUri()), new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(java.nio.file.Path f, java.nio.file.attribute.BasicFileAttributes a) {
                    if (a.isRegularFile()) {
                        out.accept(new FileStatus(a.size(), false, 1, 0, a.lastModifiedTime().toMillis(), new Path(f.toUri())));
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
            return;
        }
        if (!"hdfs".equals(scheme)) {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            while (it.hasNext()) {
                out.accept(it.next());
            }
            return;
        }
        java.util.ArrayDeque<Path> dirs = new java.util.ArrayDeque<>();
        dirs.push(root);
        while (!dirs.isEmpty()) {
            RemoteIterator<FileStatus> it = fs.listStatusIterator(dirs.pop());
            while (it.hasNext()) {
                FileStatus st = it.next();
                if (st.isDirectory()) {
                    dirs.push(st.getPath());
                } else {
                    out.accept(st);
                }
            }
        }
    }

    /** The path of {@code file} below {@code root}, e.g. {@code sandal/test-00012.png}. */
    public static String relative(Path root, Path file) {
        StringBuilder b = new StringBuilder(file.getName());
        for (Path p = file.getParent(); p != null && !p.equals(root); p = p.getParent()) {
            b.insert(0, '/').insert(0, p.getName());
        }
        return b.toString();
    }

    /**
     * A fixed sample of {@code n} inputs: the first by a hash of each input's path below the input
     * root (its {@code key}), so the same collection gives the same sample wherever it is stored
     * or checked out.
     */
    public static Dataset<Row> sample(Dataset<Row> inputs, int n) {
        return inputs.orderBy(org.apache.spark.sql.functions.hash(col("key")), col("key"), col("path")).limit(n);
    }

    /** 0 or 1 for each input, by the same hash as {@link #sample}: a fixed split in two halves. */
    public static Column half() {
        return org.apache.spark.sql.functions.pmod(org.apache.spark.sql.functions.hash(col("key")), lit(2));
    }

    /** True when any path component below {@code root} starts with '.' or '_'. */
    public static boolean hidden(Path root, Path file) {
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
        // the sample key: the path when the table has one, else the content's hash, so that a
        // table without paths gives the same sample however its files are split into partitions
        Column key = columns.contains(o.pathColumn()) ? path : org.apache.spark.sql.functions.sha2(content, 256);
        return t.select(path.as("path"), label.as("label"),
                org.apache.spark.sql.functions.length(content).cast(DataTypes.LongType).as("length"),
                content.as("content"), key.as("key"));
    }

}
