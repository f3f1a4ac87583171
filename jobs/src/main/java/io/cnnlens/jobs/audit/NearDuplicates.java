package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.cnnlens.audit.ImageQuality;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.spark.VectorColumn;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

/**
 * The near-duplicates check (docs/methods.md#near-duplicates): the candidate pairs of paths, from
 * each image's k nearest in fc7 and the thumbnails' content pairs ({@link ThumbnailPairs}), kept
 * when their fc7 cosine and their thumbnail correlation both pass. A pair of one content at two
 * paths correlates 1; a pair the thumbnails' lists hold has its correlation from the search; a
 * pair they do not hold correlates below the threshold unless both its contents are crowded
 * ({@link ThumbnailPairs.Found}), and only those few have their thumbnails compared. So the pairs
 * (n·k of them) are joined on long keys alone; thumbnails travel for the crowded pairs and paths
 * for the confirmed ones. Wiring only; the measure is {@link ImageQuality#correlation}.
 */
final class NearDuplicates {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NearDuplicates.class);

    private NearDuplicates() {
    }

    /** The metric of the previous audit's pairs kept ({@link #withPrevious}). */
    static final String KEPT = "near_duplicates.kept";

    /**
     * {@code near} with the previous audit's pairs whose two paths hold the same content now (by
     * {@code meta}: path, image_id), when both audits ran one model, filtered again by this run's
     * thresholds where they are stricter; each pair once. Such a pair still meets the definition
     * (its cosine and correlation are those of the same two contents), but added images can push
     * it out of the lists that proposed it; without it the pair would be reported as resolved
     * although nothing changed (docs/audit.md#what-changed-since-the-last-audit). So a pair leaves
     * the table only when one of its files is removed or changed, or a stricter threshold drops
     * it. Puts {@code near_duplicates.kept}: the previous pairs kept that the lists did not
     * propose again.
     */
    static Dataset<Row> withPrevious(SparkSession spark, PreviousAudit previous, Dataset<Row> near, Dataset<Row> meta, AuditOptions o,
                                     Map<String, Double> metrics) {
        Optional<Dataset<Row>> pairs = TableReader.table(spark, previous.dir(), AuditJob.NEAR);
        Optional<Dataset<Row>> quality = TableReader.table(spark, previous.dir(), AuditJob.QUALITY);
        if (pairs.isEmpty() || quality.isEmpty()
                || !Objects.equals(previous.summary().path("options").path("model").textValue(), o.model())) {
            metrics.put(KEPT, 0.0);
            return near;
        }
        // paths with the content they had then: a semi-join on (path, image_id)
        Dataset<Row> unchanged = quality.get().select("path", "image_id").join(meta.select("path", "image_id"),
                AuditJob.columns("path", "image_id")).select("path");
        // its pairs passed its thresholds: filtered again only where this run's are stricter (a pair on the threshold
        // itself could read as below it after the rounding of its stored cosine)
        org.apache.spark.sql.Column pass = lit(true);
        JsonNode opts = previous.summary().path("options");
        if (o.nearDuplicateCosine() > opts.path("nearDuplicateCosine").asDouble(0)) {
            pass = pass.and(col("cosine").geq(o.nearDuplicateCosine()));
        }
        if (o.nearDuplicatePixels() > opts.path("nearDuplicatePixels").asDouble(0)) {
            pass = pass.and(col("pixel_correlation").geq(o.nearDuplicatePixels()));
        }
        Dataset<Row> kept = pairs.get().where(pass)
                .join(unchanged.withColumnRenamed("path", "path_a"), AuditJob.columns("path_a"), "left_semi")
                .join(unchanged.withColumnRenamed("path", "path_b"), AuditJob.columns("path_b"), "left_semi")
                .join(near.select("path_a", "path_b"), AuditJob.columns("path_a", "path_b"), "left_anti")
                .localCheckpoint(true);
        metrics.put(KEPT, (double) kept.count());
        return near.unionByName(kept);
    }

    /**
     * {@code fc7Pairs}: (a, b, distance) by image key, a &lt; b; {@code meta}: (key, image_id, path,
     * label, split); {@code measures}: (image_id, thumbnail). Rows of the check's table: path_a,
     * path_b, split_a, split_b, label_a, label_b, cosine, pixel_correlation, exact, leakage.
     * Puts {@code near_duplicates.candidates} and {@code near_duplicates.compared} into {@code metrics}.
     */
    static Dataset<Row> confirm(Dataset<Row> fc7Pairs, ThumbnailPairs.Found thumbnails, Dataset<Row> meta, Dataset<Row> measures,
                                double cosine, double pixels, Map<String, Double> metrics) {
        double maxDistance = 1 - cosine;
        // each image's content key: 16 bytes an image, sent to every task
        Dataset<Row> contentOf = broadcast(meta.select(col("key"), ThumbnailPairs.contentKey(col("image_id")).as("ck")));
        // the thumbnails' content pairs, given to every pair of their paths
        Dataset<Row> byPath = thumbnails.pairs().where(col("distance").leq(maxDistance))
                .join(contentOf.select(col("key").as("ka"), col("ck").as("ca")), "ca")
                .join(contentOf.select(col("key").as("kb"), col("ck").as("cb")), "cb")
                .select(least(col("ka"), col("kb")).as("a"), greatest(col("ka"), col("kb")).as("b"), col("distance"), col("correlation"));
        Dataset<Row> candidates = fc7Pairs.where(col("distance").leq(maxDistance)).select(col("a"), col("b"), col("distance"),
                        lit(null).cast(DataTypes.DoubleType).as("correlation"))
                .unionByName(byPath)
                .groupBy("a", "b").agg(min("distance").as("distance"), max("correlation").as("correlation"))
                .join(contentOf.select(col("key").as("a"), col("ck").as("ca")), "a")
                .join(contentOf.select(col("key").as("b"), col("ck").as("cb")), "b")
                .withColumn("correlation", when(col("ca").equalTo(col("cb")), lit(1.0)).otherwise(col("correlation")))
                .localCheckpoint(true);
        metrics.put("near_duplicates.candidates", (double) candidates.count());
        // the pairs no list answers: below the threshold unless both contents are crowded (exact lists)
        Dataset<Row> open = candidates.where(col("correlation").isNull());
        if (thumbnails.exact()) {
            Dataset<Row> crowded = broadcast(thumbnails.crowded());
            open = open.join(crowded.withColumnRenamed("ck", "ca"), AuditJob.columns("ca"), "left_semi")
                    .join(crowded.withColumnRenamed("ck", "cb"), AuditJob.columns("cb"), "left_semi");
        }
        UserDefinedFunction correlation = udf((UDF2<scala.collection.Seq<Float>, scala.collection.Seq<Float>, Double>) (x, y) ->
                x == null || y == null ? null : ImageQuality.correlation(VectorColumn.floats(scala.jdk.javaapi.CollectionConverters.asJava(x)),
                        VectorColumn.floats(scala.jdk.javaapi.CollectionConverters.asJava(y))), DataTypes.DoubleType);
        Dataset<Row> thumbs = measures.select(ThumbnailPairs.contentKey(col("image_id")).as("ck"), col("thumbnail")).dropDuplicates("ck");
        Dataset<Row> compared = open.join(thumbs.select(col("ck").as("ca"), col("thumbnail").as("ta")), "ca")
                .join(thumbs.select(col("ck").as("cb"), col("thumbnail").as("tb")), "cb")
                .select(col("a"), col("b"), col("distance"), correlation.apply(col("ta"), col("tb")).as("correlation"))
                .localCheckpoint(true);
        metrics.put("near_duplicates.compared", (double) compared.count());
        LOG.info("near-duplicates: {} candidate pairs, {} of them compared by thumbnail", metrics.get("near_duplicates.candidates"),
                metrics.get("near_duplicates.compared"));
        Dataset<Row> confirmed = candidates.where(col("correlation").isNotNull()).select("a", "b", "distance", "correlation")
                .unionByName(compared)
                .where(col("correlation").geq(pixels));
        return confirmed.join(AuditJob.prefixed(meta, "a_"), col("a").equalTo(col("a_key")))
                .join(AuditJob.prefixed(meta, "b_"), col("b").equalTo(col("b_key")))
                .select(col("a_path").as("path_a"), col("b_path").as("path_b"), col("a_split").as("split_a"), col("b_split").as("split_b"),
                        col("a_label").as("label_a"), col("b_label").as("label_b"), lit(1.0).minus(col("distance")).as("cosine"),
                        col("correlation").as("pixel_correlation"),
                        col("a_image_id").equalTo(col("b_image_id")).as("exact"),
                        col("a_split").isNotNull().and(col("b_split").isNotNull()).and(col("a_split").notEqual(col("b_split"))).as("leakage"));
    }
}
