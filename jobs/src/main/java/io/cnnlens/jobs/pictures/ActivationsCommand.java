package io.cnnlens.jobs.pictures;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.FileNames;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.image.DecodeException;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.FilterGrid;
import org.apache.spark.sql.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/** {@code cnnlens activations}: every channel's feature map of a layer for chosen images. */
@Command(name = "activations", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"For a few images and a conv layer, every channel's feature map as a grid of grey tiles beside the input.",
                "Writes <out>/pictures/activations/<layer>/<n>-<file name>.png."})
public final class ActivationsCommand implements Callable<Integer> {

    @Option(names = "--images", defaultValue = "${sys:cnnlens.home:-.}/conf/sample/fashion-mnist",
            description = "Images (as for features). Default: the bundled sample.")
    String images;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED, description = "Model spec. Default: bundled")
    String model;

    @Option(names = "--layer", description = "Conv tap. Default: the spec's taps.first-conv")
    String layer;

    @Option(names = "--sample", defaultValue = "4", description = "Images (a fixed sample by path hash). Default: ${DEFAULT-VALUE}")
    int sample;

    @Option(names = "--path-pattern", description = "Only images whose path matches this regular expression.")
    String pathPattern;

    @Option(names = "--master", description = "Spark master when run outside spark-submit (used to list the images). Default: local[*]")
    String master;

    @Override
    public Integer call() {
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens activations", master)) {
            System.out.println("pictures: " + draw(h.spark(), images, out, model, layer, sample, pathPattern));
            return 0;
        }
    }

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("activations", "Activation maps",
                "Every channel of a layer for a few images, on one scale per image.", List.of());
    }

    /** Draws the activation pictures; returns their folder. */
    public static String draw(org.apache.spark.sql.SparkSession spark, String images, String out, String model, String layer, int sample,
                       String pathPattern) {
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), false);
        ModelSpec spec = m.spec();
        String tap = layer == null ? spec.firstConvTap() : layer;
        var rows = ImageSource.read(spark, images, ImageSource.Options.defaults()).partitioned().apply(0);
        if (pathPattern != null) {
            rows = rows.filter(col("path").rlike(pathPattern));
        }
        List<Row> chosen = ImageSource.sample(rows, Math.max(1, sample)).collectAsList();
        if (chosen.isEmpty()) {
            throw new IllegalArgumentException("no images under " + images);
        }
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(50_000_000L);
        int written = 0;
        String dir = "pictures/activations/" + FileNames.safe(tap); // one folder per layer
        try (TableCommitter c = new TableCommitter(out, hadoop.get()); ModelForward f = m.newForward()) {
            for (Row r : chosen) {
                String path = r.getString(0);
                try {
                    Pixels p = d.decode(ImageBytes.read(path, r.isNullAt(2) ? -1 : r.getLong(2), r.isNullAt(3) ? null : (byte[]) r.get(3),
                            ImageBytes.MAX_BYTES, hadoop.get()));
                    ModelForward.Outputs o = f.run(pre.apply(p), 1, List.of(tap), List.of());
                    int[] sh = o.shape(tap);
                    if (sh.length != 3) {
                        throw new IllegalArgumentException("layer " + tap + " is not a conv layer (shape per image "
                                + java.util.Arrays.toString(sh) + ")");
                    }
                    String base = path.substring(path.lastIndexOf('/') + 1).replaceFirst("\\.[A-Za-z0-9]+$", "");
                    String file = String.format(Locale.ROOT, "%d-%s.png", written, FileNames.safe(base));
                    c.writeFile(dir, file, PngWriter.encode(FilterGrid.activations(
                            String.format(Locale.ROOT, "%s of %s: %d channels, %d×%d", tap, path.substring(path.lastIndexOf('/') + 1),
                                    sh[0], sh[1], sh[2]), pre.modelPixels(p), o.values(tap)[0], sh[0], sh[1], sh[2], Math.max(40, sh[1] * 3))));
                    written++;
                } catch (DecodeException e) {
                    System.out.println("activations: skipped " + path + ": " + e.getMessage());
                }
            }
            c.commit(List.of(dir));
            System.out.println("activations: " + written + " image(s), layer " + tap);
            return c.finalPath(dir);
        }
    }
}
