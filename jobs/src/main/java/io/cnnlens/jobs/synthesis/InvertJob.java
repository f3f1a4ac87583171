package io.cnnlens.jobs.synthesis;

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
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.InputRow;
import io.cnnlens.model.ModelTaps;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.stats.Correlation;
import io.cnnlens.synthesis.FeatureInversion;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code cnnlens invert}: reconstruct a few images from one or more layers' features, on the
 * driver; inputs that fail to read or decode go to {@code <out>/invert_errors}. Inputs = images
 * reconstructed + errors, checked before the commit.
 */
public final class InvertJob implements Job<InvertOptions> {

    public static final String TABLE = "invert";
    public static final String PICTURES = "pictures/invert";
    /** The grid shows at most this many images (a row each); the table has them all. */
    public static final int GRID_IMAGES = 64;
    /** Reconstruction rows are written to the table this many images at a time, so the driver never holds them all. */
    static final int WRITE_EVERY = 256;

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("layer", DataTypes.StringType, false),
            DataTypes.createStructField("feature_error", DataTypes.DoubleType, false),
            DataTypes.createStructField("pixel_correlation", DataTypes.DoubleType, false),
            DataTypes.createStructField("reconstruction", DataTypes.BinaryType, false)});

    /** One reconstruction. */
    public record Reconstruction(String path, String layer, double featureError, double pixelCorrelation) {
        public String line() {
            return String.format(Locale.ROOT, "invert: %s from %s: feature error %.4f, pixel correlation %.3f",
                    path.substring(path.lastIndexOf('/') + 1), layer, featureError, pixelCorrelation);
        }
    }

    /** What it did. */
    public record Summary(List<String> layers, String note, long inputs, long images, long errors, List<Reconstruction> first,
                          String table, String pictures, String errorsPath) {
        public String line() {
            return "invert: " + images + " image(s), layers " + String.join(",", layers);
        }
    }

    /** The layers inverted, and a note when they are not the defaults. */
    record Layers(List<String> taps, String note) {
    }

    @Override
    public String name() {
        return "invert";
    }

    @Override
    public String[] description() {
        return new String[] {"Feature inversion (Mahendran & Vedaldi 2015): for a few images, reconstruct the image from one or more "
                + "layers' features with a total-variation prior.",
                "Writes <out>/invert/ (path, layer, feature_error, pixel_correlation, reconstruction PNG), "
                        + "<out>/pictures/invert/invert-grid.png (original | one reconstruction per layer) and <out>/invert_errors/ "
                        + "(path, stage, reason) for inputs that cannot be read or decoded."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return InvertOptions.KEYS;
    }

    @Override
    public InvertOptions options(OptionValues values) {
        return InvertOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, PICTURES, errorsTable());
    }

    /** The old pipeline reconstructed two images. */
    @Override
    public OptionValues inRun(OptionValues run) {
        return run.with(InvertOptions.SAMPLE, 2);
    }

    /** A layer asked for is not an output of the model, or (by default) the model outputs none of the default layers nor a conv map. */
    @Override
    public Optional<String> cannotRun(JobContext context, InvertOptions options) {
        try {
            layers(ExecutorRuntime.model(options.model(), context.hadoop().get(), true), options.layers());
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    @Override
    public JobResult run(JobContext context, InvertOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        List<String> notes = s.note() == null ? List.of() : List.of("invert: " + s.note());
        s.first().forEach(r -> details.add(r.line()));
        if (s.images() > GRID_IMAGES) {
            details.add("invert: " + (s.images() - GRID_IMAGES) + " more image(s) in " + s.table());
        }
        details.add("pictures: " + s.pictures());
        details.add("errors: " + s.errorsPath() + " (" + s.errors() + " rows)");
        return new JobResult(s.line(), details, notes);
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("invert", "Feature inversion", "Images reconstructed from each layer's features with a total-variation prior.",
                List.of());
    }

    /**
     * The taps to invert: {@code layers} when given (each an output of the model); else the
     * spec's first conv, conv and features taps that the model outputs, or its first conv map
     * when it outputs none of them. An {@link IllegalArgumentException} says why none will do.
     */
    static Layers layers(LoadedModel m, List<String> layers) {
        if (!layers.isEmpty()) {
            for (String l : layers) {
                if (!m.hasTap(l)) {
                    throw new IllegalArgumentException(ModelTaps.missing(m, l));
                }
            }
            return new Layers(layers, null);
        }
        ModelSpec spec = m.spec();
        List<String> defaults = List.of(spec.firstConvTap(), spec.convTap(), spec.featuresTap()).stream().distinct().toList();
        List<String> present = defaults.stream().filter(m::hasTap).toList();
        if (present.size() == defaults.size()) {
            return new Layers(present, null);
        }
        List<String> absent = defaults.stream().filter(t -> !m.hasTap(t)).toList();
        String why = "model " + spec.name() + " has no output " + String.join(", ", absent.stream().map(t -> "'" + t + "'").toList())
                + "; it has " + m.taps().keySet();
        if (!present.isEmpty()) {
            return new Layers(present, "layers " + String.join(",", present) + " (" + why + ")");
        }
        String conv = ModelTaps.firstConv(m).orElseThrow(() -> new IllegalArgumentException(why + ", none a conv map; give --layers"));
        return new Layers(List.of(conv), "layer " + conv + ", the model's first conv tap (" + why + ")");
    }

    public static Summary run(SparkSession spark, InvertOptions o) {
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel m = ExecutorRuntime.model(o.model(), hadoop.get(), true);
        ModelSpec spec = m.spec();
        Layers layers = layers(m, o.layers());
        List<String> taps = layers.taps();
        FeatureInversion inv = o.inversion();
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(o.input().maxPixels());
        List<Row> rows = new ArrayList<>();
        List<Reconstruction> first = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        long inputs = 0;
        long images = 0;
        String errorsTable = new InvertJob().errorsTable();
        try (ModelForward f = m.newForward(); TableCommitter c = new TableCommitter(spark, o.out(), "invert")) {
            ErrorChannel channel = ErrorChannel.open(c, errorsTable, hadoop);
            Iterator<Row> chosen = DriverImages.chosen(ImageSource.read(spark, o.input().images(), o.input().source()).partitioned().apply(0),
                    o.sample());
            try (ErrorStash.Writer errors = channel.writer()) {
                while (chosen.hasNext()) {
                    InputRow in = InputRow.of(chosen.next());
                    inputs++;
                    Pixels decoded = DriverImages.decode(in, o.input(), d, hadoop.get(), errors);
                    if (decoded == null) {
                        continue;
                    }
                    String path = in.path();
                    Pixels p = pre.modelPixels(decoded);
                    List<ImageGrid.Tile> tiles = new ArrayList<>();
                    tiles.add(new ImageGrid.Tile(ImageGrid.toImage(p), "original", null));
                    for (String tap : taps) {
                        FeatureInversion.Result res = inv.run(f, p.data(), tap);
                        double corr = Correlation.pearson(p.data(), res.pixels());
                        byte[] png = PngWriter.encode(ImageGrid.toImage(new Pixels(p.width(), p.height(), p.channels(), res.pixels())));
                        rows.add(RowFactory.create(path, tap, res.featureError(), corr, png));
                        if (images < GRID_IMAGES) {
                            first.add(new Reconstruction(path, tap, res.featureError(), corr));
                            tiles.add(new ImageGrid.Tile(PngWriter.decode(png), String.format(Locale.ROOT, "%s: err %.3f", tap,
                                    res.featureError()), null));
                        }
                    }
                    if (images < GRID_IMAGES) {
                        grid.add(tiles);
                        labels.add(path.substring(path.lastIndexOf('/') + 1));
                    }
                    images++;
                    if (images % WRITE_EVERY == 0) {
                        write(spark, rows, c);
                    }
                }
                errors.publish();
            }
            if (inputs == 0) {
                throw new IllegalArgumentException("no images under " + o.input().images());
            }
            write(spark, rows, c);
            long errorRows = channel.commitTable(spark, c);
            if (images + errorRows != inputs) {
                throw new IllegalStateException("counts do not reconcile: " + inputs + " inputs but " + images + " images reconstructed + "
                        + errorRows + " errors; nothing was committed");
            }
            List<String> commit = new ArrayList<>(List.of(TABLE, errorsTable));
            if (images > 0) {
                String title = "feature inversion: original | reconstruction from each layer (err = relative feature error)"
                        + (images > GRID_IMAGES ? String.format(Locale.ROOT, "; the first %d of %d images", GRID_IMAGES, images) : "");
                c.writeFile(PICTURES, "invert-grid.png", PngWriter.encode(ImageGrid.render(title, labels, grid, 112)));
                commit.add(PICTURES);
            }
            c.commit(commit);
            return new Summary(taps, layers.note(), inputs, images, errorRows, first, c.finalPath(TABLE), c.finalPath(PICTURES),
                    c.finalPath(errorsTable));
        }
    }

    /** Appends the rows held so far to the staged table (an empty table the first time there are none) and forgets them. */
    private static void write(SparkSession spark, List<Row> rows, TableCommitter c) {
        String dir = c.staging(TABLE);
        boolean exists;
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir);
            exists = p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (rows.isEmpty() && exists) {
            return;
        }
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(exists ? SaveMode.Append : SaveMode.ErrorIfExists).parquet(dir);
        rows.clear();
    }
}
