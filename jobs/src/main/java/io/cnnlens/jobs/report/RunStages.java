package io.cnnlens.jobs.report;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@code run} did with each stage: ran (with its summary line), skipped (why) or failed (the
 * error), as the table {@code <out>/run_stages}, which the report shows first.
 */
public final class RunStages {

    public static final String TABLE = "run_stages";

    static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("stage", DataTypes.StringType, false),
            DataTypes.createStructField("status", DataTypes.StringType, false),
            DataTypes.createStructField("seconds", DataTypes.DoubleType, false),
            DataTypes.createStructField("note", DataTypes.StringType, true)});

    /** One stage's outcome: status is {@code ran}, {@code skipped} or {@code failed}; note the summary or the reason. */
    public record Stage(String stage, String status, double seconds, String note) {
    }

    private RunStages() {
    }

    public static void write(SparkSession spark, String out, List<Stage> stages) {
        List<Row> rows = new ArrayList<>();
        stages.forEach(s -> rows.add(RowFactory.create(s.stage(), s.status(), s.seconds(), s.note())));
        try (TableCommitter c = new TableCommitter(spark, out, "run")) {
            spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging(TABLE));
            c.commit(List.of(TABLE));
        }
    }

    /** The report's first section: every stage of the last run, the skipped and failed ones with their reasons. */
    static Optional<Section> section(ReportContext report) {
        return report.table(TABLE).map(t -> {
            List<HtmlReport.Row> rows = new ArrayList<>();
            long notRun = 0;
            for (Row r : t.collectAsList()) {
                String status = r.getString(1);
                notRun += status.equals("ran") ? 0 : 1;
                rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.text(status),
                        Cell.number(String.format(Locale.ROOT, "%.1f", r.getDouble(2))), Cell.text(r.isNullAt(3) ? "" : r.getString(3)))));
            }
            String text = notRun == 0 ? "Every stage of the run ran." : notRun + " stage(s) did not run; the reasons are below.";
            return new Section("stages", "Stages", text,
                    List.of(new Table("stages of the run", List.of("stage", "status", "seconds", "summary or reason"), rows, null)),
                    List.of());
        });
    }
}
