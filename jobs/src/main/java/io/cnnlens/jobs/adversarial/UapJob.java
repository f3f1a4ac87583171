package io.cnnlens.jobs.adversarial;

import io.cnnlens.jobs.ReportContext;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageSource;
import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.ModelPixels;
import io.cnnlens.jobs.spark.TableCommitter;

import io.cnnlens.adversarial.DeepFool;
import io.cnnlens.adversarial.PixelSpace;
import io.cnnlens.adversarial.UniversalPerturbation;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Pixels;
import io.cnnlens.image.PngWriter;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.plot.ImageGrid;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;

/**
 * The uap job: universal adversarial perturbations (Moosavi-Dezfooli et al. 2017) fitted on one
 * set of images and evaluated on another, for one or more ξ, two ways: the paper's sequential
 * DeepFool algorithm (on the driver: the fit set must fit in its memory) and a data-parallel
 * variant (Shafahi et al. 2020: v broadcast, per-partition sums of loss gradients, the driver
 * steps and projects), for collections larger than one machine. Evaluation runs on executors:
 * fooling rate of v and of random noise of the same norm, optionally on a second model
 * (transfer). Writes {@code <out>/uap/} (one stats row per variant and ξ, with v),
 * {@code <out>/uap_flips/}, {@code <out>/uap_errors/} and pictures of v.
 */
public final class UapJob {

    public static final String STATS = "uap";
    public static final String FLIPS = "uap_flips";
    public static final String ERRORS = "uap_errors";
    public static final String PICTURES = "pictures/uap";

    public static final StructType STATS_SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("variant", DataTypes.StringType, false),
            DataTypes.createStructField("norm", DataTypes.StringType, false),
            DataTypes.createStructField("xi", DataTypes.DoubleType, false),
            DataTypes.createStructField("fit_images", DataTypes.LongType, false),
            DataTypes.createStructField("eval_images", DataTypes.LongType, false),
            DataTypes.createStructField("passes", DataTypes.IntegerType, false),
            DataTypes.createStructField("fit_fooling_rate", DataTypes.DoubleType, false),
            DataTypes.createStructField("fooling_rate", DataTypes.DoubleType, false),
            DataTypes.createStructField("random_fooling_rate", DataTypes.DoubleType, false),
            DataTypes.createStructField("transfer_model", DataTypes.StringType, true),
            DataTypes.createStructField("transfer_fooling_rate", DataTypes.DoubleType, true),
            DataTypes.createStructField("transfer_random_fooling_rate", DataTypes.DoubleType, true),
            DataTypes.createStructField("seconds", DataTypes.DoubleType, false),
            DataTypes.createStructField("v_shape", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
            DataTypes.createStructField("v", DataTypes.createArrayType(DataTypes.FloatType, false), false)});

    public static final StructType FLIPS_SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.StringType, false),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("variant", DataTypes.StringType, false),
            DataTypes.createStructField("xi", DataTypes.DoubleType, false),
            DataTypes.createStructField("clean_pred", DataTypes.StringType, false),
            DataTypes.createStructField("adversarial_pred", DataTypes.StringType, false),
            DataTypes.createStructField("flipped", DataTypes.BooleanType, false),
            DataTypes.createStructField("random_flipped", DataTypes.BooleanType, false)});

    /** What the job was asked to do. */
    public record Settings(String images, String evalImages, String out, String model, ImageSource.Options source,
                           DeepFool.Norm norm, double[] xis, List<String> variants, double delta, int maxPasses, int fitSample,
                           int sgdIterations, int sgdBatch, double sgdLr, long seed, String transferModel, long maxPixels,
                           int evalSample) implements Serializable {
    }

    /** One fitted perturbation and its evaluation. */
    public record Result(String variant, double xi, int passes, double fitRate, double rate, double randomRate,
                         Double transferRate, Double transferRandomRate, double seconds, float[] v) {
    }

    /** What it did. */
    public record Summary(long fitImages, long evalImages, long errors, double seconds, List<Result> results, String table,
                          String pictures) {
        public String line() {
            return String.format(Locale.ROOT, "uap: fit images %d, eval images %d, errors %d, perturbations %d, %.1f s",
                    fitImages, evalImages, errors, results.size(), seconds);
        }
    }

    /** Its section of the report. */
    public java.util.Optional<Section> report(ReportContext report) {
        return report.pictures("uap", "Universal adversarial perturbations", "v magnified, and held-out images without and with it.",
                report.table(STATS).map(t -> List.of(uapTable(t))).orElse(List.of()));
    }

    private static Table uapTable(Dataset<Row> u) {
        List<HtmlReport.Row> rows = new ArrayList<>();
        for (Row r : u.orderBy("variant", "xi").collectAsList()) {
            Double t = r.isNullAt(r.fieldIndex("transfer_fooling_rate")) ? null : r.getDouble(r.fieldIndex("transfer_fooling_rate"));
            rows.add(new HtmlReport.Row(List.of(Cell.text(r.<String>getAs("variant")), Cell.text(r.<String>getAs("norm")),
                    Cell.number(String.format(Locale.ROOT, "%.0f", r.<Double>getAs("xi"))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.<Double>getAs("fooling_rate"))),
                    Cell.number(String.format(Locale.ROOT, "%.3f", r.<Double>getAs("random_fooling_rate"))),
                    Cell.text(t == null ? "" : String.format(Locale.ROOT, "%.3f on %s", t, r.<String>getAs("transfer_model"))),
                    Cell.number(String.format(Locale.ROOT, "%.1f", r.<Double>getAs("seconds"))))));
        }
        return new Table("perturbations", List.of("variant", "norm", "ξ", "fooling rate", "random noise", "transfer", "seconds"), rows,
                "Fooling rates on held-out images.");
    }

    private UapJob() {
    }

    public static Summary run(SparkSession spark, Settings s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
        ModelSpec spec = model.spec();
        for (String v : s.variants()) {
            if (!v.equals("paper") && !v.equals("spark")) {
                throw new IllegalArgumentException("unknown variant '" + v + "': paper or spark");
            }
        }
        if (s.xis().length == 0) {
            throw new IllegalArgumentException("give at least one --xi");
        }
        if (s.transferModel() != null) {
            ModelSpec t = ModelLocator.load(s.transferModel(), hadoop.get());
            if (t.channels() != spec.channels() || t.height() != spec.height() || t.width() != spec.width()) {
                throw new IllegalArgumentException("transfer model " + t.name() + " takes " + t.channels() + "×" + t.height() + "×"
                        + t.width() + " input, the fitted model " + spec.channels() + "×" + spec.height() + "×" + spec.width());
            }
        }
        Dataset<Row> fitRows;
        Dataset<Row> evalRows;
        Dataset<Row> in = ImageSource.read(spark, s.images(), s.source()).partitioned().apply(0);
        if (s.evalImages() == null) { // one folder: split it by path hash into fit and eval halves
            Dataset<Row> h = in.withColumn("_half", ImageSource.half());
            fitRows = h.filter(col("_half").equalTo(0)).drop("_half");
            evalRows = h.filter(col("_half").equalTo(1)).drop("_half");
        } else {
            fitRows = in;
            evalRows = ImageSource.read(spark, s.evalImages(), s.source()).partitioned().apply(0);
        }
        fitRows = ImageSource.sample(fitRows, s.fitSample());
        if (s.evalSample() > 0) {
            evalRows = ImageSource.sample(evalRows, s.evalSample());
        }
        int parallelism = spark.sparkContext().defaultParallelism();
        JavaRDD<ModelPixels> fitPx = pixels(fitRows.orderBy("path"), s, hadoop, parallelism).persist(StorageLevel.MEMORY_AND_DISK());
        JavaRDD<ModelPixels> evalPx = pixels(evalRows.orderBy("path"), s, hadoop, parallelism).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            List<ModelPixels> errorItems = fitPx.filter(p -> !p.ok()).union(evalPx.filter(p -> !p.ok())).collect();
            JavaRDD<ModelPixels> fitOk = fitPx.filter(ModelPixels::ok);
            JavaRDD<ModelPixels> evalOk = evalPx.filter(ModelPixels::ok);
            long nFit = fitOk.count();
            long nEval = evalOk.count();
            if (nFit == 0 || nEval == 0) {
                throw new IllegalArgumentException("need images to fit on and to evaluate on; got " + nFit + " and " + nEval);
            }
            List<ModelPixels> examples = evalOk.take(6);
            List<Result> results = new ArrayList<>();
            List<Row> flips = new ArrayList<>();
            for (double xi : s.xis()) {
                for (String variant : s.variants()) {
                    long tv = System.nanoTime();
                    float[] v;
                    int passes;
                    double fitRate;
                    if (variant.equals("paper")) {
                        List<ModelPixels> fit = fitOk.collect();
                        int per = fit.get(0).pixels().length;
                        float[] x = new float[fit.size() * per];
                        for (int i = 0; i < fit.size(); i++) {
                            System.arraycopy(fit.get(i).pixels(), 0, x, i * per, per);
                        }
                        try (ModelForward f = model.newForward()) {
                            UniversalPerturbation.Fit r = UniversalPerturbation.fit(f, new PixelSpace(spec), x, fit.size(), s.norm(), xi,
                                    s.delta(), s.maxPasses(), s.seed());
                            v = r.v();
                            passes = r.passes();
                            fitRate = r.fitFoolingRate();
                        }
                    } else {
                        Object[] r = sgd(spark, fitOk, nFit, s, xi, hadoop);
                        v = (float[]) r[0];
                        passes = (Integer) r[1];
                        fitRate = (Double) r[2];
                    }
                    double fitSeconds = (System.nanoTime() - tv) / 1e9;
                    float[] noise = UniversalPerturbation.randomNoise(v.length, s.norm(), xi, s.seed() + 17);
                    List<Row> evalRowsOut = evaluate(spark, evalOk, s.model(), hadoop, v, noise, variant, xi, true);
                    flips.addAll(evalRowsOut);
                    double rate = evalRowsOut.stream().filter(r -> r.getBoolean(7)).count() / (double) nEval;
                    double rnd = evalRowsOut.stream().filter(r -> r.getBoolean(8)).count() / (double) nEval;
                    Double tRate = null;
                    Double tRnd = null;
                    if (s.transferModel() != null) {
                        List<Row> t = evaluate(spark, evalOk, s.transferModel(), hadoop, v, noise, variant, xi, false);
                        tRate = t.stream().filter(r -> r.getBoolean(7)).count() / (double) nEval;
                        tRnd = t.stream().filter(r -> r.getBoolean(8)).count() / (double) nEval;
                    }
                    results.add(new Result(variant, xi, passes, fitRate, rate, rnd, tRate, tRnd, fitSeconds, v));
                }
            }
            try (TableCommitter committer = new TableCommitter(s.out(), hadoop.get())) {
                List<Row> stats = new ArrayList<>();
                for (Result r : results) {
                    stats.add(RowFactory.create(r.variant(), s.norm() == DeepFool.Norm.LINF ? "linf" : "l2", r.xi(), nFit, nEval,
                            r.passes(), r.fitRate(), r.rate(), r.randomRate(), s.transferModel(), r.transferRate(), r.transferRandomRate(),
                            r.seconds(), new Integer[] {spec.channels(), spec.height(), spec.width()}, r.v()));
                    String name = String.format(Locale.ROOT, "uap-%s-%s-%s", r.variant(), s.norm() == DeepFool.Norm.LINF ? "linf" : "l2",
                            trim(r.xi()));
                    committer.writeFile(PICTURES, name + ".png", PngWriter.encode(picture(r, spec, name, examples, model)));
                    committer.writeFile(PICTURES, name + ".f32", littleEndian(r.v()));
                }
                spark.createDataFrame(stats, STATS_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(STATS));
                spark.createDataFrame(flips, FLIPS_SCHEMA).write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(FLIPS));
                List<Row> errs = new ArrayList<>();
                errorItems.forEach(e -> errs.add(RowFactory.create(e.path(), e.stage(), e.reason())));
                spark.createDataFrame(errs, DataTypes.createStructType(new StructField[] {
                        DataTypes.createStructField("path", DataTypes.StringType, false),
                        DataTypes.createStructField("stage", DataTypes.StringType, true),
                        DataTypes.createStructField("reason", DataTypes.StringType, true)})).coalesce(1).write()
                        .mode(SaveMode.ErrorIfExists).parquet(committer.staging(ERRORS));
                committer.commit(List.of(STATS, FLIPS, ERRORS, PICTURES));
                return new Summary(nFit, nEval, errorItems.size(), (System.nanoTime() - t0) / 1e9, results, committer.finalPath(STATS),
                        committer.finalPath(PICTURES));
            }
        } finally {
            fitPx.unpersist();
            evalPx.unpersist();
        }
    }

    private static JavaRDD<ModelPixels> pixels(Dataset<Row> rows, Settings s, HadoopConf hadoop, int parallelism) {
        String model = s.model();
        long maxPixels = s.maxPixels();
        return rows.javaRDD().mapPartitions((Iterator<Row> it) -> {
            ModelSpec spec = ExecutorRuntime.model(model, hadoop.get(), true).spec();
            ImageDecoder d = new ImageDecoder(maxPixels);
            List<ModelPixels> out = new ArrayList<>();
            while (it.hasNext()) {
                out.add(ModelPixels.read(it.next(), spec, d, hadoop));
            }
            return out.iterator();
        });
    }

    /**
     * The data-parallel variant: each iteration samples about {@code sgdBatch} fit images
     * (seeded), sums the loss gradients per partition, and the driver adds them up in partition
     * order (so the result does not depend on task timing) and takes one projected step.
     */
    private static Object[] sgd(SparkSession spark, JavaRDD<ModelPixels> fit, long nFit, Settings s, double xi, HadoopConf hadoop) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String model = s.model();
        JavaRDD<Tuple2<ModelPixels, Integer>> withClean = fit.mapPartitions((Iterator<ModelPixels> it) -> {
            LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
            PixelSpace ps = new PixelSpace(m.spec());
            List<ModelPixels> items = new ArrayList<>();
            it.forEachRemaining(items::add);
            List<Tuple2<ModelPixels, Integer>> out = new ArrayList<>();
            if (items.isEmpty()) {
                return out.iterator();
            }
            int per = ps.perImage();
            float[] x = new float[items.size() * per];
            for (int i = 0; i < items.size(); i++) {
                System.arraycopy(items.get(i).pixels(), 0, x, i * per, per);
            }
            try (ModelForward f = m.newForward()) {
                int[] clean = UniversalPerturbation.predictions(f, ps, x, items.size(), null);
                for (int i = 0; i < items.size(); i++) {
                    out.add(new Tuple2<>(items.get(i), clean[i]));
                }
            }
            return out.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            int per = withClean.first()._1().pixels().length;
            float[] v = new float[per];
            double lr = s.sgdLr() > 0 ? s.sgdLr() : (s.norm() == DeepFool.Norm.LINF ? xi / 10 : xi / 5);
            double fraction = Math.min(1.0, s.sgdBatch() / (double) nFit);
            for (int it = 0; it < s.sgdIterations(); it++) {
                Broadcast<float[]> vb = jsc.broadcast(v.clone());
                List<Tuple2<Integer, double[]>> parts = withClean.sample(false, fraction, s.seed() * 1000 + it)
                        .mapPartitionsWithIndex((idx, items) -> {
                            LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
                            PixelSpace ps = new PixelSpace(m.spec());
                            List<Tuple2<ModelPixels, Integer>> list = new ArrayList<>();
                            items.forEachRemaining(list::add);
                            double[] sum = new double[ps.perImage()];
                            if (!list.isEmpty()) {
                                int p = ps.perImage();
                                float[] x = new float[list.size() * p];
                                int[] clean = new int[list.size()];
                                for (int i = 0; i < list.size(); i++) {
                                    System.arraycopy(list.get(i)._1().pixels(), 0, x, i * p, p);
                                    clean[i] = list.get(i)._2();
                                }
                                try (ModelForward f = m.newForward()) {
                                    sum = UniversalPerturbation.lossGradientSum(f, ps, x, list.size(), clean, vb.value());
                                }
                            }
                            return List.of(new Tuple2<>(idx, sum)).iterator();
                        }, true).collect();
                vb.destroy();
                List<Tuple2<Integer, double[]>> sorted = new ArrayList<>(parts);
                sorted.sort(java.util.Comparator.comparingInt(Tuple2::_1));
                double[] total = new double[per];
                for (Tuple2<Integer, double[]> t : sorted) {
                    for (int j = 0; j < per; j++) {
                        total[j] += t._2()[j];
                    }
                }
                UniversalPerturbation.sgdStep(v, total, s.norm(), xi, lr);
            }
            Broadcast<float[]> vb = jsc.broadcast(v.clone());
            long fooled = withClean.mapPartitions((Iterator<Tuple2<ModelPixels, Integer>> items) -> {
                LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
                PixelSpace ps = new PixelSpace(m.spec());
                List<Tuple2<ModelPixels, Integer>> list = new ArrayList<>();
                items.forEachRemaining(list::add);
                long c = 0;
                if (!list.isEmpty()) {
                    int p = ps.perImage();
                    float[] x = new float[list.size() * p];
                    for (int i = 0; i < list.size(); i++) {
                        System.arraycopy(list.get(i)._1().pixels(), 0, x, i * p, p);
                    }
                    try (ModelForward f = m.newForward()) {
                        int[] adv = UniversalPerturbation.predictions(f, ps, x, list.size(), vb.value());
                        for (int i = 0; i < list.size(); i++) {
                            if (adv[i] != list.get(i)._2()) {
                                c++;
                            }
                        }
                    }
                }
                return List.of(c).iterator();
            }).reduce(Long::sum);
            return new Object[] {v, s.sgdIterations(), fooled / (double) nFit};
        } finally {
            withClean.unpersist();
        }
    }

    /** Per eval image: clean and adversarial prediction of {@code model}, flipped by v and by the noise. */
    private static List<Row> evaluate(SparkSession spark, JavaRDD<ModelPixels> eval, String model, HadoopConf hadoop, float[] v,
                                      float[] noise, String variant, double xi, boolean rows) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<float[]> vb = jsc.broadcast(v);
        Broadcast<float[]> nb = jsc.broadcast(noise);
        List<Row> out = eval.mapPartitions((Iterator<ModelPixels> it) -> {
            LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), false);
            PixelSpace ps = new PixelSpace(m.spec());
            List<ModelPixels> items = new ArrayList<>();
            it.forEachRemaining(items::add);
            List<Row> res = new ArrayList<>();
            if (items.isEmpty()) {
                return res.iterator();
            }
            int p = ps.perImage();
            float[] x = new float[items.size() * p];
            for (int i = 0; i < items.size(); i++) {
                System.arraycopy(items.get(i).pixels(), 0, x, i * p, p);
            }
            try (ModelForward f = m.newForward()) {
                int[] clean = UniversalPerturbation.predictions(f, ps, x, items.size(), null);
                int[] adv = UniversalPerturbation.predictions(f, ps, x, items.size(), vb.value());
                int[] rnd = UniversalPerturbation.predictions(f, ps, x, items.size(), nb.value());
                for (int i = 0; i < items.size(); i++) {
                    ModelPixels mp = items.get(i);
                    res.add(RowFactory.create(mp.imageId(), mp.path(), mp.label(), variant, xi, m.spec().labels().get(clean[i]),
                            m.spec().labels().get(adv[i]), adv[i] != clean[i], rnd[i] != clean[i]));
                }
            }
            return res.iterator();
        }).collect();
        vb.destroy();
        nb.destroy();
        return out;
    }

    static String trim(double xi) {
        return xi == Math.rint(xi) ? String.valueOf((long) xi) : String.valueOf(xi);
    }

    /**
     * v shown as 128 + v·127/max|v| (grey = 0), then a few evaluation images without and with v,
     * each with the model's prediction.
     */
    static BufferedImage picture(Result r, ModelSpec spec, String name, List<ModelPixels> examples, LoadedModel model) {
        float[] v = r.v();
        float max = 1e-12f;
        for (float x : v) {
            max = Math.max(max, Math.abs(x));
        }
        float[] shown = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            shown[i] = 128 + v[i] * 127 / max;
        }
        List<List<ImageGrid.Tile>> rows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        rows.add(List.of(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(spec.width(), spec.height(), spec.channels(), shown)),
                String.format(Locale.ROOT, "v (grey = 0, ±%.0f)", max), null)));
        labels.add("v");
        int per = v.length;
        float[] clean = new float[examples.size() * per];
        float[] adv = new float[examples.size() * per];
        for (int i = 0; i < examples.size(); i++) {
            for (int j = 0; j < per; j++) {
                clean[i * per + j] = examples.get(i).pixels()[j];
                adv[i * per + j] = Math.max(0f, Math.min(255f, clean[i * per + j] + v[j]));
            }
        }
        try (ModelForward f = model.newForward()) {
            PixelSpace ps = new PixelSpace(spec);
            int[] pc = UniversalPerturbation.predictions(f, ps, clean, examples.size(), null);
            int[] pa = UniversalPerturbation.predictions(f, ps, clean, examples.size(), v);
            List<ImageGrid.Tile> a = new ArrayList<>();
            List<ImageGrid.Tile> b = new ArrayList<>();
            for (int i = 0; i < examples.size(); i++) {
                float[] c = java.util.Arrays.copyOfRange(clean, i * per, (i + 1) * per);
                float[] d = java.util.Arrays.copyOfRange(adv, i * per, (i + 1) * per);
                a.add(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(spec.width(), spec.height(), spec.channels(), c)),
                        spec.labels().get(pc[i]), null));
                b.add(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(spec.width(), spec.height(), spec.channels(), d)),
                        spec.labels().get(pa[i]), pa[i] != pc[i] ? new java.awt.Color(0xC0392B) : null));
            }
            rows.add(a);
            labels.add("clean");
            rows.add(b);
            labels.add("+ v");
        }
        return ImageGrid.render(String.format(Locale.ROOT, "%s: fooling rate %.2f on held-out images (random noise %.2f); red = flipped",
                name, r.rate(), r.randomRate()), labels, rows, 112);
    }

    static byte[] littleEndian(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }
}
