package io.cnnlens.jobs.synthesis;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.model.ModelTaps;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.FileNames;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import io.cnnlens.synthesis.ClassVisualisation;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The classviz job: one gradient-ascent visualisation per class (or per channel of a conv tap),
 * one Spark task each, so classes spread over executors. Writes {@code <out>/classviz/} (target,
 * score, probability, settings, image PNG) and {@code <out>/pictures/classviz/} (one PNG per
 * target and a grid).
 */
public final class ClassvizJob implements Job<ClassvizOptions> {

    public static final String TABLE = "classviz";
    public static final String PICTURES = "pictures/classviz";

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("tap", DataTypes.StringType, false),
            DataTypes.createStructField("target", DataTypes.StringType, false),
            DataTypes.createStructField("target_index", DataTypes.IntegerType, false),
            DataTypes.createStructField("score", DataTypes.DoubleType, false),
            DataTypes.createStructField("probability", DataTypes.DoubleType, true),
            DataTypes.createStructField("seconds", DataTypes.DoubleType, false),
            DataTypes.createStructField("settings", DataTypes.StringType, false),
            DataTypes.createStructField("image", DataTypes.BinaryType, false)});

    /** One visualisation. */
    public record Result(String target, int index, double score, double probability, double seconds) {
    }

    /** What it did. */
    public record Summary(List<Result> results, double seconds, String table, String pictures) {
        public String line() {
            return String.format(Locale.ROOT, "classviz: %d targets, %.1f s", results.size(), seconds);
        }
    }

    @Override
    public String name() {
        return "classviz";
    }

    @Override
    public String[] description() {
        return new String[] {"Images that maximise a class score (Simonyan 2014) with Yosinski 2015's regularisers, one Spark task per "
                + "class; with --tap, one channel of a conv layer instead.",
                "Writes <out>/classviz/ (tap, target, target_index, score, probability, seconds, settings, image PNG) and "
                        + "<out>/pictures/classviz/ (one PNG per target and classviz-grid.png)."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return ClassvizOptions.KEYS;
    }

    @Override
    public ClassvizOptions options(OptionValues values) {
        return ClassvizOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, PICTURES);
    }

    /** The conv tap asked for is absent or not a conv map; or, for classes, the model does not output its logits tap. */
    @Override
    public Optional<String> cannotRun(JobContext context, ClassvizOptions options) {
        LoadedModel m = ExecutorRuntime.model(options.model(), context.hadoop().get(), true);
        if (options.tap() != null) {
            return ModelTaps.notConv(m, options.tap());
        }
        String logits = m.spec().logitsTap();
        return m.hasTap(logits) ? Optional.empty() : Optional.of(ModelTaps.missing(m, logits) + " (the spec's taps.logits)");
    }

    @Override
    public JobResult run(JobContext context, ClassvizOptions options) {
        Summary s = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        for (Result r : s.results()) {
            details.add(String.format(Locale.ROOT, "classviz: %-14s score %8.2f  probability %s  %.1f s", r.target(), r.score(),
                    Double.isNaN(r.probability()) ? "-" : String.format(Locale.ROOT, "%.4f", r.probability()), r.seconds()));
        }
        details.add("classviz: " + s.table());
        details.add("pictures: " + s.pictures());
        return new JobResult(s.line(), details);
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        // the grid holds every class; the one-class PNGs beside it are for other uses
        return report.pictures("classviz", "Class visualisations", "Images that maximise a class score under the regularisers.",
                List.of(), name -> name.endsWith("-grid.png"));
    }

    /**
     * Its {@code tap} is null for classes (the logits), or a conv tap whose channels are the
     * targets; its {@code targets} are class names or indices (channel indices for a conv tap),
     * empty for every class.
     */
    public static Summary run(SparkSession spark, ClassvizOptions o) {
        String out = o.out();
        String model = o.model();
        String tap = o.tap();
        List<String> targets = o.targets();
        ClassVisualisation cv = o.visualisation();
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
        ModelSpec spec = m.spec();
        String t = tap == null ? spec.logitsTap() : tap;
        List<Integer> idx = new ArrayList<>();
        if (targets == null || targets.isEmpty()) {
            if (tap != null) {
                throw new IllegalArgumentException("give --targets (channel indices) for a conv tap");
            }
            for (int i = 0; i < spec.classes(); i++) {
                idx.add(i);
            }
        } else {
            for (String s : targets) {
                int i = tap == null ? spec.labels().indexOf(s.strip()) : -1;
                if (i < 0 && s.strip().matches("\\d+")) {
                    i = Integer.parseInt(s.strip());
                }
                int limit = tap == null ? spec.classes() : m.convShape(t)[0];
                if (i < 0 || i >= limit) {
                    throw new IllegalArgumentException("unknown target '" + s + "' (" + (tap == null ? "classes 0.." : "channels 0..")
                            + (limit - 1) + ")");
                }
                idx.add(i);
            }
        }
        String settings = String.format(Locale.ROOT, "iterations %d, lr %.0f, L2 decay %.0e, blur σ %.1f every %d, norm pct %.0f, "
                        + "contribution pct %.0f, seed %d", cv.iterations(), cv.learningRate(), cv.decay(), cv.blurRadius(), cv.blurEvery(),
                cv.normPercentile(), cv.contributionPercentile(), cv.seed());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Row> rows = new ArrayList<>(jsc.parallelize(idx, idx.size()).map(i -> {
            LoadedModel lm = ExecutorRuntime.model(model, hadoop.get(), true);
            long ts = System.nanoTime();
            try (ModelForward f = lm.newForward()) {
                ClassVisualisation.Result r = cv.run(f, t, i);
                ModelSpec sp = lm.spec();
                byte[] png = PngWriter.encode(ImageGrid.toImage(new Pixels(sp.width(), sp.height(), sp.channels(), r.pixels())));
                String name = t.equals(sp.logitsTap()) ? sp.labels().get(i) : t + " channel " + i;
                return RowFactory.create(t, name, i, r.score(), Double.isNaN(r.probability()) ? null : r.probability(),
                        (System.nanoTime() - ts) / 1e9, settings, png);
            }
        }).collect());
        rows.sort(Comparator.comparingInt(r -> r.getInt(2)));
        List<Result> results = new ArrayList<>();
        List<ImageGrid.Tile> tiles = new ArrayList<>();
        try (TableCommitter c = new TableCommitter(spark, out, "classviz")) {
            for (Row r : rows) {
                results.add(new Result(r.getString(1), r.getInt(2), r.getDouble(3), r.isNullAt(4) ? Double.NaN : r.getDouble(4), r.getDouble(5)));
                c.writeFile(PICTURES, FileNames.safe(r.getString(1)) + ".png", (byte[]) r.get(7));
                tiles.add(new ImageGrid.Tile(PngWriter.decode((byte[]) r.get(7)), r.isNullAt(4) ? String.format(Locale.ROOT, "%s %.1f",
                        r.getString(1), r.getDouble(3)) : String.format(Locale.ROOT, "%s p=%.3f", r.getString(1), r.getDouble(4)), null));
            }
            List<List<ImageGrid.Tile>> grid = new ArrayList<>();
            for (int i = 0; i < tiles.size(); i += 5) {
                grid.add(tiles.subList(i, Math.min(tiles.size(), i + 5)));
            }
            c.writeFile(PICTURES, "classviz-grid.png", PngWriter.encode(ImageGrid.render("class visualisations (" + settings + ")", null,
                    grid, 140)));
            spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging(TABLE));
            c.commit(List.of(TABLE, PICTURES));
            return new Summary(results, (System.nanoTime() - t0) / 1e9, c.finalPath(TABLE), c.finalPath(PICTURES));
        }
    }
}
