package io.cnnlens.jobs.tune;

import io.cnnlens.image.PngWriter;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.spark.ExecutorRuntime;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.plot.TuningCharts;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.tuning.Checklist;
import io.cnnlens.tuning.CurveDiagnosis;
import io.cnnlens.tuning.FamilyTraining;
import io.cnnlens.tuning.LabelledImages;
import io.cnnlens.tuning.LrRangeTest;
import io.cnnlens.tuning.Recipe;
import io.cnnlens.tuning.SearchSpace;
import io.cnnlens.tuning.SuccessiveHalving;
import io.cnnlens.tuning.TrainingSession;
import io.cnnlens.tuning.TrialRun;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code cnnlens tune}: the lecture's hyperparameter checklist and search for the bundled architecture family
 * (docs/tuning.md). The checklist runs on the driver; every trial is one Spark task (its CPU share as PyTorch threads),
 * each rung of successive halving one Spark job; the chosen recipe is trained once more in a task, tested once on the
 * test split, and saved with a model spec ({@code tune_model/tuned.properties}) every other job's {@code --model} takes.
 */
public final class TuneJob implements Job<TuneOptions> {

    private static final Logger LOG = LoggerFactory.getLogger(TuneJob.class);

    public static final String TRIALS = "tune_trials";
    public static final String ITERATIONS = "tune_iterations";
    public static final String EPOCHS = "tune_epochs";
    public static final String CHECKS = "tune_checks";
    public static final String PICTURES = "pictures/tune";
    public static final String CHECK_PICTURES = "pictures/tune-check";
    public static final String MODEL = "tune_model";
    /** Test hook: a trial id whose first task attempt fails after its first epoch (local mode: one JVM). */
    public static final String FAIL_ONCE = "cnnlens.tune.failOnce";

    static final StructType TRIAL_SCHEMA = new StructType()
            .add("id", DataTypes.StringType).add("round", DataTypes.StringType).add("rung", DataTypes.IntegerType)
            .add("trial", DataTypes.IntegerType).add("width", DataTypes.DoubleType).add("dropout", DataTypes.DoubleType)
            .add("batch_size", DataTypes.IntegerType).add("optimizer", DataTypes.StringType).add("lr", DataTypes.DoubleType)
            .add("schedule", DataTypes.StringType).add("weight_decay", DataTypes.DoubleType).add("epochs", DataTypes.IntegerType)
            .add("init", DataTypes.StringType).add("status", DataTypes.StringType).add("note", DataTypes.StringType)
            .add("best_val_acc", DataTypes.DoubleType).add("last_val_acc", DataTypes.DoubleType)
            .add("last_train_acc", DataTypes.DoubleType).add("seconds", DataTypes.DoubleType)
            .add("images_per_s", DataTypes.DoubleType).add("diagnosis", DataTypes.StringType).add("evidence", DataTypes.StringType)
            .add("host", DataTypes.StringType).add("attempt", DataTypes.IntegerType).add("test_acc", DataTypes.DoubleType);
    static final StructType ITER_SCHEMA = new StructType().add("id", DataTypes.StringType).add("iteration", DataTypes.IntegerType)
            .add("loss", DataTypes.FloatType);
    static final StructType EPOCH_SCHEMA = new StructType().add("id", DataTypes.StringType).add("epoch", DataTypes.IntegerType)
            .add("train_acc", DataTypes.DoubleType).add("val_acc", DataTypes.DoubleType).add("val_loss", DataTypes.DoubleType);
    static final StructType CHECK_SCHEMA = new StructType().add("check", DataTypes.StringType).add("passed", DataTypes.BooleanType)
            .add("numbers", DataTypes.StringType).add("advice", DataTypes.StringType);

    /** One trial to train: its id, where it sits in the search, and its recipe (epochs = its rung's budget). */
    record TrialTask(String id, String round, int rung, int index, Recipe recipe) implements java.io.Serializable {
    }

    /** What a run did. */
    public record Summary(List<String> lines, List<TrialRecord> trials, Optional<TrialRecord> chosen, String modelSpec) {
    }

    @Override
    public String name() {
        return "tune";
    }

    @Override
    public String[] description() {
        return new String[] {"Choose hyperparameters for the bundled architecture family the lecture's way (docs/tuning.md): "
                + "check (initial loss vs ln C, overfit a small sample, LR range test), search (grid or random from --space, "
                + "successive halving, coarse then refined; one Spark task per trial, a validation split held out of the "
                + "training data for every choice), final (the chosen recipe trained again, tested once, saved).",
                "Writes tune_trials, tune_iterations, tune_epochs, tune_checks, pictures/tune, pictures/tune-check and "
                        + "tune_model/tuned.properties (a model spec for --model). Trials are recorded as they finish under "
                        + "<out>/_tune/, so a restarted search resumes."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return TuneOptions.KEYS;
    }

    @Override
    public TuneOptions options(OptionValues values) {
        return TuneOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TRIALS, ITERATIONS, EPOCHS, CHECKS, PICTURES, CHECK_PICTURES, MODEL);
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, TuneOptions o) {
        Summary s = run(context.spark(), o);
        return new JobResult(s.lines().get(0), s.lines().subList(1, s.lines().size()));
    }

    @Override
    public Optional<Section> report(ReportContext report) {
        List<HtmlReport.Table> tables = new ArrayList<>();
        report.table(CHECKS).ifPresent(t -> {
            List<HtmlReport.Row> rows = new ArrayList<>();
            for (Row r : t.collectAsList()) {
                rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.text(r.getBoolean(1) ? "pass" : "FAIL"),
                        Cell.text(r.getString(2)), Cell.text(r.getBoolean(1) ? "" : r.getString(3)))));
            }
            tables.add(new HtmlReport.Table("checklist", List.of("check", "result", "numbers", "what to do"), rows, ""));
        });
        report.table(TRIALS).ifPresent(t -> {
            List<HtmlReport.Row> rows = new ArrayList<>();
            List<Row> all = t.orderBy(org.apache.spark.sql.functions.col("best_val_acc").desc()).collectAsList();
            for (Row r : all.subList(0, Math.min(15, all.size()))) {
                rows.add(new HtmlReport.Row(List.of(Cell.text(r.getString(0)), Cell.number(fmt("%.3g", r.getDouble(8))),
                        Cell.number(fmt("%.3g", r.getDouble(10))), Cell.number(fmt("%.2f", r.getDouble(5))), Cell.number(String.valueOf(r.getInt(11))),
                        Cell.text(r.getString(13)), Cell.number(fmt("%.4f", r.getDouble(15))), Cell.text(r.getString(20) + ": " + r.getString(21)))));
            }
            tables.add(new HtmlReport.Table("trials (best validation accuracy first)", List.of("trial", "lr", "weight decay", "dropout",
                    "epochs", "status", "best val acc", "diagnosis"), rows, all.size() > 15 ? (all.size() - 15) + " more in " + TRIALS : ""));
        });
        Optional<Section> main = report.pictures("tune", "Hyperparameter search",
                "The lecture's checklist, then the search: every trial's loss (scatter + moving average) and accuracy curves, all trials "
                        + "on one plot, validation accuracy over the two most important hyperparameters, and a diagnosis per trial. "
                        + "Choices use the validation split; the test split is used once, for the chosen model.", tables);
        Optional<Section> check = report.pictures("tune-check", "Hyperparameter checklist", "Overfitting a small sample and the LR range test.",
                main.isPresent() ? List.of() : tables);
        if (main.isPresent() && check.isPresent()) {
            List<HtmlReport.Picture> pics = new ArrayList<>(check.get().pictures());
            pics.addAll(main.get().pictures());
            return Optional.of(new Section("tune", main.get().title(), main.get().text(), tables, pics));
        }
        return main.isPresent() ? main : check;
    }

    public static Summary run(SparkSession spark, TuneOptions o) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        TuneData data = TuneData.of(o, o.threads() > 0 ? o.threads() : Runtime.getRuntime().availableProcessors());
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add(String.format(Locale.ROOT, "data: %d training images (of %d after holding out %d for validation), %d validation, %d test%s, "
                        + "%d classes, mean %.4f std %.4f", data.train().size(), data.trainAll(), data.val().size(), data.val().size(),
                data.test().size(), data.testHeldOut() ? " (held out of the training data)" : "", data.train().classes().size(),
                data.settings().mean(), data.settings().std()));
        SearchSpace space;
        try {
            space = SearchSpace.load(Path.of(o.space()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read search space " + o.space() + ": " + e.getMessage(), e);
        }
        Recipe base = fixed(space);
        List<String> tables = new ArrayList<>();
        List<TrialRecord> records = new ArrayList<>();
        Optional<TrialRecord> chosen = Optional.empty();
        String specPath = "";
        try (TableCommitter c = new TableCommitter(spark, o.out(), "tune")) {
            if (o.has("check")) {
                long c0 = System.nanoTime();
                check(spark, c, o, base, data, lines);
                lines.add(fmt("checklist: %.0f s", (System.nanoTime() - c0) / 1e9));
                tables.add(CHECKS);
                tables.add(CHECK_PICTURES);
            }
            String storeDir = new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(o.out(), "_tune"), fingerprint(o, space)).toString();
            if (o.has("search") || o.has("final")) {
                records.addAll(search(spark, o, space, base, storeDir, hadoop, lines, o.has("search")));
            }
            if (o.has("final")) {
                TrialRecord best = records.stream().filter(r -> TrialRun.OK.equals(r.status()))
                        .max(Comparator.comparingDouble(TrialRecord::bestValAcc).thenComparing(TrialRecord::id, Comparator.reverseOrder()))
                        .orElseThrow(() -> new IllegalStateException("no finished trial to choose from (all diverged, or run --steps search first)"));
                Recipe r = Recipe.of(best.recipe());
                if (o.finalEpochs() > 0) {
                    r = r.withEpochs(o.finalEpochs());
                }
                FinalModel fm = trainFinal(spark, o, r, storeDir, hadoop);
                records.add(fm.record());
                chosen = Optional.of(fm.record());
                TuneData finalData = TuneData.of(o.forFinal(), 1);
                writeModel(c, fm, finalData, r);
                tables.add(MODEL);
                specPath = c.finalPath(MODEL) + "/tuned.properties";
                lines.add(String.format(Locale.ROOT, "chosen: %s (best val accuracy %.4f) %s", best.id(), best.bestValAcc(), r.line()));
                lines.add(String.format(Locale.ROOT, "final: %d epochs on %d training images  val accuracy %.4f  test accuracy %.4f on %d "
                        + "test images (touched once)  model spec %s", r.epochs(), finalData.train().size(), fm.record().lastValAcc(),
                        fm.record().testAcc(), finalData.test().size(), specPath));
            }
            if (!records.isEmpty()) {
                writeTables(spark, c, records);
                TunePictures.write(c, records, PICTURES);
                tables.addAll(List.of(TRIALS, ITERATIONS, EPOCHS, PICTURES));
            }
            c.commit(tables);
        }
        long diverged = records.stream().filter(r -> TrialRun.DIVERGED.equals(r.status())).count();
        lines.set(0, String.format(Locale.ROOT, "tune: steps %s  trials %d (diverged %d)%s  %.0f s", String.join(",", o.steps()),
                records.stream().filter(r -> !r.round().equals("final")).count(), diverged,
                chosen.map(r -> String.format(Locale.ROOT, "  test accuracy %.4f", r.testAcc())).orElse(""), (System.nanoTime() - t0) / 1e9));
        return new Summary(lines, records, chosen, specPath);
    }

    /** The base recipe: the bundled one with the space's fixed values. */
    static Recipe fixed(SearchSpace space) {
        Recipe r = Recipe.defaults();
        for (SearchSpace.Dim d : space.dims().values()) {
            if (d.kind() == SearchSpace.Kind.FIXED) {
                r = r.with(d.name(), d.choices().get(0));
            }
        }
        return r;
    }

    /** The search's identity: what decides its trials (a restarted run with the same options finds its records). */
    static String fingerprint(TuneOptions o, SearchSpace space) {
        String s = String.join("|", space.text(), o.data(), o.mode(), String.valueOf(o.trials()), String.valueOf(o.gridPoints()),
                String.valueOf(o.trainSize()), String.valueOf(o.valSize()), String.valueOf(o.minEpochs()), String.valueOf(o.maxEpochs()),
                String.valueOf(o.eta()), String.valueOf(o.refineTop()), String.valueOf(o.refineMargin()), String.valueOf(o.seed()));
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return "search-" + java.util.HexFormat.of().formatHex(h, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void check(SparkSession spark, TableCommitter c, TuneOptions o, Recipe base, TuneData data, List<String> lines) {
        FamilyTraining.Settings s = data.settings();
        LabelledImages sample = data.train().subset(java.util.stream.IntStream.range(0, Math.min(1000, data.train().size())).toArray());
        Checklist.Check init = Checklist.initialLoss(base, sample, s);
        int n = Math.min(o.overfitImages(), data.train().size());
        int bs = Math.max(1, n / 5);
        LabelledImages small = data.train().subset(java.util.stream.IntStream.range(0, n).toArray());
        Checklist.Overfit of = Checklist.overfit(base.with("batch-size", String.valueOf(bs)), small, s, o.overfitIterations(), 5);
        LrRangeTest.Result range = Checklist.lrRange(base, data.train(), s, 1e-8, 1, o.rangeSteps());
        Checklist.Check lr = Checklist.lrCheck(range, base.lr());
        List<Row> rows = new ArrayList<>();
        for (Checklist.Check ch : List.of(init, of.check(), lr)) {
            lines.add("check " + ch.line());
            rows.add(RowFactory.create(ch.name(), ch.passed(), ch.numbers(), ch.advice()));
        }
        spark.createDataFrame(rows, CHECK_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging(CHECKS));
        double[] x = new double[of.loss().length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
        }
        List<Double> ax = new ArrayList<>();
        List<Double> ay = new ArrayList<>();
        for (int i = 0; i < of.accuracy().length; i++) {
            if (Double.isFinite(of.accuracy()[i])) {
                ax.add(i + 1.0);
                ay.add(of.accuracy()[i]);
            }
        }
        c.writeFile(CHECK_PICTURES, "overfit-loss.png", PngWriter.encode(TuningCharts.lines(
                fmt("Overfit %d images (%s): loss", n, of.check().passed() ? "100 % after " + of.iterations() + " iterations" : "FAIL"),
                "iteration", "training loss", List.of(new TuningCharts.Curve("loss", x, of.loss())), false, false, 700, 420)));
        c.writeFile(CHECK_PICTURES, "overfit-accuracy.png", PngWriter.encode(TuningCharts.lines(
                fmt("Overfit %d images: training accuracy (evaluation mode)", n), "iteration", "accuracy",
                List.of(new TuningCharts.Curve("accuracy", ax.stream().mapToDouble(Double::doubleValue).toArray(),
                        ay.stream().mapToDouble(Double::doubleValue).toArray())), true, false, 700, 420)));
        Map<String, Double> marks = new LinkedHashMap<>();
        marks.put(fmt("suggested %.3g", range.suggestion()), range.suggestion());
        marks.put(fmt("recipe's lr %.3g", base.lr()), base.lr());
        c.writeFile(CHECK_PICTURES, "lr-range.png", PngWriter.encode(TuningCharts.rangeTest(
                fmt("LR range test (%d steps, batch %d): suggestion %.3g", range.stoppedAt(), base.batchSize(), range.suggestion()),
                range.lrs(), range.loss(), range.smoothed(), marks, 800, 480)));
    }

    /** Coarse round, then the refined one; successive halving within each. Returns every trial record of the search. */
    private static List<TrialRecord> search(SparkSession spark, TuneOptions o, SearchSpace space, Recipe base, String storeDir,
                                            HadoopConf hadoop, List<String> lines, boolean train) {
        Map<String, TrialRecord> done = TrialStore.all(storeDir, hadoop.get());
        if (!done.isEmpty()) {
            lines.add("resuming: " + done.size() + " trials already recorded under " + storeDir);
        }
        List<TrialRecord> all = new ArrayList<>();
        List<Recipe> coarse = o.mode().equals("grid") ? space.grid(base, o.gridPoints()) : space.random(base, o.trials(), o.seed());
        List<TrialRecord> top = halving(spark, o, "coarse", coarse, o.minEpochs(), o.maxEpochs(), storeDir, hadoop, done, all, lines, train);
        if (o.refineTop() > 0 && !top.isEmpty()) {
            List<Recipe> best = top.stream().sorted(Comparator.comparingDouble(TrialRecord::bestValAcc).reversed()).limit(o.refineTop())
                    .map(r -> Recipe.of(r.recipe())).toList();
            SearchSpace refined = space.refine(best, o.refineMargin());
            lines.add("refined space: " + refined.text().strip().replace('\n', ';'));
            List<Recipe> fine = o.mode().equals("grid") ? refined.grid(base, o.gridPoints()) : refined.random(base, o.trials(), o.seed() + 1);
            halving(spark, o, "refine", fine, o.minEpochs() * 2, o.maxEpochs() * 2, storeDir, hadoop, done, all, lines, train);
        }
        return all;
    }

    /** Successive halving over {@code recipes}; returns the records of the last rung. */
    private static List<TrialRecord> halving(SparkSession spark, TuneOptions o, String round, List<Recipe> recipes, int min, int max,
                                             String storeDir, HadoopConf hadoop, Map<String, TrialRecord> done, List<TrialRecord> all,
                                             List<String> lines, boolean train) {
        List<Integer> rungs = SuccessiveHalving.rungs(min, max, o.eta());
        List<Integer> alive = java.util.stream.IntStream.range(0, recipes.size()).boxed().toList();
        List<TrialRecord> last = List.of();
        for (int k = 0; k < rungs.size() && !alive.isEmpty(); k++) {
            int epochs = rungs.get(k);
            List<TrialTask> tasks = new ArrayList<>();
            List<TrialRecord> rung = new ArrayList<>();
            for (int i : alive) {
                String id = fmt("%s-r%d-t%03d", round, k, i);
                if (done.containsKey(id)) {
                    rung.add(done.get(id));
                } else {
                    tasks.add(new TrialTask(id, round, k, i, recipes.get(i).withEpochs(epochs)));
                }
            }
            if (!tasks.isEmpty() && !train) {
                throw new IllegalStateException("--steps final without search: " + tasks.size() + " trials of this search are not recorded "
                        + "under " + storeDir + "; run --steps search first");
            }
            long r0 = System.nanoTime();
            rung.addAll(runTrials(spark, o, tasks, storeDir, hadoop));
            rung.sort(Comparator.comparing(TrialRecord::id));
            all.addAll(rung);
            long div = rung.stream().filter(r -> TrialRun.DIVERGED.equals(r.status())).count();
            TrialRecord best = rung.stream().max(Comparator.comparingDouble(TrialRecord::bestValAcc)).orElseThrow();
            double[] rates = rung.stream().mapToDouble(TrialRecord::imagesPerSecond).sorted().toArray();
            lines.add(fmt("%s rung %d: %d trials × %d epochs (%d trained now, %d recorded before, %d diverged) in %.0f s; best %s val %.4f; "
                            + "median training throughput %.0f images/s per trial",
                    round, k, rung.size(), epochs, tasks.size(), rung.size() - tasks.size(), div, (System.nanoTime() - r0) / 1e9, best.id(),
                    best.bestValAcc(), rates[rates.length / 2]));
            last = rung;
            if (k + 1 < rungs.size()) {
                alive = SuccessiveHalving.promote(rung.stream().map(r -> new SuccessiveHalving.Scored(r.index(), r.bestValAcc(),
                        !TrialRun.OK.equals(r.status()))).toList(), o.eta());
            }
        }
        return last;
    }

    /** One Spark task per trial; each task records its trial in the store before returning it. */
    static List<TrialRecord> runTrials(SparkSession spark, TuneOptions o, List<TrialTask> tasks, String storeDir, HadoopConf hadoop) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        spark.sparkContext().setJobDescription("tune: " + tasks.size() + " trials, " + tasks.get(0).recipe().epochs() + " epochs");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return jsc.parallelize(tasks, tasks.size()).map(t -> {
            TrialRecord r = trainTrial(t, o);
            TrialStore.put(storeDir, r, hadoop.get());
            return r;
        }).collect();
    }

    /** Trains one trial where the task runs. */
    static TrialRecord trainTrial(TrialTask t, TuneOptions o) {
        int threads = o.threads() > 0 ? o.threads() : ExecutorRuntime.taskCpus();
        TuneData d = TuneData.of(o, threads);
        TaskContext tc = TaskContext.get();
        int attempt = tc == null ? 0 : tc.attemptNumber();
        String failOnce = System.getProperty(FAIL_ONCE, "");
        LOG.info("tune: trial {} attempt {} {}", t.id(), attempt, t.recipe().line());
        TrialRun run = FamilyTraining.train(t.recipe(), d.train(), d.val(), d.settings(), line -> {
            LOG.info("tune: trial {}: {}", t.id(), line);
            if (attempt == 0 && t.id().equals(failOnce)) {
                throw new IllegalStateException("injected failure of trial " + t.id() + " mid-trial (" + FAIL_ONCE + ")");
            }
        });
        return record(t.id(), t.round(), t.rung(), t.index(), t.recipe(), run, attempt, Double.NaN);
    }

    static TrialRecord record(String id, String round, int rung, int index, Recipe r, TrialRun run, int attempt, double testAcc) {
        CurveDiagnosis.Diagnosis dg = run.diverged()
                ? new CurveDiagnosis.Diagnosis(List.of(new CurveDiagnosis.Finding("lr-too-high", "diverged: " + run.note()
                        + ": the learning rate is too high (or bad initialisation); lower it")))
                : CurveDiagnosis.diagnose(run.iterLoss(), run.trainAcc(), run.valAcc());
        int e = run.epochs();
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException ex) {
            host = "";
        }
        return new TrialRecord(id, round, rung, index, r.asMap(), run.status(), run.note(), run.bestValAcc(),
                e > 0 ? run.valAcc()[e - 1] : Double.NaN, e > 0 ? run.trainAcc()[e - 1] : Double.NaN, run.seconds(), run.imagesPerSecond(),
                run.iterLoss(), run.trainAcc(), run.valAcc(), run.valLoss(), dg.label(), dg.text(), host, attempt, testAcc);
    }

    /** The chosen recipe trained once more in a Spark task, then evaluated on the test split once; its weights come back as bytes. */
    record FinalModel(TrialRecord record, byte[] params) implements java.io.Serializable {
    }

    static FinalModel trainFinal(SparkSession spark, TuneOptions o, Recipe r, String storeDir, HadoopConf hadoop) {
        spark.sparkContext().setJobDescription("tune: final training, " + r.epochs() + " epochs");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return jsc.parallelize(List.of(r), 1).map(recipe -> {
            int threads = o.threads() > 0 ? o.threads() : ExecutorRuntime.taskCpus();
            TuneData d = TuneData.of(o.forFinal(), threads);
            TrainingSession[] keep = new TrainingSession[1];
            TrialRun run = FamilyTraining.train(recipe, d.train(), d.val(), d.settings(), line -> LOG.info("tune: final: {}", line), keep);
            if (keep[0] == null) {
                return new FinalModel(record("final", "final", 0, 0, recipe, run, 0, Double.NaN), null);
            }
            try (TrainingSession s = keep[0]) {
                double test = s.accuracy(d.test().pixels(), d.test().labels());
                Path dir = Files.createTempDirectory("cnnlens-tune");
                Path params = s.save(dir, "tuned");
                byte[] bytes = Files.readAllBytes(params);
                Files.delete(params);
                Files.delete(dir);
                TaskContext tc = TaskContext.get();
                return new FinalModel(record("final", "final", 0, 0, recipe, run, tc == null ? 0 : tc.attemptNumber(), test), bytes);
            }
        }).collect().get(0);
    }

    private static void writeModel(TableCommitter c, FinalModel fm, TuneData data, Recipe r) {
        if (fm.params() == null) {
            throw new IllegalStateException("the chosen recipe diverged in its final training: " + fm.record().note());
        }
        c.writeFile(MODEL, "tuned/tuned-0000.params", fm.params());
        c.writeFile(MODEL, "tuned/labels.txt", (String.join("\n", data.train().classes()) + "\n").getBytes(StandardCharsets.UTF_8));
        String spec = String.join("\n",
                "# A model of the bundled architecture family chosen and trained by `cnnlens tune` (docs/tuning.md).",
                "# recipe: " + r.line(),
                fmt("# validation accuracy %.4f; test accuracy %.4f (test split touched once)", fm.record().lastValAcc(), fm.record().testAcc()),
                "name=tuned",
                "format=djl",
                "architecture=fashion-alexnet:width=" + r.asMap().get("width"),
                "weights=tuned/tuned-0000.params",
                "input.channels=1",
                "input.height=28",
                "input.width=28",
                "input.resize=stretch",
                fmt("input.mean=%.4f", data.settings().mean()),
                fmt("input.std=%.4f", data.settings().std()),
                "taps.features=fc7",
                "taps.logits=logits",
                "taps.conv=conv5",
                "taps.first-conv=conv1",
                "labels=tuned/labels.txt",
                "layers.geometry=conv1 k5 s1 p2, pool1 k2 s2, conv2 k3 s1 p1, pool2 k2 s2, conv3 k3 s1 p1, \\",
                "  conv4 k3 s1 p1, conv5 k3 s1 p1, pool5 k2 s2", "");
        c.writeFile(MODEL, "tuned.properties", spec.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeTables(SparkSession spark, TableCommitter c, List<TrialRecord> records) {
        List<Row> trials = new ArrayList<>();
        List<Row> iters = new ArrayList<>();
        List<Row> epochs = new ArrayList<>();
        for (TrialRecord t : records) {
            Recipe r = Recipe.of(t.recipe());
            trials.add(RowFactory.create(t.id(), t.round(), t.rung(), t.index(), r.width(), r.dropout(), r.batchSize(), r.optimizer(), r.lr(),
                    r.schedule(), r.weightDecay(), r.epochs(), r.init(), t.status(), t.note(), t.bestValAcc(), t.lastValAcc(), t.lastTrainAcc(),
                    t.seconds(), t.imagesPerSecond(), t.diagnosis(), t.evidence(), t.host(), t.attempt(), t.testAcc()));
            for (int i = 0; i < t.loss().length; i++) {
                iters.add(RowFactory.create(t.id(), i + 1, t.loss()[i]));
            }
            for (int e = 0; e < t.valAcc().length; e++) {
                epochs.add(RowFactory.create(t.id(), e + 1, t.trainAcc()[e], t.valAcc()[e], t.valLoss()[e]));
            }
        }
        write(spark, c, TRIALS, trials, TRIAL_SCHEMA);
        write(spark, c, ITERATIONS, iters, ITER_SCHEMA);
        write(spark, c, EPOCHS, epochs, EPOCH_SCHEMA);
    }

    private static void write(SparkSession spark, TableCommitter c, String table, List<Row> rows, StructType schema) {
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        df.coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging(table));
    }

    static String fmt(String f, Object... a) {
        return String.format(Locale.ROOT, f, a);
    }
}
