package io.cnnlens.jobs.pictures;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.FileNames;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.image.PngWriter;
import io.cnnlens.model.ConvWeights;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.plot.FilterGrid;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens filters}: the first conv layer's filters (or a higher layer's, per input channel) as a picture. */
@Command(name = "filters", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draw a conv layer's filters: the first layer's as one grid (each filter min–max scaled; colour for 3-channel "
                + "input, grey otherwise), or with --layer a higher layer's as grey tiles per input channel.",
                "Writes <out>/pictures/filters/<layer>/filters.png. Runs on the driver (no Spark job)."})
public final class FiltersCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--layer", description = "A higher conv layer (stage or parameter name) to draw per input channel. Default: the first conv layer")
    String layer;

    @Option(names = "--max-filters", defaultValue = "32", description = "Higher layers: filters (rows) drawn. Default: ${DEFAULT-VALUE}")
    int maxFilters;

    @Option(names = "--max-inputs", defaultValue = "32", description = "Higher layers: input channels (columns) drawn. Default: ${DEFAULT-VALUE}")
    int maxInputs;

    @Override
    public Integer call() {
        System.out.println("picture: " + draw(model, out, layer, maxFilters, maxInputs, new Configuration()));
        return 0;
    }

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("filters", "First-layer filters and higher-layer filters",
                "Each filter min–max scaled on its own (colour for 3-channel input).", List.of());
    }

    /** Draws the filters; returns the picture's path. */
    public static String draw(String model, String out, String layer, int maxFilters, int maxInputs, Configuration conf) {
        LoadedModel m = ExecutorRuntime.model(model, conf, false);
        ConvWeights w = ConvWeights.of(m, layer);
        String name = "filters.png";
        String dir = FilterPictures.FILTERS + "/" + FileNames.safe(w.layer()); // one folder per layer: drawing another layer keeps this one
        try (TableCommitter c = new TableCommitter(out, conf)) {
            String title = String.format(Locale.ROOT, "%s %s: %d filters, %d×%d×%d", m.spec().name(), w.layer(), w.out(), w.in(), w.kh(), w.kw());
            byte[] png = PngWriter.encode(layer == null
                    ? FilterGrid.firstLayer(title, w.values(), w.out(), w.in(), w.kh(), w.kw(), Math.max(36, w.kh() * 6))
                    : FilterGrid.perInputChannel(title, w.values(), w.out(), w.in(), w.kh(), w.kw(), maxFilters, maxInputs, Math.max(24, w.kh() * 6)));
            c.writeFile(dir, name, png);
            c.commit(List.of(dir));
            System.out.println("filters: " + w.layer() + " " + w.out() + " filters of " + w.in() + "×" + w.kh() + "×" + w.kw());
            return c.finalPath(dir) + "/" + name;
        }
    }

    static final class FilterPictures {
        static final String FILTERS = "pictures/filters";

        private FilterPictures() {
        }
    }
}
