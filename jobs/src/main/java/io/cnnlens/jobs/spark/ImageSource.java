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
 * The images a job reads, as rows of (path, label, length, content, key, list_error):
 * <ul>
 *   <li>a folder tree or any Hadoop-FS URI ({@code file:}, {@code hdfs:}, {@code s3a:}), listed
 *       recursively; only paths and sizes are listed here, the bytes are read on the executors
 *       (content is null). Every file is an input: a file that is not an image becomes an error
 *       row, and so does everything else the listing meets that must not be opened (list_error
 *       set: stage {@code list}), so counts reconcile. The label is the name of the
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
         * Sized for recovery as well as speed: a lost executor or a failed task redoes only a
         * small share of the pass, and no task is the long tail. The count is the largest of
         * <ul>
         *   <li>one task per core ({@code parallelism});</li>
         *   <li>enough that no task gets over {@code maxPartitionBytes} of image bytes (Spark's
         *       {@code spark.sql.files.maxPartitionBytes}, as its file sources split);</li>
         *   <li>{@link #RECOVERY_SHARES}, so that no task holds more than 1/8 of the inputs, as
         *       long as each still gets {@link #MIN_INPUTS_PER_TASK} (one CPU batch);</li>
         *   <li>enough that no task gets over {@link #MAX_INPUTS_PER_TASK} inputs;</li>
         * </ul>
         * never more than there are inputs nor than {@link #MAX_PARTITIONS}. Per-task cost is a
         * model forward context, a Parquet file and an error-stash file (the model itself is loaded
         * once per executor JVM), measured at under 5% of a features pass at 1,000 inputs a task.
         * Row content does not depend on the count.
         */
        public int partitions(int parallelism, long maxPartitionBytes) {
            long byBytes = (bytes + maxPartitionBytes - 1) / Math.max(1, maxPartitionBytes);
            long byShare = Math.min(RECOVERY_SHARES, (count + MIN_INPUTS_PER_TASK - 1) / MIN_INPUTS_PER_TASK);
            long byCount = (count + MAX_INPUTS_PER_TASK - 1) / MAX_INPUTS_PER_TASK;
            long n = Math.max(Math.max(parallelism, byBytes), Math.max(byShare, byCount));
            return (int) Math.max(1, Math.min(count, Math.min(n, MAX_PARTITIONS)));
        }
    }

    /** No task holds more than 1/8 of the inputs (when each still gets {@link #MIN_INPUTS_PER_TASK}): losing one redoes ≤ 12.5%. */
    public static final int RECOVERY_SHARES = 8;

    /** Below one CPU batch (64) a task's fixed cost (forward context, output files) is not worth a finer split. */
    public static final int MIN_INPUTS_PER_TASK = 64;

    /**
     * At most 1,000 inputs a task: a retried task redoes about 1,000 images (a few seconds of one
     * core at CPU speed, under a second on a GPU), however large the collection.
     */
    public static final int MAX_INPUTS_PER_TASK = 1_000;

    /**
     * At most 10,000 tasks (10 M images at 1,000 a task): beyond that the driver's task bookkeeping
     * and the number of output files cost more than a smaller retry saves; tasks grow instead.
     */
    public static final int MAX_PARTITIONS = 10_000;

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
            .add("key", DataTypes.StringType, false)
            .add("list_error", DataTypes.StringType, true);

    /** The errors-table stage of an input the listing refused ({@link InputRow#listError()}). */
    public static final String LIST_STAGE = "list";

    /** One listed thing: a file to read, or (listError set) one that becomes an error row unread. */
    private record Listed(String path, String label, long length, String key, String listError) {
        Row row() {
            return RowFactory.create(path, label, length, null, key, listError);
        }
    }

    /**
     * Lists files with the Hadoop file-system API (recursive; globs allowed). Spark's own file
     * sources are not used for listing because they silently drop zero-length files, which must
     * become error rows. Hidden files and folders (names starting with '.' or '_', as Spark skips
     * them) are not inputs. Every other thing the listing meets is an input, so counts reconcile:
     * a regular file (also through a symbolic link) is read on the executors; a special file, a
     * dangling link, a link loop, a sub-folder that cannot be listed or a name that is not UTF-8
     * is a row with {@code list_error} set, which becomes an error row of stage {@code list}.
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
            java.util.function.Consumer<Listed> out = l -> {
                rows.add(l.row());
                if (l.listError() == null) {
                    bytes[0] += l.length();
                }
            };
            for (FileStatus root : roots) {
                Path rootPath = root.getPath();
                if ("file".equals(fs.getUri().getScheme())) {
                    LocalListing.walk(rootPath, out);
                } else if (root.isFile()) {
                    out.accept(new Listed(rootPath.toString(), null, root.getLen(), rootPath.getName(), null));
                } else {
                    walk(fs, rootPath, out);
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot list " + images + ": " + e.getClass().getSimpleName() + ": "
                    + e.getMessage(), e);
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

    /** An input below {@code root} listed by Hadoop: label from its folder, key its relative path. */
    private static Listed listed(Path root, Path file, long length, String listError) {
        Path parent = file.getParent();
        String label = listError != null || parent == null || parent.equals(root) ? null : parent.getName();
        return new Listed(file.toString(), label, length, relative(root, file), listError);
    }

    /**
     * Every file below {@code root} on a non-local file system: object stores (s3a:, gs:, ...) get
     * one flat recursive listing, HDFS a walk of plain listings in which a sub-folder that cannot
     * be listed (permissions) is an error row, and a symbolic link (HDFS has them only when
     * enabled) is resolved: a link to a file is that file, to a folder a folder walked once.
     */
    private static void walk(FileSystem fs, Path root, java.util.function.Consumer<Listed> out)
            throws java.io.IOException {
        String scheme = fs.getUri().getScheme();
        if (!"hdfs".equals(scheme)) {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            while (it.hasNext()) {
                LocatedFileStatus st = it.next();
                if (!hidden(root, st.getPath())) {
                    out.accept(listed(root, st.getPath(), st.getLen(), null));
                }
            }
            return;
        }
        java.util.Set<Path> walked = new java.util.HashSet<>();
        java.util.ArrayDeque<Path> dirs = new java.util.ArrayDeque<>();
        dirs.push(root);
        walked.add(fs.resolvePath(root));
        while (!dirs.isEmpty()) {
            Path dir = dirs.pop();
            RemoteIterator<FileStatus> it;
            try {
                it = fs.listStatusIterator(dir);
            } catch (java.io.IOException e) {
                if (dir.equals(root)) {
                    throw e;
                }
                out.accept(listed(root, dir, 0, "cannot list folder: " + reason(e)));
                continue;
            }
            while (it.hasNext()) {
                FileStatus st = it.next();
                if (hidden(root, st.getPath())) {
                    continue;
                }
                if (st.isSymlink()) {
                    try {
                        FileStatus target = fs.getFileStatus(st.getPath());
                        if (target.isDirectory() && !walked.add(fs.resolvePath(st.getPath()))) {
                            out.accept(listed(root, st.getPath(), 0, "symbolic link loop: the folder it leads to is already walked"));
                            continue;
                        }
                        st = new FileStatus(target.getLen(), target.isDirectory(), 1, 0, 0, st.getPath());
                    } catch (java.io.IOException e) {
                        out.accept(listed(root, st.getPath(), 0, "symbolic link whose target cannot be read: " + reason(e)));
                        continue;
                    }
                }
                if (st.isDirectory()) {
                    dirs.push(st.getPath());
                } else {
                    out.accept(listed(root, st.getPath(), st.getLen(), null));
                }
            }
        }
    }

    private static String reason(Exception e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /**
     * A local folder (or file) walked with {@code java.nio}: one stat per file, where Hadoop's
     * local file system asks for each file's permissions with a process per file in a recursive
     * listing (28 s for 10,000 files here), and reports neither special files nor link loops.
     * Symbolic links are followed, to files and to folders; a link back to a folder above it is
     * reported once as a loop instead of walked forever. Special files (FIFO, socket, device) are
     * never opened: opening a FIFO blocks until someone writes to it.
     *
     * <p>Paths are taken from the bytes of each name (via {@code Path.toUri()}, which
     * percent-escapes them) and decoded as UTF-8, whatever the JVM's locale: a name that is valid
     * UTF-8 becomes its text; one that is not cannot be opened by any path string, so it is an
     * error row whose path shows the bad bytes as {@code \xNN}.
     */
    static final class LocalListing {

        private LocalListing() {
        }

        static void walk(Path rootPath, java.util.function.Consumer<Listed> out) throws java.io.IOException {
            java.nio.file.Path start;
            try {
                start = java.nio.file.Path.of(rootPath.toUri());
            } catch (java.nio.file.InvalidPathException e) {
                throw new java.io.IOException("cannot name " + rootPath + " with this JVM's file-name encoding "
                        + System.getProperty("sun.jnu.encoding") + " (from the locale); run with LC_ALL=C.UTF-8", e);
            }
            Name rootName = Name.of(start);
            java.nio.file.Files.walkFileTree(start, java.util.EnumSet.of(java.nio.file.FileVisitOption.FOLLOW_LINKS),
                    Integer.MAX_VALUE, new java.nio.file.SimpleFileVisitor<>() {
                        @Override
                        public java.nio.file.FileVisitResult preVisitDirectory(java.nio.file.Path dir,
                                java.nio.file.attribute.BasicFileAttributes a) {
                            return !dir.equals(start) && hiddenName(dir) ? java.nio.file.FileVisitResult.SKIP_SUBTREE
                                    : java.nio.file.FileVisitResult.CONTINUE;
                        }

                        @Override
                        public java.nio.file.FileVisitResult visitFile(java.nio.file.Path f, java.nio.file.attribute.BasicFileAttributes a) {
                            if (!f.equals(start) && hiddenName(f)) {
                                return java.nio.file.FileVisitResult.CONTINUE;
                            }
                            if (a.isRegularFile()) {
                                out.accept(file(f, a.size(), null));
                            } else if (a.isSymbolicLink()) {
                                // the walk falls back to the link's own attributes when its target cannot be read
                                out.accept(file(f, 0, brokenLink(f)));
                            } else if (!a.isDirectory()) {
                                out.accept(file(f, 0, "not a regular file: " + special(f) + "; not opened"));
                            }
                            return java.nio.file.FileVisitResult.CONTINUE;
                        }

                        @Override
                        public java.nio.file.FileVisitResult visitFileFailed(java.nio.file.Path f, java.io.IOException e)
                                throws java.io.IOException {
                            if (f.equals(start)) {
                                throw e;
                            }
                            if (!hiddenName(f)) {
                                out.accept(file(f, 0, e instanceof java.nio.file.FileSystemLoopException
                                        ? "symbolic link loop: it leads back to the folder " + realPath(f) + " above it; not walked again"
                                        : "cannot list: " + reason(e)));
                            }
                            return java.nio.file.FileVisitResult.CONTINUE;
                        }

                        @Override
                        public java.nio.file.FileVisitResult postVisitDirectory(java.nio.file.Path dir, java.io.IOException e)
                                throws java.io.IOException {
                            if (e != null) {
                                if (dir.equals(start)) {
                                    throw e;
                                }
                                out.accept(file(dir, 0, "folder listing stopped part-way: " + reason(e)));
                            }
                            return java.nio.file.FileVisitResult.CONTINUE;
                        }

                        private Listed file(java.nio.file.Path f, long length, String listError) {
                            Name n = Name.of(f);
                            // the key: the path below the root (a file given as the root: its name)
                            String rel = f.equals(start) ? n.last()
                                    : n.text().substring(rootName.text().length() + (rootName.text().endsWith("/") ? 0 : 1));
                            String path = "file:" + n.text();
                            if (!n.utf8()) {
                                return new Listed(path, null, 0, rel, "file name is not valid UTF-8 (the bytes shown as \\xNN);"
                                        + " no path string can open it, rename the file"
                                        + (listError == null ? "" : "; also: " + listError));
                            }
                            int slash = rel.lastIndexOf('/');
                            String label = listError != null || slash < 0 ? null
                                    : rel.substring(rel.lastIndexOf('/', slash - 1) + 1, slash);
                            return new Listed(new Path(path).toString(), label, length, rel, listError);
                        }
                    });
        }

        /** True when the last component of {@code p} starts with '.' or '_' (folders above it were skipped). */
        private static boolean hiddenName(java.nio.file.Path p) {
            String n = Name.of(p).last();
            return n.startsWith(".") || n.startsWith("_");
        }

        private static String brokenLink(java.nio.file.Path f) {
            String target;
            try {
                target = Name.of(java.nio.file.Files.readSymbolicLink(f)).text();
            } catch (java.io.IOException | RuntimeException e) {
                target = "?";
            }
            try {
                java.nio.file.Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class);
                return "symbolic link to " + target + ", which cannot be read";
            } catch (java.nio.file.NoSuchFileException e) {
                return "dangling symbolic link: its target " + target + " does not exist";
            } catch (java.io.IOException e) {
                return "symbolic link to " + target + ", which cannot be read: " + reason(e);
            }
        }

        /** What kind of special file {@code f} is, from its mode bits. */
        private static String special(java.nio.file.Path f) {
            try {
                int mode = (Integer) java.nio.file.Files.getAttribute(f, "unix:mode");
                return switch (mode & 0170000) {
                    case 0010000 -> "a FIFO (named pipe)";
                    case 0140000 -> "a socket";
                    case 0020000 -> "a character device";
                    case 0060000 -> "a block device";
                    default -> "a special file (mode " + Integer.toOctalString(mode) + ")";
                };
            } catch (java.io.IOException | RuntimeException e) {
                return "a special file";
            }
        }

        private static String realPath(java.nio.file.Path f) {
            try {
                return Name.of(f.toRealPath()).text();
            } catch (java.io.IOException e) {
                return "?";
            }
        }
    }

    /**
     * A local path's name from its bytes, decoded as UTF-8 whatever the JVM's locale; bytes that are
     * not UTF-8 are written {@code \xNN} and {@link #utf8()} is false.
     */
    record Name(String text, boolean utf8) {

        static Name of(java.nio.file.Path p) {
            // toUri percent-escapes the name's own bytes (toString would decode them with the locale's charset)
            String raw = p.toAbsolutePath().toUri().getRawPath();
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(raw.length());
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (c == '%' && i + 2 < raw.length()) {
                    b.write(Integer.parseInt(raw.substring(i + 1, i + 3), 16));
                    i += 2;
                } else {
                    b.write(c);
                }
            }
            String text = decode(b.toByteArray());
            boolean utf8 = text != null;
            if (!utf8) {
                text = escaped(b.toByteArray());
            }
            if (text.length() > 1 && text.endsWith("/")) { // toUri marks folders with a trailing '/'
                text = text.substring(0, text.length() - 1);
            }
            return new Name(text, utf8);
        }

        String last() {
            return text.substring(text.lastIndexOf('/') + 1);
        }

        private static String decode(byte[] bytes) {
            try {
                return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                return null;
            }
        }

        /** UTF-8 text with each byte that is not part of a valid sequence as {@code \xNN}. */
        static String escaped(byte[] bytes) {
            java.nio.charset.CharsetDecoder d = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
            java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
            java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(bytes.length + 1);
            StringBuilder s = new StringBuilder();
            while (true) {
                java.nio.charset.CoderResult r = d.decode(in, chars, true);
                chars.flip();
                s.append(chars);
                chars.clear();
                if (r.isError()) {
                    for (int k = 0; k < r.length(); k++) {
                        s.append(String.format(Locale.ROOT, "\\x%02X", in.get() & 0xff));
                    }
                } else if (r.isUnderflow()) {
                    break;
                }
            }
            return s.toString();
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
                content.as("content"), key.as("key"), lit(null).cast(DataTypes.StringType).as("list_error"));
    }

}
