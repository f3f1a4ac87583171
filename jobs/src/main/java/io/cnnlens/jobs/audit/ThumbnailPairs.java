package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.cnnlens.audit.ImageQuality;
import io.cnnlens.index.Metric;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.spark.VectorColumn;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * The near-duplicates' second and third candidate searches: each distinct content's k nearest
 * others by thumbnail correlation, among all and among the other splits' contents
 * (docs/methods.md#near-duplicates), kept from one audit to the next
 * (docs/audit.md#incremental-audits). Wiring only; the measure is {@link ImageQuality#centred}.
 */
final class ThumbnailPairs {

    /** The metric of the contents searched across splits. */
    static final String SPLIT_SEARCHED = "near_duplicates.split_searched";

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ThumbnailPairs.class);

    private ThumbnailPairs() {
    }

    /**
     * Near-duplicate candidates from thumbnails: each content's k nearest others by the correlation
     * of its 16×16 grey thumbnail (cosine of centred thumbnails, searched as the fc7 lists are),
     * kept when they correlate at {@code --near-duplicate-pixels} or more, with the two contents'
     * fc7 cosine distance, staged as {@link AuditJob#THUMBNAIL_PAIRS}; then given to every pair of their
     * paths: rows (a, b, distance) as the fc7 pairs have them. One vector per content, so exact
     * copies do not crowd the lists. Flat thumbnails correlate with nothing and are left out.
     * Where the collection has split folders the pairs of each content's k nearest in the other
     * splits are added ({@link #acrossSplits}); the lists kept for the outliers are those among all.
     *
     * <p>Incremental (with {@code previous}, from {@code --knn-keep-from} images): when no content
     * is gone since the previous audit and its model, k and pixel threshold allow, its pairs are kept and
     * only the new contents are searched, against all and all against them. A pair of two old
     * contents that is in a list now was in one then (adding contents only pushes others out), and
     * a pair with a new content is in the new content's list or in the other's list among the new.
     */
    static Found find(SparkSession spark, TableCommitter committer, Dataset<Row> keyed, Dataset<Row> measures, int k,
                             AuditOptions o, AuditKnn.Method method, Optional<PreviousAudit> previous, Map<String, Double> metrics) {
        UserDefinedFunction centred = udf((UDF1<scala.collection.Seq<Float>, float[]>) t -> t == null ? null
                : ImageQuality.centred(VectorColumn.floats(scala.jdk.javaapi.CollectionConverters.asJava(t))),
                DataTypes.createArrayType(DataTypes.FloatType, false));
        // the content's key: a 63-bit hash of its image_id (two contents with one hash: the second is left out of this search)
        Dataset<Row> contents = measures.select(contentKey(col("image_id")).as("key"), col("image_id"),
                        centred.apply(col("thumbnail")).as("fc7"))  // the column AuditKnn searches
                .where(col("fc7").isNotNull()).dropDuplicates("key").persist(StorageLevel.MEMORY_AND_DISK());
        long n = contents.count();
        // a content's split: the first in name order of its paths' split folders (null: none)
        Dataset<Row> splitOf = keyed.groupBy("image_id").agg(min("split").as("split"));
        Optional<KeptPairs> kept = previous.flatMap(pa -> keptThumbnailPairs(spark, pa, splitOf, o));
        // read by a count and by both searches: computed once
        Dataset<Row> newContents = kept.isPresent()
                ? contents.join(kept.get().contents(), "image_id", "left_anti").persist(StorageLevel.MEMORY_AND_DISK()) : contents;
        long searched = kept.isPresent() ? newContents.count() : n;
        long t = System.nanoTime();
        List<Runnable> release = new ArrayList<>(); // the lists AuditKnn persisted
        Dataset<Row> found = spark.createDataFrame(List.of(), AuditKnn.SCHEMA);
        if (n >= 2 && searched > 0) {
            int kc = (int) Math.min(k, n - 1);
            Dataset<Row> all = contents.select("key", "fc7");
            if (kept.isEmpty()) {
                found = AuditKnn.all(spark, all, kc, method);
                release.add(found::unpersist);
            } else {
                // the new contents against all, and all against them: one pass of products read both ways
                AuditKnn.Lists both = AuditKnn.bothWays(spark, newContents.select("key", "fc7"), all, kc, (int) Math.min(k, searched), method);
                found = both.union();
                release.add(both::unpersist);
            }
        }
        metrics.put("near_duplicates.thumbnail_searched", (double) searched);
        LOG.info("near-duplicates: {} of {} contents searched by thumbnail in {} s", searched, n, (System.nanoTime() - t) / 1e9);
        // leakage: each content's k nearest among the other splits' contents, so that a copy across splits is not
        // crowded out of both lists by look-alikes of its own split (docs/methods.md#near-duplicates)
        Dataset<Row> acrossSplits = acrossSplits(spark, contents, newContents, searched, splitOf, k, method, kept, metrics, release);
        // each content's k smallest thumbnail distances, for the outliers by thumbnail and the next audit. A kept
        // content's list was the k nearest among the old contents; the columns of this search hold its nearest
        // among the new ones, so its k nearest now are the k smallest of both (the two sets are disjoint). A new
        // content is in both directions of the search (its list, and the columns of the new among themselves):
        // each neighbour once
        int listLength = (int) Math.max(0, Math.min(k, n - 1));
        Dataset<Row> distances = found.groupBy(col("query_key").as("key"), col("neighbor_key")).agg(min(col("distance")).as("distance"))
                .select("key", "distance");
        if (kept.isPresent()) {
            distances = distances.union(kept.get().lists().join(contents.select("key", "image_id"), "image_id")
                    .select(col("key"), explode(col("distances")).as("distance")));
        }
        Dataset<Row> lists = distances.groupBy("key").agg(slice(array_sort(collect_list(col("distance"))), 1, Math.max(1, listLength))
                        .as("distances"))
                .join(contents.select("key", "image_id"), "key").select("image_id", "distances");
        AuditJob.written(committer, AuditJob.THUMBNAIL_LISTS, lists);
        Dataset<Row> kth = AuditJob.staged(spark, committer, AuditJob.THUMBNAIL_LISTS)
                .where(size(col("distances")).geq(Math.max(1, listLength)))
                .select(col("image_id"), element_at(col("distances"), Math.max(1, listLength)).as("thumbnail_kth_distance"));
        Dataset<Row> close = found.union(acrossSplits).where(col("distance").leq(1 - o.nearDuplicatePixels()))
                .select(least(col("query_key"), col("neighbor_key")).as("ca"), greatest(col("query_key"), col("neighbor_key")).as("cb"),
                        lit(1.0).minus(col("distance")).as("correlation"))
                .groupBy("ca", "cb").agg(max("correlation").as("correlation"));
        Dataset<Row> ids = contents.select("key", "image_id");
        Dataset<Row> fc7 = keyed.select("image_id", "fc7").dropDuplicates("image_id");
        UserDefinedFunction cosineDistance = udf((UDF2<scala.collection.Seq<Float>, scala.collection.Seq<Float>, Float>) (x, y) ->
                (float) Metric.COSINE.exact(VectorColumn.floats(scala.jdk.javaapi.CollectionConverters.asJava(x)),
                        VectorColumn.floats(scala.jdk.javaapi.CollectionConverters.asJava(y))), DataTypes.FloatType);
        Dataset<Row> fresh = close.join(AuditJob.prefixed(ids, "a_"), col("ca").equalTo(col("a_key")))
                .join(AuditJob.prefixed(ids, "b_"), col("cb").equalTo(col("b_key")))
                .join(AuditJob.prefixed(fc7, "fa_"), col("a_image_id").equalTo(col("fa_image_id")))
                .join(AuditJob.prefixed(fc7, "fb_"), col("b_image_id").equalTo(col("fb_image_id")))
                .select(least(col("a_image_id"), col("b_image_id")).as("image_id_a"), greatest(col("a_image_id"), col("b_image_id")).as("image_id_b"),
                        col("correlation"), cosineDistance.apply(col("fa_fc7"), col("fb_fc7")).as("distance"));
        Dataset<Row> byContent = kept.map(kp -> kp.pairs().unionByName(fresh)).orElse(fresh)
                .dropDuplicates("image_id_a", "image_id_b");
        AuditJob.written(committer, AuditJob.THUMBNAIL_PAIRS, byContent);
        Dataset<Row> staged = AuditJob.staged(spark, committer, AuditJob.THUMBNAIL_PAIRS);
        metrics.put("near_duplicates.thumbnail_candidates", (double) staged.count());
        LOG.info("near-duplicates: {} thumbnail content pairs after {} s", metrics.get("near_duplicates.thumbnail_candidates"),
                (System.nanoTime() - t) / 1e9);
        release.forEach(Runnable::run);
        newContents.unpersist();
        contents.unpersist();
        Dataset<Row> pairs = staged.select(contentKey(col("image_id_a")).as("ka"), contentKey(col("image_id_b")).as("kb"),
                        col("correlation"), col("distance"))
                .select(least(col("ka"), col("kb")).as("ca"), greatest(col("ka"), col("kb")).as("cb"), col("correlation"), col("distance"));
        // a content in k or more pairs: its list may have left out a pair that also passes (see Found)
        Dataset<Row> crowded = pairs.select(col("ca").as("ck")).union(pairs.select(col("cb").as("ck")))
                .groupBy("ck").count().where(col("count").geq(Math.max(1, listLength))).select("ck");
        // with approximate lists (a graph, now or in the kept pairs' audit) a pair can be missed without a crowd
        boolean exact = !method.graph(n) && kept.map(kp -> kp.exact()).orElse(true);
        return new Found(pairs, crowded, exact, kth);
    }

    /**
     * The thumbnails' candidates by content key ({@link #contentKey}): {@code pairs} (ca &lt; cb,
     * correlation, fc7 cosine distance), every pair of the lists that correlates at the pixel
     * threshold or more; and the {@code crowded} contents (ck), those in k or more such pairs.
     * A pair of contents that correlates at the threshold is among {@code pairs} unless both
     * contents are crowded: a pair is left out only where both lists are full of contents that
     * correlate at least as much, and those are pairs too. So a candidate from elsewhere (the fc7
     * lists) needs its thumbnails compared only when both its contents are crowded. That holds
     * for exact lists ({@code exact}); a graph's may miss a pair without a crowd.
     * {@code kth}: each content's distance (1 − correlation) to its k-th nearest other content by
     * thumbnail (image_id, thumbnail_kth_distance), for the outliers by thumbnail
     * (docs/methods.md#outliers); contents with fewer than k others, or flat thumbnails, have none.
     */
    record Found(Dataset<Row> pairs, Dataset<Row> crowded, boolean exact, Dataset<Row> kth) {
    }

    /** A content's key in this search: a 63-bit hash of its image_id. */
    static org.apache.spark.sql.Column contentKey(org.apache.spark.sql.Column imageId) {
        return xxhash64(imageId).bitwiseAND(lit(Long.MAX_VALUE));
    }

    /**
     * The previous audit's thumbnail pairs (this run's threshold applied), the contents (image_id) it
     * had, and each content's k smallest thumbnail distances then (image_id, distances); whether its
     * lists were exact, and whether its pairs hold its search across splits for this audit's splits.
     */
    private record KeptPairs(Dataset<Row> pairs, Dataset<Row> contents, Dataset<Row> lists, boolean exact, boolean acrossSplits) {
    }

    /**
     * The search for leakage: each content with a split ({@code splitOf}: image_id, split) against
     * the contents of the other splits, read both ways, as rows of {@link AuditKnn#SCHEMA}. Splits
     * in name order, each searched against those before it, so every pair of splits once; a
     * content's lists in the splits together hold its k nearest among all other splits.
     * Incremental as the search of all is ({@link KeptPairs#acrossSplits}): only the new contents,
     * each against the other splits' contents and they against it ({@code newCount} of them). Puts
     * {@code near_duplicates.split_searched}: the contents whose lists were searched, all those with
     * a split or the new ones (0 with fewer than two splits).
     */
    private static Dataset<Row> acrossSplits(SparkSession spark, Dataset<Row> contents, Dataset<Row> newContents, long newCount,
                                             Dataset<Row> splitOf, int k, AuditKnn.Method method, Optional<KeptPairs> kept,
                                             Map<String, Double> metrics, List<Runnable> release) {
        boolean incremental = kept.map(KeptPairs::acrossSplits).orElse(false);
        if (incremental && newCount == 0) {
            metrics.put(SPLIT_SEARCHED, 0.0);
            return spark.createDataFrame(List.of(), AuditKnn.SCHEMA); // nothing new: the kept pairs are the search
        }
        Dataset<Row> withSplit = contents.select("key", "image_id", "fc7").join(splitOf.where(col("split").isNotNull()), "image_id")
                .join(newContents.select(col("image_id"), lit(true).as("new")), AuditJob.columns("image_id"), "left")
                .persist(StorageLevel.MEMORY_AND_DISK());
        release.add(withSplit::unpersist);
        // contents per split, and new ones: one query
        Map<String, long[]> perSplit = new java.util.TreeMap<>();
        for (Row r : withSplit.groupBy("split").agg(count(lit(1)), count(when(col("new"), 1))).collectAsList()) {
            perSplit.put(r.getString(0), new long[] {r.getLong(1), r.getLong(2)});
        }
        List<String> splits = new ArrayList<>(perSplit.keySet());
        Dataset<Row> found = spark.createDataFrame(List.of(), AuditKnn.SCHEMA);
        long searched = 0;
        long before = 0; // contents in the splits before this one
        long all = perSplit.values().stream().mapToLong(c -> c[0]).sum();
        for (int i = 0; i < splits.size() && splits.size() >= 2; i++) {
            String s = splits.get(i);
            long nq = incremental ? perSplit.get(s)[1] : perSplit.get(s)[0];
            long nr = incremental ? all - perSplit.get(s)[0] : before;
            before += perSplit.get(s)[0];
            if (nq == 0 || nr == 0) {
                continue;
            }
            // the new contents against every other split; all contents against the splits before theirs
            Dataset<Row> q = withSplit.where(col("split").equalTo(s).and(incremental ? col("new").isNotNull() : lit(true))).select("key", "fc7");
            Dataset<Row> refs = withSplit.where(incremental ? col("split").notEqual(s) : col("split").lt(s)).select("key", "fc7");
            AuditKnn.Lists both = AuditKnn.bothWays(spark, q, refs, (int) Math.min(k, nr), (int) Math.min(k, nq), method);
            release.add(both::unpersist);
            found = found.union(both.union());
            searched += nq;
        }
        // every content with a split has its lists searched in full; incrementally, the new ones
        long listed = incremental ? searched : splits.size() >= 2 ? all : 0;
        metrics.put(SPLIT_SEARCHED, (double) listed);
        LOG.info("near-duplicates: {} contents searched across {} splits{}", listed, splits.size(), incremental ? " (the new ones)" : "");
        return found;
    }

    /**
     * The previous audit's thumbnail pairs, when they may stand for a search of its contents: the
     * same model and k, a pixel threshold no lower than its own (its pairs are filtered by this
     * one), and none of its contents gone (a removal can let a pair into a list that was full
     * before). Empty: search all.
     */
    private static Optional<KeptPairs> keptThumbnailPairs(SparkSession spark, PreviousAudit pa, Dataset<Row> splitOf, AuditOptions o) {
        JsonNode opts = pa.summary().path("options");
        if (!Objects.equals(opts.path("model").textValue(), o.model()) || opts.path("k").asInt(-1) != o.k()
                || opts.path("nearDuplicatePixels").asDouble(2) > o.nearDuplicatePixels()) {
            return Optional.empty();
        }
        Optional<Dataset<Row>> pairs = TableReader.table(spark, pa.dir(), AuditJob.THUMBNAIL_PAIRS);
        Optional<Dataset<Row>> quality = TableReader.table(spark, pa.dir(), AuditJob.QUALITY);
        // audits before 2026-12-07's outliers by thumbnail kept no lists: search all once
        Optional<Dataset<Row>> lists = TableReader.table(spark, pa.dir(), AuditJob.THUMBNAIL_LISTS);
        if (pairs.isEmpty() || quality.isEmpty() || lists.isEmpty()) {
            return Optional.empty();
        }
        Dataset<Row> before = quality.get().groupBy("image_id").agg(min(AuditJob.split(col("path"))).as("before"));
        // one query: the contents then, those gone, and those still here in another split (splitOf: every content now)
        Dataset<Row> now = splitOf.withColumn("present", lit(true));
        Row counted = before.join(now, AuditJob.columns("image_id"), "left")
                .agg(count(lit(1)), count(when(col("present").isNull(), 1)),
                        count(when(col("present").isNotNull().and(not(col("split").eqNullSafe(col("before")))), 1)))
                .first();
        long gone = counted.getLong(1);
        if (gone > 0) {
            LOG.info("near-duplicates: {} contents gone since audit {}: the thumbnails are searched anew", gone, pa.name());
            return Optional.empty();
        }
        if (counted.getLong(0) <= o.k()) {
            return Optional.empty(); // its lists were shorter than k: search all
        }
        // its pairs hold its search across splits when it did one (audits before 2026-12-08 did not) and every
        // content is in the split it was in (an exact copy added under another split folder can move one)
        long moved = counted.getLong(2);
        boolean acrossSplits = pa.summary().path("metrics").has(SPLIT_SEARCHED) && moved == 0;
        if (moved > 0) {
            LOG.info("near-duplicates: {} contents in another split since audit {}: searched across splits anew", moved, pa.name());
        }
        return Optional.of(new KeptPairs(pairs.get().where(col("correlation").geq(o.nearDuplicatePixels()))
                .select("image_id_a", "image_id_b", "correlation", "distance"), before.select("image_id"),
                lists.get().select("image_id", "distances"),
                "exact".equals(pa.summary().path(AuditJob.KNN_METHOD).textValue()), acrossSplits));
    }
}
