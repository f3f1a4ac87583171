package io.cnnlens.jobs;

import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;

import java.util.List;
import java.util.Locale;

/**
 * The options many jobs share, declared once: the input images and their limits, the features
 * table an analysis reads, the output folder, the model, the Spark master, the sample and the
 * seed. A job lists the ones it takes in {@link Job#options()}; {@code run} sets them once for
 * every stage.
 */
public final class SharedOptions {

    public static final OptionKey<String> IMAGES = OptionKey.text("images",
            System.getProperty("cnnlens.home", ".") + "/conf/sample/fashion-mnist",
            "Folder tree or Hadoop-FS URI (file:, hdfs:, s3a:) of JPEG/PNG/BMP/GIF files, or a Parquet table of image bytes "
                    + "(the bundled sample by default).");
    public static final OptionKey<String> INPUT_FORMAT = OptionKey.text("input-format", "auto",
            "auto (a path ending in .parquet is a table), files or parquet.");
    public static final OptionKey<String> IMAGE_COLUMN = OptionKey.text("image-column", "content", "Parquet input: image bytes column.");
    public static final OptionKey<String> PATH_COLUMN = OptionKey.text("path-column", "path", "Parquet input: path column, if any.");
    public static final OptionKey<String> LABEL_COLUMN = OptionKey.text("label-column", "label", "Parquet input: label column, if any.");
    public static final OptionKey<Long> MAX_PIXELS = OptionKey.count("max-pixels", 50_000_000L,
            "Images with more pixels are refused from their header, before any pixel buffer is allocated.");
    public static final OptionKey<Long> MAX_BYTES = OptionKey.count("max-bytes", 256L << 20, "Files larger than this are refused unread.");

    public static final OptionKey<String> FEATURES = OptionKey.text("features", "cnnlens-out",
            "The features job's output (its --out, or the features/ table).");
    public static final OptionKey<String> OUT = OptionKey.text("out", "cnnlens-out", "Output folder or URI.");
    public static final OptionKey<String> MODEL = OptionKey.text("model", ModelLocator.BUNDLED,
            "Model spec: 'bundled' (the bundled Fashion-MNIST AlexNet-style model), 'bundled:<name>', a spec file, "
                    + "or a spec URI (conf/models/*.properties).");
    public static final OptionKey<String> MASTER = OptionKey.text("master", null,
            "Spark master when run outside spark-submit. Default: local[*]");

    /** Every option of the image input, in help order. */
    public static final List<OptionKey<?>> IMAGE_INPUT = List.of(IMAGES, INPUT_FORMAT, IMAGE_COLUMN, PATH_COLUMN, LABEL_COLUMN,
            MAX_PIXELS, MAX_BYTES);

    private SharedOptions() {
    }

    /** {@code --sample}: how many images a job takes (a fixed sample by path hash); 0 = all. */
    public static OptionKey<Integer> sample(int defaultValue, String what) {
        return OptionKey.integer("sample", defaultValue, what + " (a fixed sample by path hash); 0 = all.");
    }

    /** {@code --seed}. */
    public static OptionKey<Long> seed(long defaultValue, String what) {
        return OptionKey.count("seed", defaultValue, "Seed (" + what + ").");
    }

    /** The images a job reads and the limits it applies to each, validated. */
    public record ImageInput(String images, ImageSource.Options source, long maxPixels, long maxBytes) implements java.io.Serializable {
        public ImageInput {
            if (images == null || images.isBlank()) {
                throw new IllegalArgumentException("--images is empty");
            }
            if (maxPixels <= 0) {
                throw new IllegalArgumentException("--max-pixels must be positive");
            }
            if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 64) {
                throw new IllegalArgumentException("--max-bytes must be between 1 and " + (Integer.MAX_VALUE - 64));
            }
        }

        public static ImageInput of(OptionValues v) {
            ImageSource.Format format;
            try {
                format = ImageSource.Format.valueOf(v.get(INPUT_FORMAT).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--input-format must be auto, files or parquet, not '" + v.get(INPUT_FORMAT) + "'");
            }
            return new ImageInput(v.get(IMAGES), new ImageSource.Options(format, v.get(IMAGE_COLUMN), v.get(PATH_COLUMN),
                    v.get(LABEL_COLUMN)), v.get(MAX_PIXELS), v.get(MAX_BYTES));
        }
    }

    /** A list of keys: the shared ones a job takes, then its own. */
    @SafeVarargs
    public static List<OptionKey<?>> keys(List<OptionKey<?>>... groups) {
        List<OptionKey<?>> out = new java.util.ArrayList<>();
        for (List<OptionKey<?>> g : groups) {
            out.addAll(g);
        }
        return List.copyOf(out);
    }
}
