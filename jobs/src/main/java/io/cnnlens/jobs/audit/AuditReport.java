package io.cnnlens.jobs.audit;

import io.cnnlens.audit.AuditThresholds;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/** The audit's HTML page: what changed since the previous audit first, then alerts, then each check. */
final class AuditReport {

    static final int ROWS = 15;

    private AuditReport() {
    }

    /** Where the label probes came from: fitted by this run, or kept from an earlier one and how much changed since. */
    private static String probesFrom(String run, Map<String, Object> extra, Map<String, Double> m) {
        Object fitted = extra.get("probe.fitted_run");
        if (fitted == null || fitted.equals(run)) {
            return "fitted by this audit";
        }
        Double changed = m.get("probe.changed_since_fit");
        return "kept from audit " + fitted + (changed == null ? "" : String.format(java.util.Locale.ROOT,
                ", %.1f %% of the images new or changed since", 100 * changed));
    }

    static String render(SparkSession spark, AuditJob.Summary s, String run, String runDir, Map<String, Object> extra, AuditOptions o,
                         String knnMethod) {
        HtmlReport r = new HtmlReport("cnnlens audit", run, Instant.now().toString());
        Map<String, Double> m = s.metrics();
        List<HtmlReport.Row> changed = new ArrayList<>();
        if (s.previous() == null) {
            changed.add(row("previous audit", "none: this is the first audit of " + s.features().featuresPath()));
        } else {
            changed.add(row("previous audit", s.previous()));
            Object unreadable = extra.get(AuditJob.PREVIOUS_UNREADABLE);
            changed.add(row("images added / removed / changed", unreadable != null ? "not computed: " + unreadable
                    : f(m.get("changes.added")) + " / " + f(m.get("changes.removed")) + " / " + f(m.get("changes.changed"))));
            Double p = m.get("drift.p_value");
            changed.add(row("drift of the added images (linear-time MMD on fc7)", unreadable != null ? "not tested: the previous snapshot is no longer readable"
                    : p == null ? "not tested (under 4 new images)"
                    : String.format(Locale.ROOT, "%s: p = %.3g at level %.3g, MMD² = %.3g", p < o.driftLevel() ? "DRIFT" : "no drift", p,
                    o.driftLevel(), m.get("drift.mmd2"))));
            changed.add(row("largest change of a class's share", m.get("class_share.max_change") == null ? "-"
                    : String.format(Locale.ROOT, "%.2f %%", 100 * m.get("class_share.max_change"))));
        }
        changed.add(row("model ran on", String.format(Locale.ROOT, "%d of %d images (%d reused, %d removed)", s.features().modelRan(),
                s.features().inputs(), s.features().reused(), s.features().removed())));
        List<HtmlReport.Row> issues = new ArrayList<>();
        for (String check : List.of(AuditJob.UNREADABLE, AuditJob.EXACT, AuditJob.NEAR, "leakage", AuditJob.LABELS, AuditJob.OUTLIERS,
                AuditJob.QUALITY)) {
            issues.add(new HtmlReport.Row(List.of(Cell.text(check), Cell.number(f(m.get("new." + check))),
                    Cell.number(f(m.get("resolved." + check))), Cell.text(examples(extra.get("new." + check))),
                    Cell.text(examples(extra.get("resolved." + check))))));
        }
        r.add(new Section("changes", "What changed since the last audit",
                "A diff of the features table's snapshot at the previous audit and now, and each check's issues that are new or resolved.",
                List.of(new Table("changes", List.of("what", "value"), changed, null),
                        new Table("issues new and resolved", List.of("check", "new", "resolved", "new (first)", "resolved (first)"), issues,
                                null)), List.of()));
        List<HtmlReport.Row> alerts = new ArrayList<>();
        for (AuditThresholds.Crossed c : s.crossed()) {
            alerts.add(row(c.threshold().metric(), c.describe()));
        }
        r.add(new Section("alerts", "Alerts", s.crossed().isEmpty() ? "No threshold crossed." : s.crossed().size()
                + " threshold(s) crossed: the command exits 1.", alerts.isEmpty() ? List.of() : List.of(new Table("crossed",
                List.of("metric", "value and limit"), alerts, null)), List.of()));
        List<HtmlReport.Row> counts = new ArrayList<>();
        m.forEach((k, v) -> counts.add(new HtmlReport.Row(List.of(Cell.text(k), Cell.number(f(v))))));
        r.add(new Section("counts", "Counts per check", "Every figure the thresholds can read (summary.json has them too).",
                List.of(new Table("metrics", List.of("metric", "value"), counts, null)), List.of()));
        check(spark, r, runDir, AuditJob.LABELS, "Label issues (confident learning)",
                "Out-of-sample probabilities from " + o.folds() + "-fold softmax-regression probes on fc7 (probe accuracy "
                        + f(m.get("probe.accuracy")) + ", " + probesFrom(run, extra, m) + "); flagged when another class clears its per-class threshold. Lowest self-confidence first.",
                t -> t.orderBy("rank"), "path", "given_label", "suggested_label", "self_confidence");
        check(spark, r, runDir, AuditJob.NEAR, "Near-duplicates and split leakage",
                "Pairs among each image's " + o.k() + " nearest neighbours in fc7 ("
                        + (knnMethod.equals("graph") ? String.format(Locale.ROOT, "searched through a graph index, recall@%d %.4f against exact "
                        + "search on a sample", o.k(), m.get("knn.recall")) : "exact search") + ") or each content's " + o.k()
                        + " nearest by thumbnail correlation (so a crowd of look-alikes in fc7 cannot hide a copy), overall and in "
                        + "each other split folder (so one split's look-alikes cannot hide a copy in another), with fc7 cosine ≥ "
                        + o.nearDuplicateCosine() + " and 16×16 grey thumbnails that correlate ≥ " + o.nearDuplicatePixels() + "; "
                        + "leakage: the two sit in different split folders. In a crowd of near-identical images these are each "
                        + "image's nearest pairs, not every pair. A pair an earlier audit found stays while both its files are unchanged.",
                t -> t.orderBy(col("leakage").desc(), col("cosine").desc()), "path_a", "path_b", "cosine", "pixel_correlation", "exact", "leakage");
        check(spark, r, runDir, AuditJob.EXACT, "Exact duplicates", "The same bytes (SHA-256) at several paths.",
                t -> t.orderBy("image_id", "path"), "image_id", "path", "copies");
        check(spark, r, runDir, AuditJob.UNREADABLE, "Unreadable files", "The features job's error rows.",
                t -> t.orderBy("path"), "path", "stage", "reason");
        check(spark, r, runDir, AuditJob.OUTLIERS, "Outliers", "Images in the top " + 100 * o.outlierFraction()
                        + " % of either measure: fc7, the distance to the " + o.k() + "-th neighbour (1 − cosine); thumbnail, "
                        + "the distance from the image's 16×16 grey thumbnail to the " + o.k() + "-th nearest other content's "
                        + "(1 − correlation), where images the model maps among the classes (noise) stand apart.",
                List.of(new View("by fc7: ", t -> t.where(col("flagged_by").contains("fc7")).orderBy(col("kth_distance").desc())),
                        new View("by thumbnail: ", t -> t.where(col("flagged_by").contains("thumbnail"))
                                .orderBy(col("thumbnail_kth_distance").desc()))),
                "path", "label", "flagged_by", "kth_distance", "thumbnail_kth_distance");
        check(spark, r, runDir, AuditJob.QUALITY, "Quality flags", String.format(Locale.ROOT,
                        "dark: the brightest 1 %% of pixels below %.2f (99th percentile of grey, 0–1); bright: the darkest 5 %% above %.2f; "
                                + "blurry: Laplacian variance over grey variance (at most 64 px) < %.2f; tiny: a side < %d px; "
                                + "extreme aspect > %.1f; grey in a colour set.", o.dark(), o.bright(), o.blurRelative(), o.tinySide(),
                        o.extremeAspect()),
                t -> t.where(org.apache.spark.sql.functions.size(col("flags")).gt(0)).orderBy("path"), "path", "flags", "brightness_p99",
                "brightness_p5", "relative_laplacian_variance", "mean_intensity");
        check(spark, r, runDir, AuditJob.BALANCE, "Class balance", "Each label's share of the collection, now and at the previous audit.",
                t -> t.orderBy("label"), "label", "images", "share", "previous_share", "change");
        check(spark, r, runDir, AuditJob.CONFIDENCE, "Prediction confidence", "The model's top-1 probability, in tenths.",
                t -> t.orderBy("from"), "from", "to", "images");
        check(spark, r, runDir, AuditJob.DRIFT, "Drift", "Images added since the previous audit against that audit's snapshot: "
                        + "linear-time MMD (Gaussian kernel, median bandwidth) on unit fc7; a one-sided normal p-value.",
                t -> t, "reference_images", "new_images", "pairs", "mmd2", "z", "p_value", "drifted");
        List<HtmlReport.Row> cost = new ArrayList<>();
        s.seconds().forEach((k, v) -> cost.add(new HtmlReport.Row(List.of(Cell.text(k), Cell.number(f(v))))));
        r.add(new Section("cost", "Time per step", "Seconds on the driver's clock.",
                List.of(new Table("seconds", List.of("step", "s"), cost, null)), List.of()));
        return r.render();
    }

    /** One table of a check's section: its rows chosen and ordered by {@code rows}, its caption led by {@code caption}. */
    private record View(String caption, java.util.function.UnaryOperator<Dataset<Row>> rows) {
    }

    private static void check(SparkSession spark, HtmlReport r, String runDir, String table, String title, String text,
                              java.util.function.UnaryOperator<Dataset<Row>> order, String... columns) {
        check(spark, r, runDir, table, title, text, List.of(new View("", order)), columns);
    }

    /** A check's section: one table per view of its rows, the first {@link #ROWS} of each. */
    private static void check(SparkSession spark, HtmlReport r, String runDir, String table, String title, String text,
                              List<View> views, String... columns) {
        Dataset<Row> t = TableReader.table(spark, runDir, table).orElse(null);
        if (t == null) {
            return;
        }
        List<Table> tables = new ArrayList<>();
        for (View view : views) {
            tables.add(firstRows(view.rows().apply(t), table, view.caption(), columns));
        }
        r.add(new Section(table, title, text, tables, List.of()));
    }

    private static Table firstRows(Dataset<Row> sel, String table, String caption, String... columns) {
        long total = sel.count();
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row x : sel.selectExpr(quoted(columns)).limit(ROWS).collectAsList()) {
            List<Cell> cells = new ArrayList<>();
            for (int i = 0; i < columns.length; i++) {
                Object v = x.get(i);
                if (v instanceof Double d) {
                    cells.add(Cell.number(String.format(Locale.ROOT, "%.4g", d)));
                } else if (v instanceof Number num) {
                    cells.add(Cell.number(String.valueOf(num)));
                } else if (v instanceof scala.collection.Seq<?> seq) {
                    cells.add(Cell.text(seq.mkString(", ")));
                } else {
                    cells.add(Cell.text(v instanceof String str && str.contains("/") && columns[i].startsWith("path")
                            ? shortPath(str) : v));
                }
            }
            rows.add(new HtmlReport.Row(cells));
        }
        return new Table(caption + total + " row(s)", List.of(columns), rows,
                total > ROWS ? (total - ROWS) + " more in the table " + table : null);
    }

    private static String[] quoted(String[] columns) {
        String[] q = new String[columns.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = "`" + columns[i] + "`";
        }
        return q;
    }

    /** The last three parts of a path (split / class / file). */
    static String shortPath(String p) {
        String[] parts = p.split("/");
        int from = Math.max(0, parts.length - 3);
        return String.join("/", java.util.Arrays.copyOfRange(parts, from, parts.length));
    }

    private static String examples(Object list) {
        if (!(list instanceof List<?> l) || l.isEmpty()) {
            return "";
        }
        List<String> out = new ArrayList<>();
        for (Object o : l.subList(0, Math.min(3, l.size()))) {
            String s = String.valueOf(o);
            out.add(s.contains(" | ") ? shortPath(s.split(" \\| ")[0]) + " | " + shortPath(s.split(" \\| ")[1]) : shortPath(s));
        }
        return String.join("; ", out);
    }

    private static HtmlReport.Row row(String what, String value) {
        return new HtmlReport.Row(List.of(Cell.text(what), Cell.text(value)));
    }

    static String f(Double v) {
        if (v == null) {
            return "-";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.valueOf(v.longValue());
        }
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
