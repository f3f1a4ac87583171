package io.cnnlens.tests;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * "Behaviour unchanged" check over two run folders ({@code bin/cnnlens run --out DIR}): every
 * Parquet table of the first must be equal to its counterpart in the second.
 *
 * <pre>RunComparison BEFORE AFTER [--rename old=new ...] [--replace old=new ...] [--ignore COLUMN|TABLE.COLUMN ...]
 *     [--no-default-ignore] [--tolerance 1e-6]</pre>
 *
 * <p>A table is a folder holding {@code part-*.parquet} files (Hive-style {@code k=v} partition
 * folders belong to the table above them), at any depth, outside {@code _staging}, {@code _trash},
 * {@code pictures} and hidden ({@code .}/{@code _}) folders; it is named by its path below the run
 * folder. {@code --rename} maps a BEFORE name (or folder prefix) to its AFTER name.
 * {@code --replace old=new} rewrites every string value of BEFORE (e.g. the checkout's path in
 * {@code path} columns: {@code file:/old/checkout/=file:/new/checkout/}) before comparing.
 * {@code --ignore COLUMN|TABLE.COLUMN} compares a column's type but not its values; columns
 * named {@code seconds} (wall-clock times) are ignored unless {@code --no-default-ignore}.
 *
 * <p>Per table pair: the column set and types (nullability only noted); the row count; then the
 * rows as a multiset: both sides are sorted by every column that holds no float, double, binary
 * or map (in name order), ties broken by the SHA-256 of binary columns (of the decoded pixels
 * where a value is an image, so that a re-encoded PNG sorts alike) and then by the float
 * columns, and walked in step. Floats and doubles (also inside arrays and structs) may differ by
 * the absolute tolerance; the largest |diff| per column is reported. Binary columns must be equal
 * byte for byte, except that two images (javax.imageio) with identical decoded pixels count as
 * equal and are listed as "bytes differ". Everything else must be equal.
 *
 * <p>Prints one line per table and a final "N passed, M failed"; exits 0 when every table is
 * equal and none exists on one side only, 1 otherwise, 2 on a usage error.
 *
 * <p>Depends on Spark SQL and the JDK only, never on cnnlens classes, so that it is independent
 * of the code under test. Run it with {@code tests/compare-runs.sh}.
 */
public final class RunComparison {

    private static final Pattern PART_FILE = Pattern.compile("part-.*\\.parquet");
    private static final Pattern PARTITION_DIR = Pattern.compile("[^=]+=.*");
    private static final List<String> SKIPPED_DIRS = List.of("_staging", "_trash", "pictures");
    private static final int EXAMPLES = 3;
    /** Columns whose values are wall-clock times: never equal from one run to the next. */
    private static final List<String> DEFAULT_IGNORE = List.of("seconds");
    private static final int MAX_VALUE_CHARS = 160;

    private final double tolerance;
    private final PrintStream out;
    private final List<String> ignore;
    private final Map<String, String> replace;

    private RunComparison(double tolerance, PrintStream out, List<String> ignore, Map<String, String> replace) {
        this.tolerance = tolerance;
        this.out = out;
        this.ignore = ignore;
        this.replace = replace;
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("compare-runs: " + e.getMessage());
            System.err.println("usage: compare-runs.sh <before-run-dir> <after-run-dir> [--rename old=new ...] [--replace old=new ...]"
                    + " [--ignore COLUMN|TABLE.COLUMN ...] [--no-default-ignore] [--tolerance 1e-6]");
            rc = 2;
        } catch (Exception e) {
            e.printStackTrace();
            rc = 2;
        }
        System.out.flush();
        System.exit(rc);
    }

    static int run(String[] args, PrintStream out) throws IOException {
        List<String> positional = new ArrayList<>();
        Map<String, String> renames = new LinkedHashMap<>();
        Map<String, String> replace = new LinkedHashMap<>();
        List<String> ignore = new ArrayList<>(DEFAULT_IGNORE);
        double tolerance = 1e-6;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException("help");
            } else if (a.equals("--rename") || a.startsWith("--rename=")) {
                String v = a.equals("--rename") ? next(args, ++i, a) : a.substring("--rename=".length());
                int eq = v.indexOf('=');
                if (eq <= 0 || eq == v.length() - 1) {
                    throw new IllegalArgumentException("--rename wants old=new, got '" + v + "'");
                }
                renames.put(trimSlashes(v.substring(0, eq)), trimSlashes(v.substring(eq + 1)));
            } else if (a.equals("--replace") || a.startsWith("--replace=")) {
                String v = a.equals("--replace") ? next(args, ++i, a) : a.substring("--replace=".length());
                int eq = v.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--replace wants old=new, got '" + v + "'");
                }
                replace.put(v.substring(0, eq), v.substring(eq + 1));
            } else if (a.equals("--ignore") || a.startsWith("--ignore=")) {
                ignore.add(a.equals("--ignore") ? next(args, ++i, a) : a.substring("--ignore=".length()));
            } else if (a.equals("--no-default-ignore")) {
                ignore.removeAll(DEFAULT_IGNORE);
            } else if (a.equals("--tolerance") || a.startsWith("--tolerance=")) {
                String v = a.equals("--tolerance") ? next(args, ++i, a) : a.substring("--tolerance=".length());
                tolerance = Double.parseDouble(v);
            } else if (a.startsWith("--")) {
                throw new IllegalArgumentException("unknown option " + a);
            } else {
                positional.add(a);
            }
        }
        if (positional.size() != 2) {
            throw new IllegalArgumentException("want two run folders, got " + positional.size());
        }
        Path before = Paths.get(positional.get(0)).toAbsolutePath().normalize();
        Path after = Paths.get(positional.get(1)).toAbsolutePath().normalize();
        for (Path p : List.of(before, after)) {
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException("not a folder: " + p);
            }
        }
        Map<String, Path> tablesA = tables(before);
        Map<String, Path> tablesB = tables(after);
        if (tablesA.isEmpty()) {
            throw new IllegalArgumentException("no Parquet tables under " + before);
        }
        out.printf(Locale.ROOT, "compare-runs: before %s (%d tables), after %s (%d tables), tolerance %s%s%s%n", before,
                tablesA.size(), after, tablesB.size(), tolerance, ignore.isEmpty() ? "" : ", values not compared: " + String.join(", ", ignore),
                replace.isEmpty() ? "" : ", in before's strings: " + replace);
        for (String old : renames.keySet()) {
            boolean used = tablesA.keySet().stream().anyMatch(n -> n.equals(old) || n.startsWith(old + "/"));
            if (!used) {
                out.println("note: --rename " + old + "=" + renames.get(old) + ": no table '" + old + "' in before");
            }
        }

        SparkSession spark = io.cnnlens.jobs.spark.SparkSessions.withTables(SparkSession.builder()).appName("cnnlens compare-runs").master("local[*]")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "8")
                .getOrCreate();
        int passed = 0;
        int failed = 0;
        List<String> onlyA = new ArrayList<>();
        List<String> matchedB = new ArrayList<>();
        try {
            RunComparison cmp = new RunComparison(tolerance, out, ignore, replace);
            for (Map.Entry<String, Path> e : tablesA.entrySet()) {
                String nameA = e.getKey();
                String nameB = renamed(nameA, renames);
                Path pb = tablesB.get(nameB);
                if (pb == null) {
                    onlyA.add(nameA.equals(nameB) ? nameA : nameA + " (looked for " + nameB + ")");
                    continue;
                }
                matchedB.add(nameB);
                String label = nameA.equals(nameB) ? nameA : nameA + " -> " + nameB;
                if (cmp.compareTable(spark, nameA, label, e.getValue(), pb)) {
                    passed++;
                } else {
                    failed++;
                }
            }
        } finally {
            spark.stop();
        }
        List<String> onlyB = new ArrayList<>(tablesB.keySet());
        onlyB.removeAll(matchedB);
        for (String t : onlyA) {
            out.println(t + ": only in before, result DIFFERENT (missing in after)");
        }
        for (String t : onlyB) {
            out.println(t + ": only in after, result DIFFERENT (missing in before)");
        }
        failed += onlyA.size() + onlyB.size();
        out.printf(Locale.ROOT, "%d passed, %d failed%n", passed, failed);
        return failed == 0 ? 0 : 1;
    }

    private static String next(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " wants a value");
        }
        return args[i];
    }

    private static String trimSlashes(String s) {
        String t = s.replace('\\', '/');
        while (t.startsWith("/")) {
            t = t.substring(1);
        }
        while (t.endsWith("/")) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }

    /** The AFTER name of a BEFORE table: an exact --rename, else the longest folder-prefix one. */
    static String renamed(String name, Map<String, String> renames) {
        if (renames.containsKey(name)) {
            return renames.get(name);
        }
        String best = null;
        for (String old : renames.keySet()) {
            if (name.startsWith(old + "/") && (best == null || old.length() > best.length())) {
                best = old;
            }
        }
        return best == null ? name : renames.get(best) + name.substring(best.length());
    }

    // ---------------------------------------------------------------- discovery

    /** Every Parquet table below {@code root}, by its '/'-separated path below it ("." for root itself). */
    static Map<String, Path> tables(Path root) throws IOException {
        Map<String, Path> found = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    String n = dir.getFileName().toString();
                    if (SKIPPED_DIRS.contains(n) || n.startsWith(".") || n.startsWith("_")) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                }
                boolean parts;
                try (Stream<Path> s = Files.list(dir)) {
                    parts = s.anyMatch(f -> Files.isRegularFile(f) && PART_FILE.matcher(f.getFileName().toString()).matches());
                }
                if (parts) {
                    Path table = dir;
                    while (!table.equals(root) && PARTITION_DIR.matcher(table.getFileName().toString()).matches()) {
                        table = table.getParent();
                    }
                    String rel = root.relativize(table).toString().replace('\\', '/');
                    found.put(rel.isEmpty() ? "." : rel, table);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }

    // ---------------------------------------------------------------- one table

    /** Per-column tallies. */
    private static final class ColStats {
        final String name;
        final boolean floating;
        double maxDiff;
        long mismatches;
        long bytesDiffer;

        ColStats(String name, boolean floating) {
            this.name = name;
            this.floating = floating;
        }
    }

    /** Sort key of a binary value: SHA-256 of its decoded pixels when it is an image, else of its bytes. */
    private static final UserDefinedFunction PIXEL_KEY = functions.udf(
            (UDF1<byte[], String>) RunComparison::pixelKey, DataTypes.StringType).withName("pixel_key");

    private static final int SAME = 0;
    private static final int BYTES_ONLY = 1;
    private static final int DIFFERENT = 2;

    private boolean compareTable(SparkSession spark, String table, String label, Path pa, Path pb) {
        List<String> details = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        long countA = -1;
        long countB = -1;
        boolean columnsOk = false;
        String maxDiff = "n/a";
        List<String> bytesNote = new ArrayList<>();
        try {
            // a Delta table at its committed version, a plain Parquet folder (an older run) as Parquet
            Dataset<Row> a = io.cnnlens.jobs.spark.TableReader.open(spark, pa.toString());
            Dataset<Row> b = io.cnnlens.jobs.spark.TableReader.open(spark, pb.toString());
            Map<String, StructField> fa = fields(a.schema());
            Map<String, StructField> fb = fields(b.schema());

            // columns and types
            TreeSet<String> onlyA = new TreeSet<>(fa.keySet());
            onlyA.removeAll(fb.keySet());
            TreeSet<String> onlyB = new TreeSet<>(fb.keySet());
            onlyB.removeAll(fa.keySet());
            List<String> common = new ArrayList<>();
            List<String> nullability = new ArrayList<>();
            boolean typesOk = true;
            for (String c : new TreeSet<>(fa.keySet())) {
                if (!fb.containsKey(c)) {
                    continue;
                }
                DataType ta = fa.get(c).dataType();
                DataType tb = fb.get(c).dataType();
                if (!ta.catalogString().equals(tb.catalogString())) {
                    typesOk = false;
                    details.add("type differs: " + c + " " + ta.catalogString() + " vs " + tb.catalogString());
                    continue;
                }
                if (!fa.get(c).toDDL().equals(fb.get(c).toDDL()) || !ta.json().equals(tb.json())
                        || fa.get(c).nullable() != fb.get(c).nullable()) {
                    nullability.add(c);
                }
                common.add(c);
            }
            if (!onlyA.isEmpty()) {
                details.add("columns only in before: " + String.join(", ", onlyA));
            }
            if (!onlyB.isEmpty()) {
                details.add("columns only in after: " + String.join(", ", onlyB));
            }
            List<String> ignored = new ArrayList<>();
            for (String c : List.copyOf(common)) {
                if (ignore.contains(c) || ignore.contains(table + "." + c)) {
                    common.remove(c);
                    ignored.add(c);
                }
            }
            if (!ignored.isEmpty()) {
                details.add("values not compared (--ignore): " + String.join(", ", ignored));
            }
            if (!replace.isEmpty()) {
                a = replaceStrings(a);
            }
            if (!nullability.isEmpty()) {
                details.add("note: nullability/metadata differs (not failed): " + String.join(", ", nullability));
            }
            columnsOk = onlyA.isEmpty() && onlyB.isEmpty() && typesOk;
            if (!columnsOk) {
                reasons.add("columns");
            }

            // row count
            countA = a.count();
            countB = b.count();
            if (countA != countB) {
                reasons.add("row count");
                List<String> keys = new ArrayList<>();
                for (String c : common) {
                    if (isKey(fa.get(c).dataType())) {
                        keys.add(c);
                    }
                }
                if (!keys.isEmpty()) {
                    Column[] kc = keys.stream().map(RunComparison::col).toArray(Column[]::new);
                    Dataset<Row> ka = a.select(kc);
                    Dataset<Row> kb = b.select(kc);
                    addKeySample(details, "keys (" + String.join(", ", keys) + ") only in before", ka.exceptAll(kb));
                    addKeySample(details, "keys (" + String.join(", ", keys) + ") only in after", kb.exceptAll(ka));
                }
            } else if (!common.isEmpty()) {
                // rows, as a multiset, walked in step after one sort on both sides
                List<ColStats> stats = new ArrayList<>();
                List<Column> sortKeys = new ArrayList<>();
                List<Column> binaryTies = new ArrayList<>();
                List<Column> floatTies = new ArrayList<>();
                DataType[] types = new DataType[common.size()];
                for (int i = 0; i < common.size(); i++) {
                    String c = common.get(i);
                    DataType t = fa.get(c).dataType();
                    types[i] = t;
                    stats.add(new ColStats(c, has(t, "float")));
                    if (isKey(t)) {
                        sortKeys.add(col(c));
                    } else if (t instanceof BinaryType) {
                        binaryTies.add(PIXEL_KEY.apply(col(c)));
                    } else if (has(t, "float") && !has(t, "binary") && !has(t, "map")) {
                        floatTies.add(col(c));
                    }
                }
                sortKeys.addAll(binaryTies);
                sortKeys.addAll(floatTies);
                Column[] select = common.stream().map(RunComparison::col).toArray(Column[]::new);
                Column[] order = sortKeys.stream().map(Column::asc_nulls_first).toArray(Column[]::new);
                Dataset<Row> sa = a.select(select);
                Dataset<Row> sb = b.select(select);
                if (order.length > 0) {
                    sa = sa.orderBy(order);
                    sb = sb.orderBy(order);
                }
                Iterator<Row> ia = sa.toLocalIterator();
                Iterator<Row> ib = sb.toLocalIterator();
                List<String> examples = new ArrayList<>();
                long row = 0;
                while (ia.hasNext() && ib.hasNext()) {
                    Row ra = ia.next();
                    Row rb = ib.next();
                    for (int i = 0; i < types.length; i++) {
                        ColStats s = stats.get(i);
                        int r = types[i] instanceof StringType // top-level strings: --replace already applied
                                ? (Objects.equals(ra.get(i), rb.get(i)) ? SAME : DIFFERENT)
                                : compare(ra.get(i), rb.get(i), types[i], s);
                        if (r == DIFFERENT) {
                            s.mismatches++;
                            if (examples.size() < EXAMPLES) {
                                examples.add("row " + row + " " + s.name + ": before " + show(ra.get(i)) + " / after " + show(rb.get(i)));
                            }
                        } else if (r == BYTES_ONLY) {
                            s.bytesDiffer++;
                        }
                    }
                    row++;
                }
                if (ia.hasNext() || ib.hasNext()) {
                    reasons.add("row count while reading");
                }
                double overall = 0;
                boolean anyFloat = false;
                List<String> perColumn = new ArrayList<>();
                List<String> mismatched = new ArrayList<>();
                for (ColStats s : stats) {
                    if (s.floating) {
                        anyFloat = true;
                        overall = Math.max(overall, s.maxDiff);
                        perColumn.add(s.name + " " + num(s.maxDiff));
                    }
                    if (s.mismatches > 0) {
                        mismatched.add(s.name + " (" + s.mismatches + " rows)");
                    }
                    if (s.bytesDiffer > 0) {
                        bytesNote.add(s.name + " (" + s.bytesDiffer + " rows)");
                    }
                }
                if (anyFloat) {
                    maxDiff = num(overall);
                    details.add("max |diff| per column: " + String.join(", ", perColumn));
                }
                if (!bytesNote.isEmpty()) {
                    details.add("bytes differ (decoded pixels identical, not failed): " + String.join(", ", bytesNote));
                }
                if (!mismatched.isEmpty()) {
                    reasons.add("values differ: " + String.join(", ", mismatched));
                    details.addAll(examples);
                }
            }
        } catch (Exception e) {
            reasons.add("error: " + e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
        }
        boolean equal = reasons.isEmpty();
        String result = equal
                ? "EQUAL" + (bytesNote.isEmpty() ? "" : " (bytes differ, pixels identical)")
                : "DIFFERENT (" + String.join("; ", reasons) + ")";
        out.printf(Locale.ROOT, "%s: rows %s vs %s, columns %s, max |diff| %s, result %s%n", label, countA < 0 ? "?" : countA,
                countB < 0 ? "?" : countB, columnsOk ? "ok" : "DIFF", maxDiff, result);
        for (String d : details) {
            out.println("    " + d);
        }
        return equal;
    }

    /** {@code a} with every --replace applied to its top-level string columns (nested strings: in {@link #compare}). */
    private Dataset<Row> replaceStrings(Dataset<Row> a) {
        List<Column> cols = new ArrayList<>();
        for (StructField f : a.schema().fields()) {
            Column c = col(f.name());
            if (f.dataType() instanceof StringType) {
                for (Map.Entry<String, String> r : replace.entrySet()) {
                    c = functions.replace(c, functions.lit(r.getKey()), functions.lit(r.getValue()));
                }
            }
            cols.add(c.as(f.name()));
        }
        return a.select(cols.toArray(Column[]::new));
    }

    private static void addKeySample(List<String> details, String what, Dataset<Row> rows) {
        List<Row> sample = rows.limit(5).collectAsList();
        if (!sample.isEmpty()) {
            List<String> shown = new ArrayList<>();
            for (Row r : sample) {
                shown.add(show(r));
            }
            details.add(what + " (first " + sample.size() + "): " + String.join("; ", shown));
        }
    }

    private static Column col(String name) {
        return functions.col("`" + name.replace("`", "``") + "`");
    }

    private static Map<String, StructField> fields(StructType schema) {
        Map<String, StructField> m = new LinkedHashMap<>();
        for (StructField f : schema.fields()) {
            m.put(f.name(), f);
        }
        return m;
    }

    /** A sort-key column: holds no float/double, no binary and no map, at any depth. */
    private static boolean isKey(DataType t) {
        return !has(t, "float") && !has(t, "binary") && !has(t, "map");
    }

    /** Whether {@code t} is or holds (in arrays, structs, maps) a float/double, a binary or a map. */
    private static boolean has(DataType t, String what) {
        if (t instanceof FloatType || t instanceof DoubleType) {
            return what.equals("float");
        }
        if (t instanceof BinaryType) {
            return what.equals("binary");
        }
        if (t instanceof ArrayType at) {
            return has(at.elementType(), what);
        }
        if (t instanceof StructType st) {
            return Arrays.stream(st.fields()).anyMatch(f -> has(f.dataType(), what));
        }
        if (t instanceof MapType mt) {
            return what.equals("map") || has(mt.keyType(), what) || has(mt.valueType(), what);
        }
        return false;
    }

    // ---------------------------------------------------------------- values

    /** SAME, BYTES_ONLY (binary: other bytes, same decoded pixels) or DIFFERENT; records float diffs in {@code s}. */
    private int compare(Object x, Object y, DataType t, ColStats s) {
        if (x == null || y == null) {
            return x == y ? SAME : DIFFERENT;
        }
        if (t instanceof FloatType || t instanceof DoubleType) {
            double dx = ((Number) x).doubleValue();
            double dy = ((Number) y).doubleValue();
            if (Double.compare(dx, dy) == 0 || dx == dy) {
                return SAME;
            }
            double d = Math.abs(dx - dy);
            if (Double.isNaN(d)) {
                d = Double.POSITIVE_INFINITY; // NaN against a number, or +inf against -inf
            }
            s.maxDiff = Math.max(s.maxDiff, d);
            return d <= tolerance ? SAME : DIFFERENT;
        }
        if (t instanceof BinaryType) {
            byte[] bx = (byte[]) x;
            byte[] by = (byte[]) y;
            if (Arrays.equals(bx, by)) {
                return SAME;
            }
            return samePixels(bx, by) ? BYTES_ONLY : DIFFERENT;
        }
        if (t instanceof ArrayType at) {
            List<?> lx = asList(x);
            List<?> ly = asList(y);
            int worst = lx.size() == ly.size() ? SAME : DIFFERENT;
            for (int i = 0; i < Math.min(lx.size(), ly.size()); i++) {
                worst = Math.max(worst, compare(lx.get(i), ly.get(i), at.elementType(), s));
            }
            return worst;
        }
        if (t instanceof StructType st) {
            Row rx = (Row) x;
            Row ry = (Row) y;
            int worst = SAME;
            StructField[] f = st.fields();
            for (int i = 0; i < f.length; i++) {
                worst = Math.max(worst, compare(rx.get(i), ry.get(i), f[i].dataType(), s));
            }
            return worst;
        }
        if (t instanceof MapType mt) {
            Map<?, ?> mx = asMap(x);
            Map<?, ?> my = asMap(y);
            if (!mx.keySet().equals(my.keySet())) {
                return DIFFERENT;
            }
            int worst = SAME;
            for (Object k : mx.keySet()) {
                worst = Math.max(worst, compare(mx.get(k), my.get(k), mt.valueType(), s));
            }
            return worst;
        }
        if (t instanceof DecimalType && x instanceof BigDecimal bx && y instanceof BigDecimal by) {
            return bx.compareTo(by) == 0 ? SAME : DIFFERENT;
        }
        if (t instanceof StringType && x instanceof String sx && !replace.isEmpty()) {
            for (Map.Entry<String, String> r : replace.entrySet()) {
                sx = sx.replace(r.getKey(), r.getValue());
            }
            return sx.equals(y) ? SAME : DIFFERENT;
        }
        return Objects.equals(x, y) ? SAME : DIFFERENT;
    }

    @SuppressWarnings("unchecked")
    private static List<?> asList(Object v) {
        if (v instanceof List<?> l) {
            return l;
        }
        if (v instanceof scala.collection.Seq<?> s) {
            return scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<Object>) s);
        }
        if (v instanceof Object[] a) {
            return Arrays.asList(a);
        }
        throw new IllegalStateException("not an array value: " + v.getClass());
    }

    @SuppressWarnings("unchecked")
    private static Map<?, ?> asMap(Object v) {
        if (v instanceof Map<?, ?> m) {
            return m;
        }
        if (v instanceof scala.collection.Map<?, ?> m) {
            return scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Map<Object, Object>) m);
        }
        throw new IllegalStateException("not a map value: " + v.getClass());
    }

    /** Both decode (javax.imageio) to images of one size with identical pixels. */
    static boolean samePixels(byte[] x, byte[] y) {
        BufferedImage a;
        BufferedImage b;
        try {
            a = ImageIO.read(new ByteArrayInputStream(x));
            b = ImageIO.read(new ByteArrayInputStream(y));
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (a == null || b == null || a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return false;
        }
        int w = a.getWidth();
        int h = a.getHeight();
        Raster ra = a.getRaster();
        Raster rb = b.getRaster();
        boolean sameLayout = ra.getNumBands() == rb.getNumBands()
                && Arrays.equals(ra.getSampleModel().getSampleSize(), rb.getSampleModel().getSampleSize())
                && a.getColorModel().getColorSpace().equals(b.getColorModel().getColorSpace());
        for (int yy = 0; yy < h; yy++) {
            if (sameLayout) {
                if (!Arrays.equals(ra.getPixels(0, yy, w, 1, (int[]) null), rb.getPixels(0, yy, w, 1, (int[]) null))) {
                    return false;
                }
            } else if (!Arrays.equals(a.getRGB(0, yy, w, 1, null, 0, w), b.getRGB(0, yy, w, 1, null, 0, w))) {
                return false;
            }
        }
        return true;
    }

    /** Hex SHA-256 of width, height and ARGB pixels when {@code bytes} decode as an image, else "bytes:" and that of the bytes. */
    static String pixelKey(byte[] bytes) throws NoSuchAlgorithmException {
        if (bytes == null) {
            return null;
        }
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        BufferedImage im = null;
        try {
            im = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            // not an image: hash the bytes
        }
        String kind;
        if (im == null) {
            kind = "bytes:";
            md.update(bytes);
        } else {
            kind = "pixels:";
            int w = im.getWidth();
            int h = im.getHeight();
            ByteBuffer buf = ByteBuffer.allocate(4 * (w + 2));
            buf.putInt(w).putInt(h);
            for (int y = 0; y < h; y++) {
                for (int argb : im.getRGB(0, y, w, 1, null, 0, w)) {
                    buf.putInt(argb);
                }
                md.update(buf.array(), 0, buf.position());
                buf.clear();
            }
        }
        return kind + HexFormat.of().formatHex(md.digest());
    }

    private static String num(double d) {
        return d == 0 ? "0" : String.format(Locale.ROOT, "%.3g", d);
    }

    private static String show(Object v) {
        String s;
        if (v instanceof byte[] bytes) {
            s = "<" + bytes.length + " bytes>";
        } else {
            s = String.valueOf(v);
        }
        return s.length() <= MAX_VALUE_CHARS ? s : s.substring(0, MAX_VALUE_CHARS) + "...";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
