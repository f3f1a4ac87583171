package io.cnnlens.jobs.pictures;

import io.cnnlens.image.PngWriter;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.FileNames;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.model.ConvWeights;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.plot.FilterGrid;
import io.cnnlens.report.HtmlReport.Section;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** {@code cnnlens filters}: the first conv layer's filters (or a higher layer's, per input channel) as a picture. */
public final class FiltersJob implements Job<FiltersOptions> {

    /** Its pictures: one folder per layer below this. */
    public static final String PICTURES = "pictures/filters";

    /** What it drew. */
    public record Summary(String layer, int filters, int in, int kh, int kw, String picture) {
        public String line() {
            return "filters: " + layer + " " + filters + " filters of " + in + "×" + kh + "×" + kw;
        }
    }

    @Override
    public String name() {
        return "filters";
    }

    @Override
    public String[] description() {
        return new String[] {"Draw a conv layer's filters: the first layer's as one grid (each filter min–max scaled; colour for 3-channel "
                + "input, grey otherwise), or with --layer a higher layer's as grey tiles per input channel.",
                "Writes <out>/pictures/filters/<layer>/filters.png. Runs on the driver (no Spark job)."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return FiltersOptions.KEYS;
    }

    @Override
    public FiltersOptions options(OptionValues values) {
        return FiltersOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(PICTURES);
    }

    /** The model exposes no conv weights (or not the layer asked for). */
    @Override
    public Optional<String> cannotRun(JobContext context, FiltersOptions options) {
        LoadedModel m = ExecutorRuntime.model(options.model(), context.hadoop().get(), false);
        try {
            ConvWeights.of(m, options.layer());
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(options.layer() == null
                    ? "model " + m.spec().name() + " exposes no conv weights (no conv stage or 4-D parameter), so it has no filters to draw"
                    : e.getMessage());
        }
    }

    @Override
    public JobResult run(JobContext context, FiltersOptions options) {
        Summary s = draw(options, context.spark());
        return JobResult.of(s.line(), "picture: " + s.picture());
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("filters", "First-layer filters and higher-layer filters",
                "Each filter min–max scaled on its own (colour for 3-channel input).", List.of());
    }

    /** Draws the filters into {@code <out>/pictures/filters/<layer>/filters.png}. */
    public static Summary draw(FiltersOptions o, org.apache.spark.sql.SparkSession spark) {
        LoadedModel m = ExecutorRuntime.model(o.model(), spark.sparkContext().hadoopConfiguration(), false);
        ConvWeights w = ConvWeights.of(m, o.layer());
        String name = "filters.png";
        String dir = PICTURES + "/" + FileNames.safe(w.layer()); // one folder per layer: drawing another layer keeps this one
        try (TableCommitter c = new TableCommitter(spark, o.out(), "filters")) {
            String title = String.format(Locale.ROOT, "%s %s: %d filters, %d×%d×%d", m.spec().name(), w.layer(), w.out(), w.in(), w.kh(), w.kw());
            byte[] png = PngWriter.encode(o.layer() == null
                    ? FilterGrid.firstLayer(title, w.values(), w.out(), w.in(), w.kh(), w.kw(), Math.max(36, w.kh() * 6))
                    : FilterGrid.perInputChannel(title, w.values(), w.out(), w.in(), w.kh(), w.kw(), o.maxFilters(), o.maxInputs(),
                            Math.max(24, w.kh() * 6)));
            c.writeFile(dir, name, png);
            c.commit(List.of(dir));
            return new Summary(w.layer(), w.out(), w.in(), w.kh(), w.kw(), c.finalPath(dir) + "/" + name);
        }
    }
}
