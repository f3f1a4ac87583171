package io.cnnlens.jobs.synthesis;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.stats.Correlation;
import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import io.cnnlens.synthesis.FeatureInversion;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/** {@code cnnlens invert}: reconstruct images from a layer's features. */
@Command(name = "invert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Feature inversion (Mahendran & Vedaldi 2015): for a few images, reconstruct the image from one or more "
                + "layers' features with a total-variation prior.",
                "Writes <out>/invert/ (path, layer, feature_error, pixel_correlation, reconstruction PNG) and "
                        + "<out>/pictures/invert/invert-grid.png (original | one reconstruction per layer)."})
public final class InvertCommand implements Callable<Integer> {

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("layer", DataTypes.StringType, false),
            DataTypes.createStructField("feature_error", DataTypes.DoubleType, false),
            DataTypes.createStructField("pixel_correlation", DataTypes.DoubleType, false),
            DataTypes.createStructField("reconstruction", DataTypes.BinaryType, false)});

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Images (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--layers", split = ",", description = "Taps to invert. Default: the spec's first conv tap, conv tap and features tap")
    List<String> layers;

    @Option(names = "--sample", defaultValue = "4", description = "Images (a fixed sample by path hash). Default: ${DEFAULT-VALUE}")
    int sample;

    @Option(names = "--iterations", defaultValue = "400", description = "Default: ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--lr", defaultValue = "0.02", description = "Adam step on the 0..1 pixel scale. Default: ${DEFAULT-VALUE}")
    double lr;

    @Option(names = "--tv", defaultValue = "20", description = "Total-variation weight λ. Default: ${DEFAULT-VALUE}")
    double tv;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("invert", "Feature inversion", "Images reconstructed from each layer's features with a total-variation prior.", List.of());
    }

    @Override
    public Integer call() {
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens invert", master)) {
            System.out.println("pictures: " + run(h.spark(), images, out, model, layers, sample, new FeatureInversion(iterations, lr, tv, 1)));
            return 0;
        }
    }

    public static String run(SparkSession spark, String images, String out, String model, List<String> layers, int sample, FeatureInversion inv) {
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
        ModelSpec spec = m.spec();
        List<String> taps = layers == null || layers.isEmpty()
                ? List.of(spec.firstConvTap(), spec.convTap(), spec.featuresTap()).stream().distinct().toList() : layers;
        List<Row> chosen = ImageSource.sample(ImageSource.read(spark, images, ImageSource.Options.defaults()).partitioned().apply(0),
                Math.max(1, sample)).collectAsList();
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("no images under " + images);
        }
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(50_000_000L);
        List<Row> rows = new ArrayList<>();
        List<List<ImageGrid.Tile>> grid = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        try (ModelForward f = m.newForward(); TableCommitter c = new TableCommitter(out, hadoop.get())) {
            for (Row r : chosen) {
                String path = r.getString(0);
                Pixels p;
                try {
                    p = pre.modelPixels(d.decode(ImageBytes.read(path, r.isNullAt(2) ? -1 : r.getLong(2),
                            r.isNullAt(3) ? null : (byte[]) r.get(3), ImageBytes.MAX_BYTES, hadoop.get())));
                } catch (DecodeException e) {
                    System.out.println("invert: skipped " + path + ": " + e.getMessage());
                    continue;
                }
                List<ImageGrid.Tile> tiles = new ArrayList<>();
                tiles.add(new ImageGrid.Tile(ImageGrid.toImage(p), "original", null));
                for (String tap : taps) {
                    FeatureInversion.Result res = inv.run(f, p.data(), tap);
                    double corr = Correlation.pearson(p.data(), res.pixels());
                    byte[] png = PngWriter.encode(ImageGrid.toImage(new Pixels(p.width(), p.height(), p.channels(), res.pixels())));
                    rows.add(RowFactory.create(path, tap, res.featureError(), corr, png));
                    tiles.add(new ImageGrid.Tile(PngWriter.decode(png), String.format(Locale.ROOT, "%s: err %.3f", tap, res.featureError()), null));
                }
                grid.add(tiles);
                labels.add(path.substring(path.lastIndexOf('/') + 1));
            }
            c.writeFile("pictures/invert", "invert-grid.png", PngWriter.encode(ImageGrid.render(
                    "feature inversion: original | reconstruction from each layer (err = relative feature error)", labels, grid, 112)));
            spark.createDataFrame(rows, SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging("invert"));
            c.commit(List.of("invert", "pictures/invert"));
            for (Row r : rows) {
                System.out.printf(Locale.ROOT, "invert: %s from %s: feature error %.4f, pixel correlation %.3f%n",
                        r.getString(0).substring(r.getString(0).lastIndexOf('/') + 1), r.getString(1), r.getDouble(2), r.getDouble(3));
            }
            return c.finalPath("pictures/invert");
        }
    }
}
