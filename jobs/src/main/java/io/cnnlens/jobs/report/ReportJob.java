package io.cnnlens.jobs.report;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobRegistry;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
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

/**
 * The report: one static HTML page over a run folder ({@code <out>/report.html}). It leads with
 * the stages of the last {@code run} (which ran, which were skipped or failed and why), then asks
 * every registered job for its section (those whose outputs are in the folder give one), then
 * lists every job's errors table. Links are relative, so the folder can be moved or opened from
 * disk; the page is written aside and renamed into place.
 */
public final class ReportJob implements Job<ReportOptions> {

    public static final String NAME = "report";
    static final String PAGE = "report.html";
    private static final int MAX_ERROR_ROWS = 500;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {"Write <out>/report.html over a run folder: the run's stages, a section per job that ran there, "
                + "summary numbers, errors."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return ReportOptions.KEYS;
    }

    @Override
    public ReportOptions options(OptionValues values) {
        return ReportOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(PAGE);
    }

    @Override
    public JobResult run(JobContext context, ReportOptions options) {
        return JobResult.of("report: " + run(context.spark(), options.out()));
    }

    /** Where the page of the run folder {@code out} is. */
    public static String page(String out) {
        return new Path(out, PAGE).toString();
    }

    /** Writes the page; returns its path. */
    public static String run(SparkSession spark, String out) {
        Path root = new Path(out);
        FileSystem fs;
        try {
            fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(root)) {
                throw new IllegalArgumentException("no run folder at " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ReportContext context = new ReportContext(spark, fs, root);
        HtmlReport r = new HtmlReport("cnnlens run report", root.toString(),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        RunStages.section(context).ifPresent(r::add);
        List<Table> errors = new ArrayList<>();
        for (Job<?> job : JobRegistry.JOBS) {
            if (!job.name().equals(NAME)) {
                job.report(context).ifPresent(r::add);
                context.table(job.errorsTable()).ifPresent(e -> errors.add(errorTable(job.errorsTable(), e)));
            }
        }
        if (!errors.isEmpty()) {
            r.add(new Section("errors", "Errors", "Inputs that gave no result, and why.", errors, List.of()));
        }
        Path page = new Path(root, PAGE);
        Path tmp = new Path(root, "." + PAGE + ".tmp");
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
