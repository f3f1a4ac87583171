package io.cnnlens.jobs;

import io.cnnlens.report.HtmlReport.Picture;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** What a job's report section reads: the run folder's tables and pictures. */
public final class ReportContext {

    private final SparkSession spark;
    private final FileSystem fs;
    private final Path root;

    public ReportContext(SparkSession spark, FileSystem fs, Path root) {
        this.spark = spark;
        this.fs = fs;
        this.root = root;
    }

    public SparkSession spark() {
        return spark;
    }

    /** The committed table {@code <out>/<name>}, or empty when the run has none. */
    public Optional<Dataset<Row>> table(String name) {
        return io.cnnlens.jobs.spark.TableReader.table(spark, root.toString(), name);
    }

    /** A section of every PNG under {@code pictures/<dir>} (recursively, sorted), or empty when there is none. */
    public Optional<Section> pictures(String dir, String title, String text, List<Table> tables) {
        return pictures(dir, title, text, tables, name -> true);
    }

    /** As {@link #pictures(String, String, String, List)}, keeping the PNGs whose file name passes {@code shown}. */
    public Optional<Section> pictures(String dir, String title, String text, List<Table> tables, Predicate<String> shown) {
        List<Picture> pics = new ArrayList<>();
        try {
            Path base = new Path(new Path(root, "pictures"), dir);
            if (fs.exists(base)) {
                collect(base, "pictures/" + dir, shown, pics);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (pics.isEmpty()) {
            return Optional.empty();
        }
        pics.sort(Comparator.comparing(Picture::relativePath));
        return Optional.of(new Section(dir, title, text, tables, pics));
    }

    private void collect(Path dir, String rel, Predicate<String> shown, List<Picture> out) throws IOException {
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            if (st.isDirectory()) {
                collect(st.getPath(), rel + "/" + name, shown, out);
            } else if (name.endsWith(".png") && shown.test(name)) {
                out.add(new Picture(rel + "/" + name, rel.substring("pictures/".length()) + "/" + name));
            }
        }
    }
}
