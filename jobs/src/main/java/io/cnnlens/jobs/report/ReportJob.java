package io.cnnlens.jobs.report;

import io.cnnlens.jobs.spark.HadoopConf;

import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
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
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;

/**
 * The report: one static HTML page over a run folder ({@code <out>/report.html}), with a section
 * for each job whose output is there (filters, activations, patches, neighbours, maps,
 * saliency, fooling images, universal perturbations, class visualisations), summary numbers
 * read from the tables, and the errors tables. Links are relative, so the folder can be moved
 * or opened from disk; the page is written aside and renamed into place.
 */
public final class ReportJob {

    private static final int MAX_ERROR_ROWS = 500;

    private ReportJob() {
    }

    public static String run(SparkSession spark, String out) {
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        Path root = new Path(out);
        FileSystem fs;
        try {
            fs = root.getFileSystem(hadoop.get());
            if (!fs.exists(root)) {
                throw new IllegalArgumentException("no run folder at " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HtmlReport r = new HtmlReport("cnnlens run report", root.toString(),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        Dataset<Row> features = table(spark, fs, root, "features");
        if (features != null) {
            r.add(summary(features));
        }
        pictures(fs, root, "filters", "First-layer filters and higher-layer filters",
                "Each filter min–max scaled on its own (colour for 3-channel input).").ifPresent(r::add);
        pictures(fs, root, "activations", "Activation maps", "Every channel of a layer for a few images, on one scale per image.")
                .ifPresent(r::add);
        pictures(fs, root, "patches", "Maximally activating patches",
                "Per channel, the images with the highest activation over the collection, cropped to the receptive field.").ifPresent(r::add);
        Dataset<Row> nb = table(spark, fs, root, "neighbors");
        pictures(fs, root, "neighbors", "Nearest neighbours", "FC7 space against pixel space; green = same label as the query.")
                .ifPresent(s -> r.add(withTables(s, nb == null ? List.of() : List.of(neighbours(nb)))));
        pictures(fs, root, "embed", "PCA and t-SNE maps", "Coloured by label, and a thumbnail mosaic of the t-SNE map.").ifPresent(r::add);
        Dataset<Row> sal = table(spark, fs, root, "saliency");
        pictures(fs, root, "saliency", "Saliency", "Images × methods for the target class.")
                .ifPresent(s -> r.add(withTables(s, sal == null ? List.of() : List.of(saliencyImages(sal)))));
        Dataset<Row> fool = table(spark, fs, root, "fool");
        pictures(fs, root, "fool", "Fooling images", "Original | perturbation (magnified) | adversarial, with predictions.")
                .ifPresent(s -> r.add(withTables(s, fool == null ? List.of() : List.of(fooling(fool)))));
        Dataset<Row> uap = table(spark, fs, root, "uap");
        pictures(fs, root, "uap", "Universal adversarial perturbations", "v magnified, and held-out images without and with it.")
                .ifPresent(s -> r.add(withTables(s, uap == null ? List.of() : List.of(uapTable(uap)))));
        // the grid holds every class; the one-class PNGs beside it are for other uses
        pictures(fs, root, "classviz", "Class visualisations", "Images that maximise a class score under the regularisers.",
                name -> name.endsWith("-grid.png")).ifPresent(r::add);
        pictures(fs, root, "invert", "Feature inversion", "Images reconstructed from each layer's features with a total-variation prior.")
                .ifPresent(r::add);
        List<Table> errors = new ArrayList<>();
        for (String t : List.of("errors", "saliency_errors", "fool_errors", "uap_errors")) {
            Dataset<Row> e = table(spark, fs, root, t);
            if (e != null) {
                errors.add(errorTable(t, e));
            }
        }
        if (!errors.isEmpty()) {
            r.add(new Section("errors", "Errors", "Inputs that gave no result, and why.", errors, List.of()));
        }
        Path page = new Path(root, "report.html");
        Path tmp = new Path(root, ".report.html.tmp");
        try {
            FileSystem raw = fs instanceof org.apache.hadoop.fs.LocalFileSystem l ? l.getRaw() : fs;
            try (OutputStream o = raw.create(tmp, true)) {
                o.write(r.render().getBytes(StandardCharsets.UTF_8));
            }
            raw.delete(page, false);
            if (!raw.rename(tmp, page)) {
                throw new IOException("cannot move the report into place");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + page + ": " + e.getMessage(), e);
        }
        return page.toString();
    }

    private static Section withTables(Section s, List<Table> tables) {
        return new Section(s.id(), s.title(), s.text(), tables, s.pictures());
    }

    private static Dataset<Row> table(SparkSession spark, FileSystem fs, Path root, String name) {
        try {
            Path p = new Path(root, name);
            if (!fs.exists(p)) {
                return null;
            }
            return spark.read().parquet(p.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static java.util.Optional<Section> pictures(FileSystem fs, Path root, String dir, String title, String text) {
        return pictures(fs, root, dir, title, text, name -> true);
    }

    /** The section with every PNG under pictures/{@code dir} (recursively, sorted) whose name passes {@code shown}, or nothing when there is none. */
    private static java.util.Optional<Section> pictures(FileSystem fs, Path root, String dir, String title, String text,
                                                        java.util.function.Predicate<String> shown) {
        List<Picture> pics = new ArrayList<>();
        try {
            Path base = new Path(new Path(root, "pictures"), dir);
            if (fs.exists(base)) {
                collect(fs, base, "pictures/" + dir, shown, pics);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (pics.isEmpty()) {
            return java.util.Optional.empty();
        }
        pics.sort(java.util.Comparator.comparing(Picture::relativePath));
        return java.util.Optional.of(new Section(dir, title, text, List.of(), pics));
    }

    private static void collect(FileSystem fs, Path dir, String rel, java.util.function.Predicate<String> shown,
                                List<Picture> out) throws IOException {
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            if (st.isDirectory()) {
                collect(fs, st.getPath(), rel + "/" + name, shown, out);
            } else if (name.endsWith(".png") && shown.test(name)) {
                out.add(new Picture(rel + "/" + name, rel.substring("pictures/".length()) + "/" + name));
            }
        }
    }

    private static Section summary(Dataset<Row> f) {
        long rows = f.count();
        List<HtmlReport.Row> stats = new ArrayList<>();
        stats.add(new HtmlReport.Row(List.of(Cell.text("images with features"), Cell.number(String.valueOf(rows)))));
        Row acc = f.filter(col("label").isNotNull()).agg(count("*"), avg(expr("CASE WHEN label = pred THEN 1.0D ELSE 0.0D END"))).first();
        if (acc.getLong(0) > 0) {
            stats.add(new HtmlReport.Row(List.of(Cell.text("labelled images"), Cell.number(String.valueOf(acc.getLong(0))))));
            stats.add(new HtmlReport.Row(List.of(Cell.text("prediction = folder label"),
                    Cell.number(String.format(Locale.ROOT, "%.4f", acc.getDouble(1))))));
        }
        List<String> models = new ArrayList<>();
        f.select("model").distinct().collectAsList().forEach(r -> models.add(r.getString(0)));
        stats.add(new HtmlReport.Row(List.of(Cell.text("model"), Cell.text(String.join(", ", models)))));
        List<HtmlReport.Row> sample = new ArrayList<>();
        for (Row r : f.select("path", "label", "pred", "top5").orderBy("path").limit(12).collectAsList()) {
            String path = r.getString(0);
            Row top = r.<Row>getList(3).get(0);
            sample.add(new HtmlReport.Row(List.of(Cell.text(path.substring(path.lastIndexOf('/') + 1)), Cell.text(r.getString(1)),
                    Cell.text(r.getString(2)), Cell.number(String.format(Locale.ROOT, "%.3f", top.getFloat(1))))));
        }
        return new Section("summary", "Summary", "The features job's table: one row per image.",
                List.of(new Table("numbers", List.of("what", "value"), stats, null),
                        new Table("first images by path", List.of("file", "label", "prediction", "probability"), sample, null)),
                List.of());
    }

    private static Table neighbours(Dataset<Row> nb) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : nb.filter(col("query_label").isNotNull().and(col("neighbor_label").isNotNull()))
                .groupBy("space", "metric").agg(avg(expr("CASE WHEN query_label = neighbor_label THEN 1.0D ELSE 0.0D END")), count("*"))
                .orderBy("space", "metric").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.text(r.getString(1)),
                    Cell.number(String.format(Locale.ROOT, "%.4f", r.getDouble(2))), Cell.number(String.valueOf(r.getLong(3))))));
        }
        return new Table("label agreement of neighbours", List.of("space", "metric", "same label", "pairs"), rows, null);
    }

    private static Table saliencyImages(Dataset<Row> sal) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : sal.groupBy("method").agg(count("*"), avg("target_probability")).orderBy("method").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.number(String.valueOf(r.getLong(1))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.getDouble(2))))));
        }
        return new Table("maps", List.of("method", "images", "mean target probability"), rows, null);
    }

    private static Table fooling(Dataset<Row> f) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : f.groupBy("method").agg(count("*"), avg(expr("CASE WHEN success THEN 1.0D ELSE 0.0D END")),
                expr("percentile_approx(steps, 0.5)"), expr("percentile_approx(l2, 0.5)"), expr("percentile_approx(linf, 0.5)"))
                .orderBy("method").collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.number(String.valueOf(r.getLong(1))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.getDouble(2))), Cell.number(String.valueOf(r.get(3))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.getDouble(4))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.getDouble(5))))));
        }
        return new Table("attacks", List.of("method", "attempts", "success rate", "median steps", "median L2", "median L∞"), rows,
                "Norms in 0..255 pixel units.");
    }

    private static Table uapTable(Dataset<Row> u) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : u.orderBy("variant", "xi").collectAsList()) {
            Double t = r.isNullAt(r.fieldIndex("transfer_fooling_rate")) ? null : r.getDouble(r.fieldIndex("transfer_fooling_rate"));
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.<String>getAs("variant")), Cell.text(r.<String>getAs("norm")),
                    Cell.number(String.format(Locale.ROOT, "%.0f", r.<Double>getAs("xi"))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.<Double>getAs("fooling_rate"))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.<Double>getAs("random_fooling_rate"))),
                    Cell.text(t == null ? "" : String.format(Locale.ROOT, "%.3f on %s", t, r.<String>getAs("transfer_model"))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.<Double>getAs("seconds"))))));
        }
        return new Table("perturbations", List.of("variant", "norm", "ξ", "fooling rate", "random noise", "transfer", "seconds"), rows,
                "Fooling rates on held-out images.");
    }

    private static Table errorTable(String name, Dataset<Row> e) {
        long n = e.count();
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : e.select("path", "stage", "reason").orderBy("path").limit(MAX_ERROR_ROWS).collectAsList()) {
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.text(r.getString(1)), Cell.text(r.getString(2)))));
        }
        return new Table(name + " (" + n + ")", List.of("path", "stage", "reason"), rows,
                n > MAX_ERROR_ROWS ? "first " + MAX_ERROR_ROWS + " of " + n + " rows by path" : null);
    }
}
