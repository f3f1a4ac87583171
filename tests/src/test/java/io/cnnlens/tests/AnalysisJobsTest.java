package io.cnnlens.tests;

import io.cnnlens.activation.ReceptiveField;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.embed.EmbedJob;
import io.cnnlens.jobs.embed.EmbedOptions;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.neighbors.NeighborsJob;
import io.cnnlens.jobs.neighbors.NeighborsOptions;
import io.cnnlens.jobs.patches.PatchesJob;
import io.cnnlens.jobs.patches.PatchesOptions;
import io.cnnlens.model.ModelSpec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** patches, neighbors and embed on the features of the bundled sample, checked against independent computations. */
class AnalysisJobsTest extends SparkTestBase {

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static Path features;

    @BeforeAll
    static void runFeatures() {
        features = shared.resolve("run");
        FeaturesJob.run(spark, FeaturesJobTest.settings(bundledSample(), features, "bundled"));
    }

    @Test
    void neighboursEqualBruteForceInBothSpaces() throws Exception {
        NeighborsJob.Summary s = NeighborsJob.run(spark, NeighborsOptions.of(on(features, tmp.toString())
                .with(NeighborsOptions.K, 10).with(NeighborsOptions.METRIC, "both").with(NeighborsOptions.QUERY_BLOCK, 300)
                .with(NeighborsOptions.REF_BLOCK, 700).with(NeighborsOptions.PICTURE_QUERIES, 4)));
        List<Row> feats = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).select("path", "label", "fc7").collectAsList();
        int n = feats.size();
        assertEquals((long) n * 10 * 4, s.rows(), "k rows per query, space and metric");
        List<String> paths = new ArrayList<>();
        float[][] fc7 = new float[n][];
        float[][] pix = new float[n][];
        ImageDecoder decoder = new ImageDecoder(1_000_000);
        for (int i = 0; i < n; i++) {
            Row r = feats.get(i);
            paths.add(r.getString(0));
            fc7[i] = FeaturesJobTest.floats(r, "fc7");
            pix[i] = Preprocessor.pixelVector(decoder.decode(Files.readAllBytes(Path.of(URI.create(r.getString(0))))), 1, 28);
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(paths.get(i), i);
        }
        Map<String, List<Row>> got = new LinkedHashMap<>();
        for (Row r : io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).collectAsList()) {
            got.computeIfAbsent(r.<String>getAs("space") + "|" + r.getAs("metric") + "|" + r.getAs("query_path"), x -> new ArrayList<>()).add(r);
        }
        int checked = 0;
        int ties = 0;
        // one brute-force pass per (space, query) gives both metrics' distances (see distances)
        Map<String, double[][]> brute = new HashMap<>();
        for (Map.Entry<String, List<Row>> e : got.entrySet()) {
            String[] key = e.getKey().split("\\|");
            float[][] space = key[0].equals("fc7") ? fc7 : pix;
            boolean cosine = key[1].equals("cosine");
            int q = index.get(key[2]);
            double[] d = brute.computeIfAbsent(key[0] + "|" + key[2], x -> distances(space, q))[cosine ? 1 : 0];
            int[] order = nearest(d, q, 10);
            if (checked == 0) { // the selection against a full stable sort, once
                assertEquals(IntStream.range(0, n).filter(j -> j != q).boxed().sorted(Comparator.<Integer>comparingDouble(j -> d[j]))
                        .limit(10).toList(), IntStream.of(order).boxed().toList());
            }
            List<Row> rows = e.getValue();
            rows.sort(Comparator.comparingInt(r -> r.<Integer>getAs("rank")));
            assertEquals(10, rows.size());
            for (int rank = 0; rank < 10; rank++) {
                Row r = rows.get(rank);
                double expect = d[order[rank]];
                assertEquals(expect, r.<Float>getAs("distance"), 1e-5 * Math.max(1, expect), e.getKey() + " rank " + rank);
                int nb = index.get(r.<String>getAs("neighbor_path"));
                if (nb != order[rank]) { // only a tie may swap neighbours
                    assertEquals(expect, d[nb], 1e-6 * Math.max(1, expect), e.getKey() + " rank " + rank + " is not a tie");
                    ties++;
                }
                checked++;
            }
        }
        System.out.printf("neighbors: %d (query, rank) pairs equal brute force, %d of them ties broken differently%n", checked, ties);
        Map<String, NeighborsJob.Agreement> a = new HashMap<>();
        s.agreement().forEach(x -> a.put(x.space() + "|" + x.metric(), x));
        assertEquals(4, a.size());
        a.values().forEach(x -> System.out.printf("neighbors: %s %s label agreement %.4f, kNN-10 accuracy %.4f%n",
                x.space(), x.metric(), x.labelAgreement(), x.knnAccuracy()));
        assertTrue(a.get("fc7|l2").knnAccuracy() > a.get("pixels|l2").knnAccuracy() + 0.05,
                "FC7 space groups classes better than pixel space");
        assertTrue(Files.size(local(s.picture())) > 10_000);
        assertEquals(0, s.errors());
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).count(), "every image re-read for pixel space");
    }

    @Test
    void patchesAreTheTopActivationsOfTheFeaturesTablesConvMax() throws Exception {
        int k = 5;
        PatchesJob.Summary s = PatchesJob.run(spark, PatchesOptions.of(on(features, tmp.toString())
                .with(PatchesOptions.LAYER, "conv5").with(PatchesOptions.TOP, k).with(PatchesOptions.PARTITIONS, 3)));
        List<Row> feats = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).dropDuplicates("image_id")
                .select("image_id", "conv_layer", "conv_max").collectAsList();
        assertEquals("conv5", feats.get(0).getString(1));
        int channels = FeaturesJobTest.floats(feats.get(0), "conv_max").length;
        assertEquals((long) channels * k, s.rows());
        assertEquals(feats.size(), s.scanned());
        assertEquals(feats.size(), s.inputs());
        assertEquals(0, s.errors());
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, s.errorsTable()).count());
        ModelSpec spec = ModelSpec.load(bundledSpec());
        ReceptiveField.Field field = ReceptiveField.parse(spec.geometry()).of("conv5");
        // the table read once, by channel (one Spark job instead of one per channel)
        Map<Integer, List<Row>> byChannel = new HashMap<>();
        for (Row row : io.cnnlens.jobs.spark.TableReader.open(spark, s.table()).orderBy("channel", "rank").collectAsList()) {
            byChannel.computeIfAbsent(row.<Integer>getAs("channel"), x -> new ArrayList<>()).add(row);
        }
        assertEquals(channels, byChannel.size(), "patches for every channel, none for others");
        for (int c = 0; c < channels; c++) {
            int ch = c;
            // independent: the features job's per-channel spatial max, sorted over all images
            List<float[]> expect = new ArrayList<>();
            for (Row r : feats) {
                expect.add(new float[] {FeaturesJobTest.floats(r, "conv_max")[ch]});
            }
            expect.sort((x, y) -> Float.compare(y[0], x[0]));
            List<Row> got = byChannel.getOrDefault(c, List.of());
            assertEquals(k, got.size());
            for (int r = 0; r < k; r++) {
                Row row = got.get(r);
                assertEquals(r, row.<Integer>getAs("rank"));
                assertEquals(expect.get(r)[0], row.<Float>getAs("activation"), 1e-4f, "channel " + c + " rank " + r);
                Row box = row.getAs("box");
                int[] b = field.clippedBox(row.<Integer>getAs("unit_y"), row.<Integer>getAs("unit_x"), 28, 28);
                assertEquals(List.of(b[0], b[1], b[2], b[3]), List.of(box.getInt(0), box.getInt(1), box.getInt(2), box.getInt(3)));
                BufferedImage patch = ImageIO.read(new ByteArrayInputStream(row.getAs("patch")));
                assertEquals(b[2] - b[0], patch.getWidth());
                assertEquals(b[3] - b[1], patch.getHeight());
            }
        }
        BufferedImage grid = ImageIO.read(local(s.picture()).toFile());
        assertTrue(grid.getHeight() > channels * 40, "one row per channel");
    }

    @Test
    void embedMapsKeepNeighbourhoods() throws Exception {
        EmbedOptions s = EmbedOptions.of(on(features, tmp.toString()).with(EmbedOptions.VECTOR, "fc7")
                .with(EmbedOptions.PCA_DIMS, 50).with(EmbedOptions.PERPLEXITY, 30.0)
                .with(EmbedOptions.ITERATIONS, 600).with(EmbedOptions.QUALITY_SAMPLE, 2000).with(EmbedOptions.QUALITY_K, 10)
                .with(EmbedOptions.SEED, 7L).with(EmbedOptions.MOSAIC_GRID, 20).with(EmbedOptions.MOSAIC_TILE, 24));
        EmbedJob.Summary r = EmbedJob.run(spark, s);
        assertEquals(4000, r.rows());
        assertEquals(List.of(), r.caps(), "2000 images carry the perplexity and k asked for");
        assertEquals(30.0, r.perplexity());
        assertEquals(0, r.mosaicEmpty());
        assertTrue(!r.line().contains("errors"), r.line());
        assertTrue(r.line().contains(", t-SNE full: all 2000 points fitted (at most the driver limit "), r.line());
        assertTrue(r.tsne().mode().full() && r.tsne().neighbours() == 90 && r.tsne().affinities() >= 2000 * 90, r.tsne().toString());
        assertEquals("exact", r.tsne().search(), "below 200,000 points auto searches exactly");
        Dataset<Row> t = io.cnnlens.jobs.spark.TableReader.open(spark, r.table());
        assertEquals(2000, t.filter(col("method").equalTo("tsne")).select("path").distinct().count());
        assertEquals(2000, t.filter(col("method").equalTo("pca")).count());
        EmbedJob.Quality q = r.quality();
        System.out.printf("embed on the sample (Barnes-Hut t-SNE of all 2000): kNN-10 fc7 %.4f, PCA %.4f, t-SNE %.4f; "
                + "trustworthiness PCA %.4f, t-SNE %.4f%n", q.knnFeatures(), q.knnPca(), q.knnTsne(), q.trustPca(), q.trustTsne());
        assertTrue(q.knnTsne() > q.knnFeatures() - 0.03, "t-SNE keeps the classes apart: " + q.knnTsne());
        assertTrue(q.trustTsne() > 0.98, "t-SNE trustworthiness " + q.trustTsne());
        assertTrue(q.trustTsne() > q.trustPca() && q.knnTsne() > q.knnPca());
        for (String p : List.of("pca.png", "tsne.png", "tsne-mosaic.png")) {
            assertTrue(Files.size(local(r.pictures()).resolve(p)) > 10_000, p);
        }

        // sample mode: 800 fitted, 1200 placed against them; the fitted points' neighbours from inverted lists
        EmbedJob.Summary sampled = EmbedJob.run(spark, EmbedOptions.of(on(features, tmp.resolve("sampled").toString())
                .with(EmbedOptions.TSNE_SAMPLE, 800).with(EmbedOptions.TSNE_KNN, "ivf").with(EmbedOptions.TSNE_KNN_PROBES, 6).with(EmbedOptions.ITERATIONS, 600).with(EmbedOptions.QUALITY_SAMPLE, 2000)
                .with(EmbedOptions.SEED, 7L).with(EmbedOptions.MOSAIC_GRID, 4)));
        assertTrue(sampled.line().contains(", t-SNE sample: 800 of 2000 points fitted, 1200 placed (--tsne-sample 800)"), sampled.line());
        assertEquals(4000, sampled.rows());
        EmbedJob.Quality sq = sampled.quality();
        System.out.printf("embed, 800 fitted and 1200 placed: kNN-10 t-SNE %.4f, trustworthiness %.4f%n", sq.knnTsne(), sq.trustTsne());
        assertTrue(sq.knnTsne() > sq.knnFeatures() - 0.05 && sq.trustTsne() > 0.97, sq.toString());
        // 800 points: 28 lists (about the square root), 6 probed; recall measured against exact search on all 800
        assertTrue(sampled.tsne().search().startsWith("inverted lists (28 lists, largest "), sampled.tsne().search());
        assertTrue(sampled.tsne().search().contains(", 6 probed), recall@90 ") && sampled.tsne().search().endsWith(" on 800 sampled points"),
                sampled.tsne().search());
        assertTrue(sampled.tsne().recall() > 0.8, "recall " + sampled.tsne().recall());
    }

    @Test
    void newImagesLandOnAnEarlierMap() {
        // a map of about half the sample, then the whole sample put onto it
        Dataset<Row> all = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString());
        Path half = tmp.resolve("half");
        all.filter(org.apache.spark.sql.functions.abs(org.apache.spark.sql.functions.hash(col("path"))).mod(2).equalTo(0))
                .write().parquet(half.resolve("features").toString());
        String first = tmp.resolve("first-map").toString();
        EmbedJob.Summary before = EmbedJob.run(spark, EmbedOptions.of(on(half, first).with(EmbedOptions.ITERATIONS, 300)
                .with(EmbedOptions.SEED, 7L).with(EmbedOptions.MOSAIC_GRID, 4)));
        assertTrue(Files.isDirectory(Path.of(first, EmbedJob.BASIS)), "the map keeps its PCA basis");
        assertEquals(51, io.cnnlens.jobs.spark.TableReader.open(spark, Path.of(first, EmbedJob.BASIS).toString()).count(),
                "the mean and 50 axes");
        java.util.Set<String> onMap = new java.util.HashSet<>(io.cnnlens.jobs.spark.TableReader.open(spark, before.table())
                .select("image_id").distinct().as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
        long kept = all.filter(col("image_id").isin(onMap.toArray())).count();
        long n = all.count();
        assertTrue(kept > n / 3 && kept < n, kept + " of " + n);

        String second = tmp.resolve("second-map").toString();
        EmbedOptions onto = EmbedOptions.of(on(features, second).with(EmbedOptions.ONTO, first).with(EmbedOptions.SEED, 7L)
                .with(EmbedOptions.MOSAIC_GRID, 4));
        JobResult r = new EmbedJob().run(new JobContext(spark), onto);
        assertTrue(r.summary().endsWith(String.format(java.util.Locale.ROOT, ", t-SNE onto %s: %d of %d points kept their places, "
                + "%d placed against %d of them", first, kept, n, n - kept, Math.min(5000, kept))), r.summary());
        assertTrue(r.details().stream().anyMatch(l -> l.startsWith("embed: PCA basis of " + first + " applied ")
                && l.contains((n - kept) + " new points placed on its t-SNE map")), r.details().toString());

        // the kept images are where they were, on both maps; the new ones land among their own class
        Dataset<Row> was = io.cnnlens.jobs.spark.TableReader.open(spark, before.table()).select(col("path"), col("method"),
                col("x").as("x0"), col("y").as("y0"));
        Dataset<Row> now = io.cnnlens.jobs.spark.TableReader.open(spark, Path.of(second, EmbedJob.TABLE).toString());
        assertEquals(2 * n, now.count());
        Dataset<Row> both = now.join(was, new String[] {"path", "method"});
        assertEquals(2 * kept, both.count());
        assertEquals(kept, both.filter(col("method").equalTo("tsne").and(col("x").equalTo(col("x0"))).and(col("y").equalTo(col("y0")))).count(),
                "the kept images keep their t-SNE places exactly");
        assertEquals(kept, both.filter(col("method").equalTo("pca").and(org.apache.spark.sql.functions.abs(col("x").minus(col("x0"))).leq(1e-4))
                .and(org.apache.spark.sql.functions.abs(col("y").minus(col("y0"))).leq(1e-4))).count(), "the same PCA basis");
        double placedAgreement = placedLabelAgreement(now, onMap, 10);
        System.out.printf("embed --onto: %d kept, %d placed; kNN-10 label agreement of the placed with the kept %.4f; map kNN-10 %.4f%n",
                kept, n - kept, placedAgreement, before.quality().knnTsne());
        assertTrue(placedAgreement > before.quality().knnTsne() - 0.1, "placed images land among their class: " + placedAgreement);

        // what --onto refuses, by name
        assertMessage("no embed run at " + tmp.resolve("nothing"), () -> EmbedJob.run(spark, EmbedOptions.of(on(features, second + "-x")
                .with(EmbedOptions.ONTO, tmp.resolve("nothing").toString()))));
        assertMessage("the map at " + first + " is of fc7, not --vector logits", () -> EmbedJob.run(spark, EmbedOptions.of(
                on(features, second + "-y").with(EmbedOptions.ONTO, first).with(EmbedOptions.VECTOR, "logits"))));
        assertMessage("--onto is empty", () -> EmbedOptions.of(on(features, second + "-z").with(EmbedOptions.ONTO, " ")));
    }

    /** Share of the placed images (not on the earlier map) whose k nearest kept images on the t-SNE map mostly share their label. */
    private static double placedLabelAgreement(Dataset<Row> map, java.util.Set<String> kept, int k) {
        List<Row> rows = map.filter(col("method").equalTo("tsne")).select("image_id", "label", "x", "y").collectAsList();
        List<Row> refs = rows.stream().filter(r -> kept.contains(r.getString(0))).toList();
        List<Row> placed = rows.stream().filter(r -> !kept.contains(r.getString(0))).toList();
        int agree = 0;
        for (Row p : placed) {
            float px = p.getFloat(2);
            float py = p.getFloat(3);
            List<Row> nearest = refs.stream().sorted(java.util.Comparator.comparingDouble(r -> {
                double dx = r.getFloat(2) - px;
                double dy = r.getFloat(3) - py;
                return dx * dx + dy * dy;
            })).limit(k).toList();
            Map<String, Long> votes = nearest.stream().collect(java.util.stream.Collectors.groupingBy(r -> r.getString(1),
                    java.util.stream.Collectors.counting()));
            String top = votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            agree += top.equals(p.getString(1)) ? 1 : 0;
        }
        return (double) agree / placed.size();
    }

    @Test
    void degenerateInputsGiveClearMessages() {
        Dataset<Row> all = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString());
        Path empty = tmp.resolve("empty");
        all.limit(0).write().mode(SaveMode.Overwrite).parquet(empty.resolve("features").toString());
        Path one = tmp.resolve("one");
        all.limit(1).write().mode(SaveMode.Overwrite).parquet(one.resolve("features").toString());
        String out = tmp.resolve("out").toString();

        assertMessage("has no rows", () -> PatchesJob.run(spark, patches(empty, out, "conv5", null)));
        assertMessage("has 0 image(s)", () -> NeighborsJob.run(spark, neighbors(empty, out, 10)));
        assertMessage("has 0 image(s)", () -> EmbedJob.run(spark, embed(empty, out)));
        assertMessage("has 1 image(s); neighbours need at least 2", () -> NeighborsJob.run(spark, neighbors(one, out, 10)));
        assertMessage("a map needs at least 4", () -> EmbedJob.run(spark, embed(one, out)));
        assertMessage("use --k between 1 and 1999", () -> NeighborsJob.run(spark, neighbors(features, out, 2000)));
        assertMessage("is not in the model's layers.geometry", () -> PatchesJob.run(spark, patches(features, out, "conv9", null)));
        assertMessage("there is no channel 64", () -> PatchesJob.run(spark, patches(features, out, "conv5", new int[] {3, 64})));
        assertMessage("no features table at", () -> NeighborsJob.run(spark, neighbors(tmp.resolve("missing"), out, 10)));
        // one image: every channel gets its one patch, and the summary says why there are not 9
        PatchesJob.Summary single = PatchesJob.run(spark, patches(one, out, "conv5", new int[] {0, 1}));
        assertEquals(2, single.rows());
        assertTrue(single.note().contains("each channel has 1 patch(es) instead of 9"), single.note());
        // nothing half-written by the failures
        assertTrue(!Files.exists(Path.of(out, "neighbors")) && !Files.exists(Path.of(out, "embed")));
    }

    @Test
    void unreadableImagesGoToTheErrorTables() throws Exception {
        // 30 images of the features table, 2 of them gone and 1 no longer an image
        Path garbage = tmp.resolve("not-an-image.png");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        List<Row> rows = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).orderBy("path").limit(30).collectAsList();
        Map<String, String> broken = new LinkedHashMap<>();
        broken.put(rows.get(3).getString(rows.get(3).fieldIndex("path")), tmp.resolve("gone-1.png").toUri().toString());
        broken.put(rows.get(11).getString(rows.get(11).fieldIndex("path")), tmp.resolve("gone-2.png").toUri().toString());
        broken.put(rows.get(20).getString(rows.get(20).fieldIndex("path")), garbage.toUri().toString());
        Dataset<Row> table = io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).orderBy("path").limit(30);
        org.apache.spark.sql.Column path = col("path");
        for (Map.Entry<String, String> e : broken.entrySet()) {
            path = org.apache.spark.sql.functions.when(col("path").equalTo(e.getKey()), e.getValue()).otherwise(path);
        }
        Path f = tmp.resolve("broken");
        table.withColumn("path", path).write().parquet(f.resolve("features").toString());
        String out = tmp.resolve("out").toString();

        PatchesJob.Summary p = PatchesJob.run(spark, patches(f, out, "conv5", new int[] {0, 1}));
        assertEquals(30, p.inputs());
        assertEquals(27, p.scanned());
        assertEquals(3, p.errors());
        assertEquals(p.inputs(), p.scanned() + p.errors(), "inputs = scanned + errors");
        Dataset<Row> pe = io.cnnlens.jobs.spark.TableReader.open(spark, Path.of(out, "patches_errors").toString());
        assertEquals(List.of("path", "stage", "reason"), List.of(pe.columns()));
        assertEquals(new java.util.TreeSet<>(broken.values()), new java.util.TreeSet<>(pe.select("path").as(
                org.apache.spark.sql.Encoders.STRING()).collectAsList()));
        assertEquals(2, pe.filter(col("stage").equalTo("read")).count(), "the two missing files fail to read");
        assertEquals(2 * 9, p.rows());
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, p.table()).filter(col("path").isin(broken.values().toArray())).count());

        NeighborsJob.Summary nb = NeighborsJob.run(spark, NeighborsOptions.of(on(f, out).with(NeighborsOptions.K, 5)
                .with(NeighborsOptions.PICTURE_QUERIES, 2)));
        assertEquals(30, nb.inputs());
        assertEquals(3, nb.errors());
        assertEquals(30 * 5 + 27 * 5, nb.rows(), "all 30 in FC7 space, the 27 readable ones in pixel space");
        Dataset<Row> ne = io.cnnlens.jobs.spark.TableReader.open(spark, nb.errorsTable());
        assertEquals(Path.of(out, "neighbors_errors").toUri().toString().replaceAll("/$", ""),
                local(nb.errorsTable()).toUri().toString().replaceAll("/$", ""));
        assertEquals(3, ne.count());
        assertEquals(new java.util.TreeSet<>(broken.values()), new java.util.TreeSet<>(ne.select("path").as(
                org.apache.spark.sql.Encoders.STRING()).collectAsList()));
        assertEquals(0, io.cnnlens.jobs.spark.TableReader.open(spark, nb.table()).filter(col("space").equalTo("pixels")
                .and(col("query_path").isin(broken.values().toArray()).or(col("neighbor_path").isin(broken.values().toArray())))).count());

        // through the job contract: the summary line, and the errors table among the outputs
        JobResult r = new PatchesJob().run(new JobContext(spark), patches(f, out, "conv5", new int[] {0}));
        assertTrue(r.summary().startsWith("patches: inputs 30, scanned 27, errors 3, rows 9,"), r.summary());
        assertTrue(new PatchesJob().outputs().contains("patches_errors") && new NeighborsJob().outputs().contains("neighbors_errors"));
    }

    @Test
    void cannotRunNamesWhatIsMissing() {
        JobContext context = new JobContext(spark);
        String out = tmp.resolve("out").toString();
        PatchesJob patches = new PatchesJob();
        assertEquals(java.util.Optional.empty(), patches.cannotRun(context, patches(features, out, null, null)));
        String missing = patches.cannotRun(context, patches(features, out, "conv9", null)).orElseThrow();
        assertTrue(missing.contains("no tap 'conv9' (--layer)") && missing.contains("conv1") && missing.contains("conv5")
                && !missing.contains("fc7"), missing);
        String notConv = patches.cannotRun(context, patches(features, out, "fc7", null)).orElseThrow();
        assertTrue(notConv.contains("'fc7'") && notConv.contains("is not a conv layer") && notConv.contains("conv5"), notConv);

        Path five = tmp.resolve("five");
        io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).limit(5).write().parquet(five.resolve("features").toString());
        EmbedJob embed = new EmbedJob();
        assertEquals("5 images are too few for a map", embed.cannotRun(context, embed(five, out)).orElseThrow());
        assertEquals(java.util.Optional.empty(), embed.cannotRun(context, embed(features, out)));

        // run passes its --queries (2000) by the key name "queries"
        OptionValues run = OptionValues.defaults().with(io.cnnlens.jobs.OptionKey.integer("queries", 2000, "run's"), 2000);
        assertEquals("queries", NeighborsOptions.QUERIES.name());
        assertEquals(2000, new NeighborsJob().options(new NeighborsJob().inRun(run)).queries());
        assertEquals(0, NeighborsOptions.of(OptionValues.defaults()).queries(), "standalone: every image a query");
    }

    @Test
    void embedLowersPerplexityAndKForSmallInputs() {
        Path twenty = tmp.resolve("twenty");
        io.cnnlens.jobs.spark.TableReader.open(spark, features.resolve("features").toString()).orderBy("path").limit(20).write()
                .parquet(twenty.resolve("features").toString());
        EmbedOptions o = EmbedOptions.of(on(twenty, tmp.resolve("out").toString()).with(EmbedOptions.ITERATIONS, 250)
                .with(EmbedOptions.MOSAIC_GRID, 4));
        assertEquals(java.util.Optional.empty(), new EmbedJob().cannotRun(new JobContext(spark), o));
        JobResult r = new EmbedJob().run(new JobContext(spark), o);
        assertTrue(r.summary().startsWith("embed: inputs 20, rows 40, ") && !r.summary().contains("errors"), r.summary());
        assertTrue(r.notes().contains("embed: perplexity 30 lowered to 6.00: 20 images carry at most (n - 2) / 3"), r.notes().toString());
        assertTrue(r.notes().contains("embed: quality k 10 lowered to 9: 20 images carry at most (n - 2) / 2"), r.notes().toString());
        assertTrue(r.details().stream().anyMatch(l -> l.contains("t-SNE (Barnes-Hut, perplexity 6, theta 0.5) on 20 points: affinities from 18 neighbours each")), r.details().toString());
        assertTrue(r.details().stream().anyMatch(l -> l.contains("kNN-9 accuracy")), r.details().toString());
        assertEquals(40, io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out").resolve("embed").toString()).count());
    }

    /** The features run at {@code f} and the output folder {@code out}, everything else at its default. */
    private static OptionValues on(Path f, String out) {
        return OptionValues.defaults().with(SharedOptions.FEATURES, f.toString()).with(SharedOptions.OUT, out)
                .with(SharedOptions.MODEL, "bundled");
    }

    private static PatchesOptions patches(Path f, String out, String layer, int[] channels) {
        return PatchesOptions.of(on(f, out).with(PatchesOptions.LAYER, layer).with(PatchesOptions.CHANNELS, channels));
    }

    private static NeighborsOptions neighbors(Path f, String out, int k) {
        return NeighborsOptions.of(on(f, out).with(NeighborsOptions.K, k).with(NeighborsOptions.PICTURE_QUERIES, 4));
    }

    private static EmbedOptions embed(Path f, String out) {
        return EmbedOptions.of(on(f, out));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "expected '" + part + "' in: " + ex.getMessage());
    }

    private static Path local(String p) {
        return p.startsWith("file:") ? Path.of(URI.create(p)) : Path.of(p);
    }

    /** Brute force from {@code space[q]} to every row: {@code [0]} L2 distances, {@code [1]} cosine distances. */
    private static double[][] distances(float[][] space, int q) {
        double[][] d = new double[2][space.length];
        float[] a = space[q];
        for (int j = 0; j < space.length; j++) {
            float[] b = space[j];
            double s = 0;
            double na = 0;
            double nb = 0;
            double dot = 0;
            for (int i = 0; i < a.length; i++) {
                s += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
                na += (double) a[i] * a[i];
                nb += (double) b[i] * b[i];
                dot += (double) a[i] * b[i];
            }
            d[0][j] = Math.sqrt(s);
            d[1][j] = na == 0 || nb == 0 ? 1 : 1 - dot / Math.sqrt(na * nb);
        }
        return d;
    }

    /**
     * The {@code k} rows nearest by {@code d}, {@code q} left out, nearest first, equal distances
     * by row index: the first {@code k} of a stable sort of all rows by distance.
     */
    static int[] nearest(double[] d, int q, int k) {
        int[] top = new int[k];
        int size = 0;
        for (int j = 0; j < d.length; j++) {
            if (j == q || (size == k && d[j] >= d[top[k - 1]])) {
                continue;
            }
            int at = size == k ? k - 1 : size++;
            while (at > 0 && d[top[at - 1]] > d[j]) {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = j;
        }
        return java.util.Arrays.copyOf(top, size);
    }
}
