package io.cnnlens.jobs.embed;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import java.util.Optional;
import io.cnnlens.report.HtmlReport;
import io.cnnlens.report.HtmlReport.Cell;
import io.cnnlens.report.HtmlReport.Section;
import io.cnnlens.report.HtmlReport.Table;

import io.cnnlens.stats.Permutations;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;

import io.cnnlens.embedding.ExactKnn;
import io.cnnlens.embedding.MapQuality;
import io.cnnlens.embedding.PcaProjection;
import io.cnnlens.embedding.BarnesHutTsne;
import io.cnnlens.embedding.TsnePlacement;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.PngWriter;
import io.cnnlens.plot.ImageGrid;
import io.cnnlens.plot.LabelledScatter;
import org.apache.spark.api.java.JavaPairRDD;
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

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The embed job: 2-D maps of the feature space. PCA (Smile) is fitted on a seeded sample and
 * applied to every row on executors, giving a 2-D map and a ~50-D input for t-SNE. t-SNE
 * ({@link BarnesHutTsne}: the paper's perplexity and schedule, PCA start) fits every point up to
 * the driver limit ({@link #driverLimit}), its sparse affinities built on executors
 * ({@link KnnAffinities}: exact blocked kNN, 3·perplexity neighbours); above the limit (or
 * {@code --tsne-sample}) a seeded sample is fitted and every other point is placed against that
 * fixed map on executors ({@link TsnePlacement}). With {@code --onto} the images go onto an
 * earlier run's map instead ({@link EarlierMap}). Writes
 * {@code <out>/embed/} (image_id, path, label, method, x, y), the PCA basis
 * {@code <out>/embed_basis/} and scatter plots plus a thumbnail
 * mosaic under {@code <out>/pictures/embed/}; reports kNN accuracy and trustworthiness of both
 * maps on a sample. Needs at least {@value #MIN_IMAGES} images ({@link #cannotRun}); on a small
 * input the perplexity is lowered to (n − 2) / 3 and the quality k to (n − 2) / 2.
 */
public final class EmbedJob implements Job<EmbedOptions> {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EmbedJob.class);

    public static final String NAME = "embed";
    /** Fewer images than this make no map worth drawing; {@code run} skips the stage. */
    public static final int MIN_IMAGES = 8;

    public static final String TABLE = "embed";
    public static final String PICTURES = "pictures/embed";
    /** The PCA basis the map was made in, so a later run can put new images on it ({@code --onto}). */
    public static final String BASIS = EarlierMap.BASIS;

    public static final StructType SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.StringType, false),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("method", DataTypes.StringType, false),
            DataTypes.createStructField("x", DataTypes.FloatType, false),
            DataTypes.createStructField("y", DataTypes.FloatType, false)});

    /** Map quality on the quality sample: kNN-k accuracy per space and trustworthiness of each map. */
    public record Quality(long points, int k, double knnFeatures, double knnPca, double knnTsne,
                          double trustPca, double trustTsne) {
    }

    /**
     * What it did.
     *
     * @param perplexity  the t-SNE perplexity used (the option's, or lower on a small input)
     * @param caps        what was lowered for a small input, one line each (empty when nothing was)
     * @param mosaicEmpty mosaic cells left empty because their image could not be re-read
     */
    public record Summary(long inputs, long rows, double seconds, double pcaSeconds, Tsne tsne, double placeSeconds,
                          Quality quality, String table, String pictures, double perplexity, List<String> caps, int mosaicEmpty) {
        public Summary {
            caps = List.copyOf(caps);
        }

        /**
         * The embed job reads no image for its rows, so it has no errors figure (the old line printed a literal 0);
         * it ends with the t-SNE mode and why.
         */
        public String line() {
            return String.format(Locale.ROOT, "embed: inputs %d, rows %d, %.1f s, %.1f images/s, t-SNE %s",
                    inputs, rows, seconds, inputs / seconds, tsne.mode().describe());
        }
    }

    /**
     * The t-SNE scale mode: {@code full} (every point fitted), {@code sample} (a seeded sample
     * of {@code fitted} points fitted, the rest placed), with the driver limit it was chosen
     * against, or onto an earlier run's map ({@code onto} that run's folder: {@code fitted} points
     * kept their places there, the rest were placed against {@code references} of them;
     * {@code gone} images of that map are no longer in the features table).
     *
     * @param asked the --tsne-sample value (0: none asked)
     */
    public record Mode(boolean full, int fitted, long points, long driverLimit, int asked, String onto, int references, long gone) {
        static Mode onto(String onto, long kept, long points, int references, long gone) {
            return new Mode(false, (int) kept, points, 0, 0, onto, references, gone);
        }

        public String describe() {
            if (onto != null) {
                return String.format(Locale.ROOT, "onto %s: %d of %d points kept their places, %d placed against %d of them%s",
                        onto, fitted, points, points - fitted, references,
                        gone > 0 ? "; " + gone + " image(s) of that map are no longer in the features table" : "");
            }
            String limit = String.format(Locale.ROOT, "driver limit %d points (%.1f GB heap)", driverLimit,
                    Runtime.getRuntime().maxMemory() / 1e9);
            if (full) {
                return String.format(Locale.ROOT, "full: all %d points fitted (%s)", points,
                        asked > 0 ? "--tsne-sample " + asked + " covers them; " + limit : "at most the " + limit);
            }
            return String.format(Locale.ROOT, "sample: %d of %d points fitted, %d placed (%s)", fitted, points, points - fitted,
                    asked > 0 && asked <= driverLimit ? "--tsne-sample " + asked : "above the " + limit);
        }
    }

    /** What the t-SNE stage did: the mode, neighbours per point, how they were found and their recall (1: exact), P's non-zeros, times, threads, final KL, learning rate. */
    public record Tsne(Mode mode, int neighbours, String search, double recall, long affinities, double knnSeconds, double fitSeconds, int threads,
                       double klDivergence, double learningRate) {
    }

    /** Neighbours per point for the affinities: 3·perplexity (van der Maaten 2014), at most n − 1. */
    static int neighbours(double perplexity, long n) {
        return (int) Math.max(1, Math.min(n - 1, Math.floor(3 * perplexity)));
    }

    /**
     * Driver bytes per fitted point with k neighbours at the peak (symmetrising P): the gathered
     * n×k (index, p) rows, as objects and as flat arrays, the 2nk unsymmetrised entries and the
     * final matrix, 44·k + 400 (docs/methods.md#barnes-hut-t-sne; measured by tests/bench/tsne.sh).
     */
    static long bytesPerPoint(int k) {
        return 44L * k + 400;
    }

    /** The most points the driver fits: half its heap over {@link #bytesPerPoint}. */
    static long driverLimit(int k) {
        return Runtime.getRuntime().maxMemory() / 2 / bytesPerPoint(k);
    }

    static Mode mode(long n, int asked, long limit) {
        long cap = asked > 0 ? Math.min(asked, limit) : limit;
        cap = Math.min(cap, Integer.MAX_VALUE / 128);
        return n <= cap ? new Mode(true, (int) n, n, limit, asked, null, 0, 0) : new Mode(false, (int) cap, n, limit, asked, null, 0, 0);
    }

    /** One image after PCA. */
    record Point(long key, long hash, String id, String path, String label, float[] vector, float[] pca) implements Serializable {
    }

    public EmbedJob() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "2-D maps of a feature column: PCA (fitted on a sample, applied to all rows) and Barnes-Hut t-SNE of the "
                        + "50-D PCA (the paper's perplexity and schedule, a PCA start; nearest neighbours on executors, the "
                        + "gradient on the driver's cores) fitting every point up to the driver limit; above it a seeded sample "
                        + "is fitted and the other points placed against the fixed map on executors.",
                "With --onto <earlier embed out> no map is fitted: that run's PCA basis is applied, its images keep their "
                        + "places and the new ones are placed on its map.",
                "Writes <out>/embed/ (image_id, path, label, method, x, y), <out>/embed_basis/ (the PCA basis, for a later "
                        + "--onto) and <out>/pictures/embed/{pca,tsne,tsne-mosaic}.png; "
                        + "prints kNN accuracy and trustworthiness of both maps on a sample. Needs at least " + MIN_IMAGES
                        + " images; on fewer than about 100 the perplexity and the quality k are lowered to what they can carry."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return EmbedOptions.KEYS;
    }

    @Override
    public EmbedOptions options(OptionValues values) {
        return EmbedOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE, BASIS, PICTURES);
    }

    /** Fewer than {@value #MIN_IMAGES} images in the features table: no map. */
    @Override
    public Optional<String> cannotRun(JobContext context, EmbedOptions options) {
        long n = TableReader.read(context.spark(), options.features(), "image_id", "path", "label", options.vector()).count();
        return n < MIN_IMAGES ? Optional.of(n + " images are too few for a map") : Optional.empty();
    }

    @Override
    public JobResult run(JobContext context, EmbedOptions options) {
        Summary r = run(context.spark(), options);
        List<String> details = new ArrayList<>();
        Tsne t = r.tsne();
        if (t.mode().onto() != null) {
            details.add(String.format(Locale.ROOT, "embed: PCA basis of %s applied %.1f s; %d new points placed on its t-SNE map "
                            + "(perplexity %s, %d steps each, against %d kept points) %.1f s",
                    t.mode().onto(), r.pcaSeconds(), t.mode().points() - t.mode().fitted(), plain(options.placePerplexity()),
                    options.placeIterations(), t.mode().references(), r.placeSeconds()));
        } else {
            details.add(String.format(Locale.ROOT, "embed: PCA %.1f s; t-SNE (Barnes-Hut, perplexity %s, theta %s) on %d points: "
                            + "affinities from %d neighbours each on Spark %.1f s (%s; %d non-zeros), fit %d iterations on %d driver threads "
                            + "%.1f s (learning rate %.0f, KL %.4f); %s %.1f s",
                    r.pcaSeconds(), plain(r.perplexity()), plain(options.theta()), t.mode().fitted(), t.neighbours(), t.knnSeconds(),
                    t.search(), t.affinities(), options.iterations(), t.threads(), t.fitSeconds(), t.learningRate(), t.klDivergence(),
                    t.mode().full() ? "writing the map" : "placing the rest", r.placeSeconds()));
        }
        Quality q = r.quality();
        details.add(String.format(Locale.ROOT, "embed: on %d points, kNN-%d accuracy: %s %.4f, PCA-2D %.4f, t-SNE %.4f; "
                        + "trustworthiness (k=%d): PCA-2D %.4f, t-SNE %.4f",
                q.points(), q.k(), options.vector(), q.knnFeatures(), q.knnPca(), q.knnTsne(), q.k(), q.trustPca(), q.trustTsne()));
        if (r.mosaicEmpty() > 0) {
            details.add("embed: " + r.mosaicEmpty() + " mosaic cell(s) left empty: their image could not be re-read");
        }
        details.add("embed:    " + r.table());
        details.add("pictures: " + r.pictures());
        return new JobResult(r.line(), details, r.caps());
    }

    /** Its section of the report. */
    @Override
    public Optional<Section> report(ReportContext report) {
        return report.pictures("embed", "PCA and t-SNE maps", "Coloured by label, and a thumbnail mosaic of the t-SNE map.", List.of());
    }

    /**
     * The options a small input can carry: perplexity at most (n − 2) / 3 and quality k at most
     * (n − 2) / 2 (what {@code run} used to apply before calling the job), with a line for each
     * value lowered.
     */
    static EmbedOptions capped(EmbedOptions s, long n, List<String> caps) {
        double perplexity = Math.min(s.perplexity(), (n - 2) / 3.0);
        int qualityK = (int) Math.min(s.qualityK(), (n - 2) / 2);
        if (perplexity < s.perplexity()) {
            caps.add(String.format(Locale.ROOT, "embed: perplexity %s lowered to %.2f: %d images carry at most (n - 2) / 3",
                    plain(s.perplexity()), perplexity, n));
        }
        if (qualityK < s.qualityK()) {
            caps.add(String.format(Locale.ROOT, "embed: quality k %d lowered to %d: %d images carry at most (n - 2) / 2",
                    s.qualityK(), qualityK, n));
        }
        return s.with(perplexity, qualityK);
    }

    private static String plain(double x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }

    public static Summary run(SparkSession spark, EmbedOptions options) {
        long t0 = System.nanoTime();
        HadoopConf hadoop = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        Dataset<Row> df = TableReader.read(spark, options.features(), "image_id", "path", "label", options.vector())
                .select(org.apache.spark.sql.functions.col("image_id"), org.apache.spark.sql.functions.col("path"),
                        org.apache.spark.sql.functions.col("label"), org.apache.spark.sql.functions.col(options.vector()));
        long n = df.count();
        if (n < 4) {
            throw new IllegalArgumentException("the features table at " + options.features() + " has " + n
                    + " image(s); a map needs at least 4");
        }
        List<String> caps = new ArrayList<>();
        EmbedOptions s = capped(options, n, caps);
        long fitN = s.tsneSample() > 0 ? Math.min(n, s.tsneSample()) : n;
        if (!s.ontoEarlierMap() && s.perplexity() >= fitN - 1) {
            throw new IllegalArgumentException("perplexity " + s.perplexity() + " needs more than " + (int) (s.perplexity() + 1)
                    + " points in the t-SNE sample; there are " + fitN + " (lower --perplexity)");
        }
        long seed = s.seed();
        JavaRDD<Point> raw = df.javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            List<Float> f = r.getList(3);
            float[] v = new float[f.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = f.get(i);
            }
            return new Point(t._2(), Permutations.mix(seed, t._2()), r.getString(0), r.getString(1),
                    r.isNullAt(2) ? null : r.getString(2), v, null);
        }).persist(StorageLevel.MEMORY_AND_DISK());
        List<JavaRDD<?>> persisted = new ArrayList<>(List.of(raw));
        try {
            // PCA on a sample, applied everywhere (or the earlier map's basis, --onto)
            long tp = System.nanoTime();
            PcaProjection pca;
            if (s.ontoEarlierMap()) {
                pca = EarlierMap.basis(spark, s.onto(), s.vector(), raw.first().vector().length);
            } else {
                List<Point> pcaSample = raw.takeOrdered(Math.min(s.pcaSample(), (int) Math.min(n, Integer.MAX_VALUE)), new ByHash());
                double[][] x = new double[pcaSample.size()][];
                for (int i = 0; i < x.length; i++) {
                    x[i] = toDouble(pcaSample.get(i).vector());
                }
                pca = PcaProjection.fit(x, s.pcaDims());
            }
            Broadcast<PcaProjection> pb = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(pca);
            int dims = pca.dimensions();
            JavaRDD<Point> points = raw.map(p -> new Point(p.key(), p.hash(), p.id(), p.path(), p.label(), p.vector(),
                    toFloat(pb.value().project(p.vector(), dims)))).persist(StorageLevel.MEMORY_AND_DISK());
            persisted.add(points);
            points.count();
            double pcaSeconds = (System.nanoTime() - tp) / 1e9;

            Mapped mapped = s.ontoEarlierMap() ? onto(spark, points, s, n, dims, persisted) : fit(spark, points, s, n, dims, persisted);
            JavaRDD<Tuple2<Point, float[]>> placed = mapped.placed();
            Tsne tsne = mapped.tsne();
            double placeSeconds = mapped.placeSeconds();
            Dataset<Row> table = spark.createDataFrame(placed.flatMap(t -> {
                Point p = t._1();
                return List.of(
                        RowFactory.create(p.id(), p.path(), p.label(), "pca", p.pca()[0], dims > 1 ? p.pca()[1] : 0f),
                        RowFactory.create(p.id(), p.path(), p.label(), "tsne", t._2()[0], t._2()[1])).iterator();
            }), SCHEMA);

            Quality quality = quality(placed, s);
            try (TableCommitter committer = new TableCommitter(spark, s.out(), "embed")) {
                table.write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(TABLE));
                EarlierMap.basisRows(spark, pca, s.vector()).write().mode(SaveMode.ErrorIfExists).parquet(committer.staging(BASIS));
                int mosaicEmpty = writePictures(committer, placed, s, hadoop, n);
                committer.commit(List.of(TABLE, BASIS, PICTURES));
                return new Summary(n, 2 * n, (System.nanoTime() - t0) / 1e9, pcaSeconds, tsne, placeSeconds, quality,
                        committer.finalPath(TABLE), committer.finalPath(PICTURES), s.perplexity(), caps, mosaicEmpty);
            }
        } finally {
            for (int i = persisted.size() - 1; i >= 0; i--) {
                persisted.get(i).unpersist();
            }
        }
    }


    /** What a map step made: every point with its place, the t-SNE figures, the placement seconds. */
    private record Mapped(Tsne tsne, JavaRDD<Tuple2<Point, float[]>> placed, double placeSeconds) {
    }

    /** A new t-SNE map: every point fitted up to the driver limit, else a seeded sample fitted and the rest placed. */
    private static Mapped fit(SparkSession spark, JavaRDD<Point> points, EmbedOptions s, long n, int dims, List<JavaRDD<?>> persisted) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int k = neighbours(s.perplexity(), n);
        long limit = driverLimit(k);
        Mode mode = mode(n, s.tsneSample(), limit);
        int m = mode.fitted();
        long[] fitKeys = null; // sample mode: the fitted points' keys, ascending; full mode: key = fit index
        if (!mode.full()) {
            List<Tuple2<Long, Long>> chosen = points.map(p -> new Tuple2<>(p.hash(), p.key())).takeOrdered(m, new ByHashKey());
            fitKeys = new long[m];
            for (int i = 0; i < m; i++) {
                fitKeys[i] = chosen.get(i)._2();
            }
            java.util.Arrays.sort(fitKeys);
        }
        Broadcast<long[]> fitKeysB = jsc.broadcast(fitKeys == null ? new long[0] : fitKeys);
        boolean full = mode.full();
        JavaRDD<KnnAffinities.Item> items = points.flatMap(p -> {
            int idx = full ? (int) p.key() : java.util.Arrays.binarySearch(fitKeysB.value(), p.key());
            return idx < 0 ? java.util.Collections.emptyIterator()
                    : List.of(new KnnAffinities.Item(idx, p.pca(), p.pca()[0], dims > 1 ? p.pca()[1] : 0)).iterator();
        });
        KnnAffinities.Built built = KnnAffinities.build(items, m, k, s.perplexity(), s.knnMethod());
        LOG.info(String.format(Locale.ROOT, "embed: t-SNE affinities of %d points from %d neighbours each (%s): %d non-zeros, %.1f s",
                m, k, built.neighbours(), built.p().entries(), built.seconds()));
        int every = Math.max(1, s.iterations() / 10);
        long tFit = System.nanoTime();
        BarnesHutTsne.Result fit = BarnesHutTsne.fit(built.p(), BarnesHutTsne.scaledStart(built.start()),
                new BarnesHutTsne.Options(s.iterations(), Math.min(250, s.iterations() / 4), 12, 0, s.theta(), s.tsneThreads()),
                it -> {
                    if (it % every == 0) {
                        LOG.info(String.format(Locale.ROOT, "embed: t-SNE iteration %d/%d, %.1f s", it, s.iterations(),
                                (System.nanoTime() - tFit) / 1e9));
                    }
                });
        float[] coords = new float[2 * m];
        for (int i = 0; i < 2 * m; i++) {
            coords[i] = (float) fit.y()[i];
        }
        Broadcast<float[]> coordsB = jsc.broadcast(coords);
        Broadcast<TsnePlacement> place = null;
        if (!full) {
            // references: a seeded subset of the fitted points (fit indices are in key order, not hash order)
            int refs = Math.min(s.placeReferences(), m);
            List<Point> refPoints = points.filter(p -> java.util.Arrays.binarySearch(fitKeysB.value(), p.key()) >= 0)
                    .takeOrdered(refs, new ByHash());
            float[] refX = new float[refs * dims];
            float[] refY = new float[refs * 2];
            for (int i = 0; i < refs; i++) {
                Point p = refPoints.get(i);
                int idx = java.util.Arrays.binarySearch(fitKeys, p.key());
                System.arraycopy(p.pca(), 0, refX, i * dims, dims);
                refY[2 * i] = coords[2 * idx];
                refY[2 * i + 1] = coords[2 * idx + 1];
            }
            place = jsc.broadcast(new TsnePlacement(refX, refY, dims, s.placePerplexity(), s.placeIterations(), 1.0));
        }
        Broadcast<TsnePlacement> placeB = place;

        long tPlace = System.nanoTime();
        // key kept alongside for the quality sample and the mosaic
        JavaRDD<Tuple2<Point, float[]>> placed = points.map(p -> {
            int idx = full ? (int) p.key() : java.util.Arrays.binarySearch(fitKeysB.value(), p.key());
            float[] t;
            if (idx >= 0) {
                t = new float[] {coordsB.value()[2 * idx], coordsB.value()[2 * idx + 1]};
            } else {
                double[] at = placeB.value().place(p.pca());
                t = new float[] {(float) at[0], (float) at[1]};
            }
            return new Tuple2<>(p, t);
        }).persist(StorageLevel.MEMORY_AND_DISK());
        persisted.add(placed);
        placed.count();
        double placeSeconds = (System.nanoTime() - tPlace) / 1e9;
        Tsne tsne = new Tsne(mode, k, built.neighbours(), built.recall(), built.p().entries(), built.seconds(), fit.seconds(), fit.threads(),
                fit.klDivergence(), fit.learningRate());
        return new Mapped(tsne, placed, placeSeconds);
    }

    /**
     * The earlier map of {@code --onto}: images whose content (image_id) is on it keep their
     * places; the others are placed against a seeded sample of {@code --place-references} of the
     * kept ones, in the same PCA space (the earlier basis), on executors.
     */
    private static Mapped onto(SparkSession spark, JavaRDD<Point> points, EmbedOptions s, long n, int dims, List<JavaRDD<?>> persisted) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaPairRDD<String, EarlierMap.Place> earlier = EarlierMap.places(spark, s.onto());
        long onMap = earlier.keys().distinct().count();
        JavaRDD<Tuple2<Point, float[]>> matched = points.keyBy(Point::id).cogroup(earlier).flatMap(g -> {
            List<Tuple2<Point, float[]>> out = new ArrayList<>();
            for (Point p : g._2()._1()) {
                EarlierMap.Place at = EarlierMap.choose(g._2()._2(), p.path());
                out.add(new Tuple2<>(p, at == null ? null : new float[] {at.x(), at.y()}));
            }
            return out.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK());
        persisted.add(matched);
        JavaRDD<Tuple2<Point, float[]>> kept = matched.filter(t -> t._2() != null);
        long keptCount = kept.count();
        if (keptCount == 0) {
            throw new IllegalArgumentException("none of the " + n + " images of " + s.features() + " is on the map at " + s.onto()
                    + " (no image_id in common); fit a new map without --onto");
        }
        long gone = onMap - kept.map(t -> t._1().id()).distinct().count();
        int refs = (int) Math.min(s.placeReferences(), keptCount);
        List<Tuple2<Point, float[]>> refPoints = kept.takeOrdered(refs, new ByPointHash());
        float[] refX = new float[refs * dims];
        float[] refY = new float[refs * 2];
        for (int i = 0; i < refs; i++) {
            System.arraycopy(refPoints.get(i)._1().pca(), 0, refX, i * dims, dims);
            System.arraycopy(refPoints.get(i)._2(), 0, refY, 2 * i, 2);
        }
        Broadcast<TsnePlacement> placeB = jsc.broadcast(new TsnePlacement(refX, refY, dims, s.placePerplexity(), s.placeIterations(), 1.0));
        long tPlace = System.nanoTime();
        JavaRDD<Tuple2<Point, float[]>> placed = matched.map(t -> {
            if (t._2() != null) {
                return t;
            }
            double[] at = placeB.value().place(t._1().pca());
            return new Tuple2<>(t._1(), new float[] {(float) at[0], (float) at[1]});
        }).persist(StorageLevel.MEMORY_AND_DISK());
        persisted.add(placed);
        placed.count();
        double placeSeconds = (System.nanoTime() - tPlace) / 1e9;
        Mode mode = Mode.onto(s.onto(), keptCount, n, refs, gone);
        return new Mapped(new Tsne(mode, 0, "none: the map of " + s.onto(), Double.NaN, 0, 0, 0, 0, Double.NaN, Double.NaN),
                placed, placeSeconds);
    }

    private static Quality quality(JavaRDD<Tuple2<Point, float[]>> placed, EmbedOptions s) {
        List<Tuple2<Point, float[]>> q = placed.takeOrdered(s.qualitySample(), new ByPointHash());
        int n = q.size();
        int d = q.get(0)._1().vector().length;
        float[] high = new float[n * d];
        float[] pca = new float[n * 2];
        float[] tsne = new float[n * 2];
        TreeSet<String> names = new TreeSet<>();
        for (Tuple2<Point, float[]> t : q) {
            if (t._1().label() != null) {
                names.add(t._1().label());
            }
        }
        List<String> index = new ArrayList<>(names);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            Point p = q.get(i)._1();
            System.arraycopy(p.vector(), 0, high, i * d, d);
            pca[2 * i] = p.pca()[0];
            pca[2 * i + 1] = p.pca().length > 1 ? p.pca()[1] : 0;
            tsne[2 * i] = q.get(i)._2()[0];
            tsne[2 * i + 1] = q.get(i)._2()[1];
            labels[i] = p.label() == null ? -1 : index.indexOf(p.label());
        }
        int k = s.qualityK();
        if (n < 2 * k + 2) {
            return new Quality(n, k, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new Quality(n, k,
                MapQuality.knnAccuracy(high, n, d, labels, k, ExactKnn.Metric.L2),
                MapQuality.knnAccuracy(pca, n, 2, labels, k, ExactKnn.Metric.L2),
                MapQuality.knnAccuracy(tsne, n, 2, labels, k, ExactKnn.Metric.L2),
                MapQuality.trustworthiness(high, d, pca, n, k),
                MapQuality.trustworthiness(high, d, tsne, n, k));
    }

    /** The scatter plots and the mosaic; returns the mosaic cells left empty (their image could not be re-read). */
    private static int writePictures(TableCommitter committer, JavaRDD<Tuple2<Point, float[]>> placed, EmbedOptions s,
                                     HadoopConf hadoop, long n) {
        // scatter plots on at most 30,000 points (a seeded sample)
        List<Tuple2<Point, float[]>> shown = placed.takeOrdered((int) Math.min(n, 30_000), new ByPointHash());
        double[] px = new double[shown.size()];
        double[] py = new double[shown.size()];
        double[] tx = new double[shown.size()];
        double[] ty = new double[shown.size()];
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < shown.size(); i++) {
            Point p = shown.get(i)._1();
            px[i] = p.pca()[0];
            py[i] = p.pca().length > 1 ? p.pca()[1] : 0;
            tx[i] = shown.get(i)._2()[0];
            ty[i] = shown.get(i)._2()[1];
            labels.add(p.label());
        }
        String of = shown.size() < n ? String.format(Locale.ROOT, " (%d of %d points drawn)", shown.size(), n) : String.format(Locale.ROOT, " (%d points)", n);
        committer.writeFile(PICTURES, "pca.png", PngWriter.encode(LabelledScatter.render("PCA of " + s.vector() + of, px, py, labels, 1000, 800)));
        committer.writeFile(PICTURES, "tsne.png", PngWriter.encode(LabelledScatter.render(
                String.format(Locale.ROOT, "t-SNE of %s, perplexity %.0f%s", s.vector(), s.perplexity(), of), tx, ty, labels, 1000, 800)));
        int[] empty = new int[1];
        committer.writeFile(PICTURES, "tsne-mosaic.png", PngWriter.encode(mosaic(placed, s, hadoop, empty)));
        return empty[0];
    }

    /**
     * Karpathy's cnnembed picture: a full G×G grid over the t-SNE map, each cell, in turn, showing
     * the not yet used image nearest to the cell's centre (on a seeded sample of at most 30,000
     * points, so the assignment runs on the driver).
     */
    private static BufferedImage mosaic(JavaRDD<Tuple2<Point, float[]>> placed, EmbedOptions s, HadoopConf hadoop, int[] emptyOut) {
        List<Tuple2<Point, float[]>> pts = placed.takeOrdered(30_000, new ByPointHash());
        List<Tuple2<Integer, Tuple2<Double, String>>> cells = new ArrayList<>();
        int g = Math.min(s.mosaicGrid(), (int) Math.floor(Math.sqrt(pts.size())));
        double[] xs = new double[pts.size()];
        double[] ys = new double[pts.size()];
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < pts.size(); i++) {
            xs[i] = pts.get(i)._2()[0];
            ys[i] = pts.get(i)._2()[1];
            minX = Math.min(minX, xs[i]);
            maxX = Math.max(maxX, xs[i]);
            minY = Math.min(minY, ys[i]);
            maxY = Math.max(maxY, ys[i]);
        }
        boolean[] used = new boolean[pts.size()];
        for (int cy = 0; cy < g; cy++) {
            for (int cx = 0; cx < g; cx++) {
                double tx = minX + (cx + 0.5) / g * (maxX - minX);
                double ty = minY + (cy + 0.5) / g * (maxY - minY);
                int best = -1;
                double bd = Double.POSITIVE_INFINITY;
                for (int i = 0; i < xs.length; i++) {
                    if (!used[i]) {
                        double d = (xs[i] - tx) * (xs[i] - tx) + (ys[i] - ty) * (ys[i] - ty);
                        if (d < bd) {
                            bd = d;
                            best = i;
                        }
                    }
                }
                used[best] = true;
                cells.add(new Tuple2<>(cy * g + cx, new Tuple2<>(bd, pts.get(best)._1().path())));
            }
        }
        int tile = s.mosaicTile();
        long maxPixels = s.maxPixels();
        long maxBytes = s.maxBytes();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(placed.context());
        List<Tuple2<Integer, byte[]>> thumbs = jsc.parallelize(cells, Math.max(1, Math.min(cells.size() / 50 + 1, jsc.defaultParallelism())))
                .mapPartitions((Iterator<Tuple2<Integer, Tuple2<Double, String>>> it) -> {
                    ImageDecoder decoder = new ImageDecoder(maxPixels);
                    List<Tuple2<Integer, byte[]>> out = new ArrayList<>();
                    while (it.hasNext()) {
                        Tuple2<Integer, Tuple2<Double, String>> c = it.next();
                        try {
                            BufferedImage img = ImageGrid.toImage(decoder.decode(ImageBytes.read(c._2()._2(), -1, null,
                                    maxBytes, hadoop.get())));
                            BufferedImage t = new BufferedImage(tile, tile, BufferedImage.TYPE_INT_RGB);
                            Graphics2D gr = t.createGraphics();
                            gr.setColor(Color.WHITE);
                            gr.fillRect(0, 0, tile, tile);
                            gr.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION,
                                    java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                            ImageGrid.drawFitted(gr, img, 0, 0, tile);
                            gr.dispose();
                            out.add(new Tuple2<>(c._1(), PngWriter.encode(t)));
                        } catch (Exception e) {
                            // an image that cannot be re-read leaves its cell empty
                        }
                    }
                    return out.iterator();
                }).collect();
        emptyOut[0] = cells.size() - thumbs.size();
        BufferedImage mosaic = new BufferedImage(g * tile, g * tile, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = mosaic.createGraphics();
        gr.setColor(Color.WHITE);
        gr.fillRect(0, 0, g * tile, g * tile);
        for (Tuple2<Integer, byte[]> t : thumbs) {
            int cell = t._1();
            int ix = cell % g;
            int iy = g - 1 - cell / g; // y up, as in the scatter plot
            gr.drawImage(io.cnnlens.image.PngWriter.decode(t._2()), ix * tile, iy * tile, null);
        }
        gr.dispose();
        return mosaic;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    static final class ByHash implements java.util.Comparator<Point>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Point a, Point b) {
            int c = Long.compare(a.hash(), b.hash());
            return c != 0 ? c : Long.compare(a.key(), b.key());
        }
    }

    static final class ByHashKey implements java.util.Comparator<Tuple2<Long, Long>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Long, Long> a, Tuple2<Long, Long> b) {
            int c = Long.compare(a._1(), b._1());
            return c != 0 ? c : Long.compare(a._2(), b._2());
        }
    }

    static final class ByPointHash implements java.util.Comparator<Tuple2<Point, float[]>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(Tuple2<Point, float[]> a, Tuple2<Point, float[]> b) {
            return new ByHash().compare(a._1(), b._1());
        }
    }
}
