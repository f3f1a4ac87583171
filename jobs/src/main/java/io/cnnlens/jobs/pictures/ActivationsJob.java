package io.cnnlens.jobs.pictures;

import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.DriverImages;
import io.cnnlens.jobs.spark.ErrorChannel;
import io.cnnlens.jobs.spark.ErrorStash;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.FileNames;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.InputRow;
import io.cnnlens.model.ModelTaps;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.FilterGrid;
import io.cnnlens.report.HtmlReport.Section;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static org.apache.spark.sql.functions.col;

/**
 * {@code cnnlens activations}: every channel's feature map of a conv layer for chosen images, one
 * picture each, drawn on the driver; inputs that fail to read or decode go to
 * {@code <out>/activations_errors}. Inputs = pictures + errors, checked before the commit.
 */
public final class ActivationsJob implements Job<ActivationsOptions> {

    public static final String PICTURES = "pictures/activations";

    /** What it drew: the layer (and why it is not the spec's, if so), pictures and errors written. */
    public record Summary(String layer, String note, long inputs, long pictures, long errors, String picturesPath, String errorsPath) {
        public String line() {
            return "activations: " + pictures + " image(s), layer " + layer;
        }
    }

    /** The layer drawn, and a note when it is not the one the spec names. */
    record Layer(String tap, String note) {
    }

    @Override
    public String name() {
        return "activations";
    }

    @Override
    public String[] description() {
        return new String[] {"For a few images and a conv layer, every channel's feature map as a grid of grey tiles beside the input.",
                "Writes <out>/pictures/activations/<layer>/<n>-<file name>.png, and <out>/activations_errors/ (path, stage, reason) "
                        + "for inputs that cannot be read or decoded."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return ActivationsOptions.KEYS;
    }

    @Override
    public ActivationsOptions options(OptionValues values) {
        return ActivationsOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(PICTURES, errorsTable());
    }

    /** The old pipeline drew two images. */
    @Override
    public OptionValues inRun(OptionValues run) {
        return run.with(ActivationsOptions.SAMPLE, 2);
    }

    /** The layer asked for is absent or not a conv map, or (by default) the model outputs no conv map at all. */
    @Override
    public Optional<String> cannotRun(JobContext context, ActivationsOptions options) {
        try {
            layer(ExecutorRuntime.model(options.model(), context.hadoop().get(), false), options.layer());
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    @Override
    public JobResult run(JobContext context, ActivationsOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        List<String> notes = s.note() == null ? List.of() : List.of("activations: " + s.note());
        details.add("pictures: " + s.picturesPath());
        details.add("errors: " + s.errorsPath() + " (" + s.errors() + " rows)");
        return new JobResult(s.line(), details, notes);
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("activations", "Activation maps",
                "Every channel of a layer for a few images, on one scale per image.", List.of());
    }

    /**
     * The conv tap to draw: {@code layer} when given (it must be a conv map the model outputs);
     * else the spec's {@code taps.first-conv}, or the first conv map the model outputs when it
     * does not output that one. An {@link IllegalArgumentException} says why none will do.
     */
    static Layer layer(LoadedModel m, String layer) {
        if (layer != null) {
            ModelTaps.notConv(m, layer).ifPresent(reason -> {
                throw new IllegalArgumentException(reason);
            });
            return new Layer(layer, null);
        }
        String first = m.spec().firstConvTap();
        if (ModelTaps.notConv(m, first).isEmpty()) {
            return new Layer(first, null);
        }
        String conv = ModelTaps.firstConv(m).orElseThrow(() -> new IllegalArgumentException("model " + m.spec().name()
                + " outputs no conv map (C×H×W) to draw: its taps are " + m.taps().keySet()));
        return new Layer(conv, "layer " + conv + ", the model's first conv tap (" + ModelTaps.notConv(m, first).get() + ")");
    }

    /** Draws the activation pictures. */
    public static Summary run(SparkSession spark, ActivationsOptions o) {
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel m = ExecutorRuntime.model(o.model(), hadoop.get(), false);
        ModelSpec spec = m.spec();
        Layer layer = layer(m, o.layer());
        String tap = layer.tap();
        Dataset<Row> rows = ImageSource.read(spark, o.input().images(), o.input().source()).partitioned().apply(0);
        if (o.pathPattern() != null) {
            rows = rows.filter(col("path").rlike(o.pathPattern()));
        }
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(o.input().maxPixels());
        long inputs = 0;
        long written = 0;
        String dir = PICTURES + "/" + FileNames.safe(tap); // one folder per layer
        String errorsTable = new ActivationsJob().errorsTable();
        try (TableCommitter c = new TableCommitter(spark, o.out(), "activations"); ModelForward f = m.newForward()) {
            ErrorChannel channel = ErrorChannel.open(c, errorsTable, hadoop);
            try (ErrorStash.Writer errors = channel.writer()) {
                for (Iterator<Row> it = DriverImages.chosen(rows, o.sample()); it.hasNext(); ) {
                    InputRow in = InputRow.of(it.next());
                    inputs++;
                    Pixels p = DriverImages.decode(in, o.input(), d, hadoop.get(), errors);
                    if (p == null) {
                        continue;
                    }
                    ModelForward.Outputs out = f.run(pre.apply(p), 1, List.of(tap), List.of());
                    int[] sh = out.shape(tap);
                    String path = in.path();
                    String base = path.substring(path.lastIndexOf('/') + 1).replaceFirst("\\.[A-Za-z0-9]+$", "");
                    String file = String.format(Locale.ROOT, "%d-%s.png", written, FileNames.safe(base));
                    c.writeFile(dir, file, PngWriter.encode(FilterGrid.activations(
                            String.format(Locale.ROOT, "%s of %s: %d channels, %d×%d", tap, path.substring(path.lastIndexOf('/') + 1),
                                    sh[0], sh[1], sh[2]), pre.modelPixels(p), out.values(tap)[0], sh[0], sh[1], sh[2],
                            Math.max(40, sh[1] * 3))));
                    written++;
                }
                errors.publish();
            }
            if (inputs == 0) {
                throw new IllegalArgumentException("no images under " + o.input().images()
                        + (o.pathPattern() == null ? "" : " whose path matches " + o.pathPattern()));
            }
            long errorRows = channel.commitTable(spark, c);
            if (written + errorRows != inputs) {
                throw new IllegalStateException("counts do not reconcile: " + inputs + " inputs but " + written + " pictures + "
                        + errorRows + " errors; nothing was committed");
            }
            c.commit(written > 0 ? List.of(dir, errorsTable) : List.of(errorsTable));
            return new Summary(tap, layer.note(), inputs, written, errorRows, c.finalPath(dir), c.finalPath(errorsTable));
        }
    }
}
