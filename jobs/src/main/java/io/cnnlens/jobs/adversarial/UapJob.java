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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import io.cnnlens.image.ContentHash;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.spark.ErrorChannel;
import io.cnnlens.jobs.spark.ImageBatches;
import io.cnnlens.jobs.spark.Progress;
import org.apache.spark.TaskContext;
import org.apache.spark.util.LongAccumulator;
import java.util.Map;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * The uap job: universal adversarial perturbations (Moosavi-Dezfooli et al. 2017) fitted on one
 * set of images and evaluated on another, for one or more ξ, two ways: the paper's sequential
 * DeepFool algorithm (on the driver: the fit set must fit in its memory) and a data-parallel
 * variant (Shafahi et al. 2020: v broadcast, per-partition sums of loss gradients, the driver
 * steps and projects), for collections larger than one machine. Evaluation runs on executors:
 * fooling rate of v and of random noise of the same norm, optionally on a second model
 * (transfer). Writes {@code <out>/uap/} (one stats row per variant and ξ, with v),
 * {@code <out>/uap_flips/} (written by the executors: evaluation is not bounded by the driver's
 * memory), {@code <out>/uap_errors/} and pictures of v.
 */
public final class UapJob implements Job<UapOptions> {

    /** Images per forward pass in the evaluation and the Spark variant's clean predictions. */
    static final int BATCH = 256;
    /** Automatic partitioning gives an evaluation task at most this many images. */
    static final int IMAGES_PER_TASK = 2048;

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

    /** One fitted perturbation and its evaluation. */
    public record Result(String variant, double xi, int passes, double fitRate, double rate, double randomRate,
                         Double transferRate, Double transferRandomRate, double seconds, float[] v) {
    }


    /** What it did. */
    public record Summary(long fitImages, long evalImages, long errors, double seconds, List<Result> results, String norm,
                          String transferModel, String table, String errorsTable, String pictures) {
        public String line() {
            return String.format(Locale.ROOT, "uap: fit images %d, eval images %d, errors %d, perturbations %d, %.1f s",
                    fitImages, evalImages, errors, results.size(), seconds);
        }

        /** The lines printed after the summary. */
        public List<String> details() {
            List<String> d = new ArrayList<>();
            for (Result x : results) {
                d.add(String.format(Locale.ROOT, "uap: %-6s %s ξ=%-6s fooling rate %.3f (fit %.3f), random noise %.3f%s, %d passes/steps, %.1f s",
                        x.variant(), norm, trim(x.xi()), x.rate(), x.fitRate(), x.randomRate(),
                        x.transferRate() == null ? "" : String.format(Locale.ROOT, "; on %s: %.3f (random %.3f)", transferModel,
                                x.transferRate(), x.transferRandomRate()),
                        x.passes(), x.seconds()));
            }
            d.add("uap:      " + table);
            d.add("pictures: " + pictures);
            return d;
        }
    }

    public UapJob() {
    }

    @Override
    public String name() {
        return "uap";
    }

    @Override
    public String[] description() {
        return new String[] {
                "One perturbation v with ‖v‖_p ≤ ξ for a whole data set, fitted on --images and evaluated on --eval-images "
                        + "(without it, the images are split in two by path hash): the paper's DeepFool algorithm (driver) and a "
                        + "data-parallel variant on Spark; fooling rate against random noise of the same norm; optional transfer "
                        + "to a second model.",
                "Writes <out>/uap/ (stats and v per variant and ξ), <out>/uap_flips/, <out>/uap_errors/ and "
                        + "<out>/pictures/uap/uap-<variant>-<norm>-<ξ>.{png,f32}."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return UapOptions.KEYS;
    }

    @Override
    public UapOptions options(OptionValues values) {
        return UapOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(STATS, FLIPS, ERRORS, PICTURES);
    }

    /**
     * Inside {@code run}, as the old pipeline ran it: the Spark variant only, L2 with ξ = 1000, fitted
     * on at most 5000 images with 20 steps of 500 images; the rest at the defaults.
     */
    @Override
    public OptionValues inRun(OptionValues run) {
        return run.with(UapOptions.NORM, "2").with(UapOptions.XI, new double[] {1000}).with(UapOptions.VARIANTS, List.of("spark"))
                .with(UapOptions.FIT_SAMPLE, 5000).with(UapOptions.SGD_ITERATIONS, 20).with(UapOptions.SGD_BATCH, 500);
    }

    @Override
    public JobResult run(JobContext context, UapOptions options) {
        Summary s = run(context.spark(), options);
        return new JobResult(s.line(), s.details());
    }

    /** Its section of the report. */
    @Override
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

    public static Summary run(SparkSession spark, UapOptions s) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        LoadedModel model = ExecutorRuntime.model(s.model(), hadoop.get(), true);
        ModelSpec spec = model.spec();
        if (s.transferModel() != null) {
            ModelSpec t = ModelLocator.load(s.transferModel(), hadoop.get());
            if (t.channels() != spec.channels() || t.height() != spec.height() || t.width() != spec.width()) {
                throw new IllegalArgumentException("transfer model " + t.name() + " takes " + t.channels() + "×" + t.height() + "×"
                        + t.width() + " input, the fitted model " + spec.channels() + "×" + spec.height() + "×" + spec.width());
            }
        }
        Dataset<Row> fitRows;
        Dataset<Row> evalRows;
        Dataset<Row> in = ImageSource.read(spark, s.input().images(), s.input().source()).partitioned().apply(0);
        if (s.evalImages() == null) { // one folder: split it by path hash into fit and eval halves
            Dataset<Row> h = in.withColumn("_half", ImageSource.half());
            fitRows = h.filter(col("_half").equalTo(0)).drop("_half");
            evalRows = h.filter(col("_half").equalTo(1)).drop("_half");
        } else {
            fitRows = in;
            evalRows = ImageSource.read(spark, s.evalImages(), s.input().source()).partitioned().apply(0);
        }
        if (s.fitSample() > 0) {
            fitRows = ImageSource.sample(fitRows, s.fitSample());
        }
        if (s.evalSample() > 0) {
            evalRows = ImageSource.sample(evalRows, s.evalSample());
        }
        long nFitIn = fitRows.count();
        long nEvalIn = evalRows.count();
        int parallelism = spark.sparkContext().defaultParallelism();
        int evalPartitions = (int) Math.max(1, Math.min(Math.max(1, nEvalIn), Math.max(parallelism, (nEvalIn + IMAGES_PER_TASK - 1) / IMAGES_PER_TASK)));
        // the paper's variant visits the fit images in path order
        JavaRDD<Row> fitIn = fitRows.orderBy("path").javaRDD();
        JavaRDD<Row> evalIn = evalRows.repartition(evalPartitions).javaRDD();
        int fitParts = fitIn.getNumPartitions();
        try (TableCommitter committer = new TableCommitter(spark, s.out(), "uap")) {
            ErrorChannel channel = ErrorChannel.open(committer, ERRORS, hadoop);
            // one pass decodes both sets (partitions below fitParts are the fit set's), bad inputs to the errors channel
            JavaRDD<Tuple2<Boolean, ModelPixels>> px;
            Map<Boolean, Long> decoded;
            try (Progress progress = Progress.start(spark, "uap", nFitIn + nEvalIn)) {
                px = decode(fitIn.union(evalIn), fitParts, s, hadoop, channel, progress.counter()).persist(StorageLevel.MEMORY_AND_DISK());
                decoded = px.map(Tuple2::_1).countByValue();
            }
            try {
                long errors = channel.commitTable(spark, committer);
                long nFit = decoded.getOrDefault(true, 0L);
                long nEval = decoded.getOrDefault(false, 0L);
                if (nFit + nEval + errors != nFitIn + nEvalIn) {
                    throw new IllegalStateException("counts do not reconcile: " + (nFitIn + nEvalIn) + " inputs but " + nFit + " fit + "
                            + nEval + " eval images + " + errors + " errors; nothing was committed");
                }
                if (nFit == 0 || nEval == 0) {
                    throw new IllegalArgumentException("need images to fit on and to evaluate on; got " + nFit + " and " + nEval);
                }
                JavaRDD<ModelPixels> fitOk = px.filter(Tuple2::_1).map(Tuple2::_2);
                JavaRDD<ModelPixels> evalOk = px.filter(t -> !t._1()).map(Tuple2::_2);
                List<ModelPixels> examples = evalOk.take(6);
                List<Result> results = new ArrayList<>();
                String flips = committer.staging(FLIPS);
                boolean first = true;
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
                        // the flip rows are written by the executors; the rates are read back from the table
                        spark.createDataFrame(evaluate(spark, evalOk, s.model(), hadoop, v, noise, variant, xi), FLIPS_SCHEMA)
                                .write().mode(first ? SaveMode.ErrorIfExists : SaveMode.Append).parquet(flips);
                        first = false;
                        Row c = spark.read().schema(FLIPS_SCHEMA).parquet(flips)
                                .filter(col("variant").equalTo(variant).and(col("xi").equalTo(xi)))
                                .agg(count(lit(1)), sum(when(col("flipped"), 1L).otherwise(0L)), sum(when(col("random_flipped"), 1L).otherwise(0L)))
                                .first();
                        if (c.getLong(0) != nEval) {
                            throw new IllegalStateException("counts do not reconcile: " + nEval + " eval images but " + c.getLong(0)
                                    + " flip rows for " + variant + " ξ=" + trim(xi) + "; nothing was committed");
                        }
                        double rate = c.getLong(1) / (double) nEval;
                        double rnd = c.getLong(2) / (double) nEval;
                        Double tRate = null;
                        Double tRnd = null;
                        if (s.transferModel() != null) {
                            long[] t = evaluate(spark, evalOk, s.transferModel(), hadoop, v, noise, variant, xi)
                                    .map(r -> new long[] {r.getBoolean(7) ? 1 : 0, r.getBoolean(8) ? 1 : 0})
                                    .fold(new long[2], (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
                            tRate = t[0] / (double) nEval;
                            tRnd = t[1] / (double) nEval;
                        }
                        results.add(new Result(variant, xi, passes, fitRate, rate, rnd, tRate, tRnd, fitSeconds, v));
                    }
                }
                List<Row> stats = new ArrayList<>();
                for (Result r : results) {
                    stats.add(RowFactory.create(r.variant(), s.normName(), r.xi(), nFit, nEval,
                            r.passes(), r.fitRate(), r.rate(), r.randomRate(), s.transferModel(), r.transferRate(), r.transferRandomRate(),
                            r.seconds(), new Integer[] {spec.channels(), spec.height(), spec.width()}, r.v()));
                    String name = String.format(Locale.ROOT, "uap-%s-%s-%s", r.variant(), s.normName(), trim(r.xi()));
                    committer.writeFile(PICTURES, name + ".png", PngWriter.encode(picture(r, spec, name, examples, model)));
                    committer.writeFile(PICTURES, name + ".f32", littleEndian(r.v()));
                }
                spark.createDataFrame(stats, STATS_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(STATS));
                committer.commit(List.of(STATS, FLIPS, ERRORS, PICTURES));
                return new Summary(nFit, nEval, errors, (System.nanoTime() - t0) / 1e9, results,
                        s.norm() == DeepFool.Norm.LINF ? "inf" : "2", s.transferModel(), committer.finalPath(STATS),
                        committer.finalPath(ERRORS), committer.finalPath(PICTURES));
            } finally {
                px.unpersist();
            }
        }
    }

    /**
     * Both sets decoded in one pass, lazily (one batch of a task in memory while it decodes); an
     * input is tagged {@code true} when its partition is one of the fit set's (the union keeps the
     * fit set's partitions first). Bad inputs go to the errors channel, not to the result.
     */
    private static JavaRDD<Tuple2<Boolean, ModelPixels>> decode(JavaRDD<Row> inputs, int fitParts, UapOptions s, HadoopConf hadoop,
                                                             ErrorChannel channel, LongAccumulator progress) {
        String model = s.model();
        long maxPixels = s.input().maxPixels();
        long maxBytes = s.input().maxBytes();
        return inputs.mapPartitionsWithIndex((idx, rows) -> {
            ModelSpec spec = ExecutorRuntime.model(model, hadoop.get(), true).spec();
            Preprocessor pre = new Preprocessor(spec);
            ImageDecoder d = new ImageDecoder(maxPixels);
            boolean fit = idx < fitParts;
            ImageBatches<ModelPixels> batches = new ImageBatches<>(rows, 64, in -> {
                byte[] bytes = in.bytes(maxBytes, hadoop.get());
                return new ModelPixels(in.path(), in.label(), ContentHash.of(bytes), pre.modelPixels(d.decode(bytes, pre.decodeTarget())).data());
            }, channel.writer(), progress);
            return ImageBatches.flatten(batches, b -> {
                List<Tuple2<Boolean, ModelPixels>> out = new ArrayList<>(b.size());
                b.forEach(p -> out.add(new Tuple2<>(fit, p)));
                return out;
            });
        }, true);
    }

    /** Per eval image: clean and adversarial prediction of {@code model}, flipped by v and by the noise; computed lazily in batches. */
    private static JavaRDD<Row> evaluate(SparkSession spark, JavaRDD<ModelPixels> eval, String model, HadoopConf hadoop, float[] v,
                                         float[] noise, String variant, double xi) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<float[]> vb = jsc.broadcast(v);
        Broadcast<float[]> nb = jsc.broadcast(noise);
        return eval.mapPartitions((Iterator<ModelPixels> it) -> {
            LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), false);
            PixelSpace ps = new PixelSpace(m.spec());
            ModelForward f = forward(m);
            return ImageBatches.flatten(chunks(it, BATCH), items -> {
                float[] x = stack(items, ps.perImage());
                int[] clean = UniversalPerturbation.predictions(f, ps, x, items.size(), null);
                int[] adv = UniversalPerturbation.predictions(f, ps, x, items.size(), vb.value());
                int[] rnd = UniversalPerturbation.predictions(f, ps, x, items.size(), nb.value());
                List<Row> res = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    ModelPixels mp = items.get(i);
                    res.add(RowFactory.create(mp.imageId(), mp.path(), mp.label(), variant, xi, m.spec().labels().get(clean[i]),
                            m.spec().labels().get(adv[i]), adv[i] != clean[i], rnd[i] != clean[i]));
                }
                return res;
            });
        });
    }

    /** A forward context for this task, closed when the task completes. */
    private static ModelForward forward(LoadedModel m) {
        ModelForward f = m.newForward();
        TaskContext tc = TaskContext.get();
        if (tc != null) {
            tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> f.close());
        }
        return f;
    }

    /** The items in lists of at most {@code n}, lazily. */
    static <T> Iterator<List<T>> chunks(Iterator<T> it, int n) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public List<T> next() {
                if (!it.hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                List<T> c = new ArrayList<>(n);
                while (c.size() < n && it.hasNext()) {
                    c.add(it.next());
                }
                return c;
            }
        };
    }

    private static float[] stack(List<ModelPixels> items, int per) {
        float[] x = new float[items.size() * per];
        for (int i = 0; i < items.size(); i++) {
            System.arraycopy(items.get(i).pixels(), 0, x, i * per, per);
        }
        return x;
    }

    /**
     * The data-parallel variant: each iteration samples about {@code sgdBatch} fit images
     * (seeded), sums the loss gradients per partition, and the driver adds them up in partition
     * order (so the result does not depend on task timing) and takes one projected step.
     */
    private static Object[] sgd(SparkSession spark, JavaRDD<ModelPixels> fit, long nFit, UapOptions s, double xi, HadoopConf hadoop) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String model = s.model();
        JavaRDD<Tuple2<ModelPixels, Integer>> withClean = fit.mapPartitions((Iterator<ModelPixels> it) -> {
            LoadedModel m = ExecutorRuntime.model(model, hadoop.get(), true);
            PixelSpace ps = new PixelSpace(m.spec());
            ModelForward f = forward(m);
            return ImageBatches.flatten(chunks(it, BATCH), items -> {
                int[] clean = UniversalPerturbation.predictions(f, ps, stack(items, ps.perImage()), items.size(), null);
                List<Tuple2<ModelPixels, Integer>> out = new ArrayList<>(items.size());
                for (int i = 0; i < items.size(); i++) {
                    out.add(new Tuple2<>(items.get(i), clean[i]));
                }
                return out;
            });
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
                ModelForward f = forward(m);
                long c = 0;
                Iterator<List<Tuple2<ModelPixels, Integer>>> chunks = chunks(items, BATCH);
                while (chunks.hasNext()) {
                    List<Tuple2<ModelPixels, Integer>> list = chunks.next();
                    int p = ps.perImage();
                    float[] x = new float[list.size() * p];
                    for (int i = 0; i < list.size(); i++) {
                        System.arraycopy(list.get(i)._1().pixels(), 0, x, i * p, p);
                    }
                    int[] adv = UniversalPerturbation.predictions(f, ps, x, list.size(), vb.value());
                    for (int i = 0; i < list.size(); i++) {
                        if (adv[i] != list.get(i)._2()) {
                            c++;
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
