package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.ml.functions.vector_to_array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Out-of-sample class probabilities for confident learning: K linear softmax-regression probes
 * on fc7, fitted on Spark with MLlib's multinomial {@link LogisticRegression} (L-BFGS, features
 * standardised, a small L2 penalty, stopped at a relative loss change of 1e-4 or 100 iterations).
 * Each image falls in one fold by a seeded hash of its content ({@code image_id}), so exact copies
 * share a fold, and is scored by the probe fitted on the other K − 1 folds, never by one that saw
 * it or a copy of it, nor by the network's own (in-sample) outputs.
 * Cost: K fits of O(iterations · n · d · C). The rows are hashed to partitions and sorted by
 * content and path first, so a fit depends on the images, not on the order they came in nor on
 * their folder: with at most two partitions (a two-core session) it is the same to the last bit;
 * with more, the order in which Spark combines the partitions' partial sums is not fixed
 * (docs/methods.md#confident-learning).
 *
 * <p>The fitted probes (K weight matrices) are kept with the audit, and a later audit may
 * {@link #score} with them instead of fitting again: a content that was in fold f at the fit was only
 * in the other probes' training sets, and a content added since was in none, so the probabilities stay
 * out of sample (docs/audit.md#incremental-audits).
 */
final class LabelProbes {

    static final int MAX_ITERATIONS = 100;
    static final double L2 = 1e-4;
    /** L-BFGS stops when the loss changes by less than this, relatively (MLlib's default is 1e-6). */
    static final double TOLERANCE = 1e-4;
    /** Folds fitted at once (threads of the driver, each submitting its own Spark jobs). */
    static final int PARALLEL_FITS = 5;

    static final StructType SCORED = new StructType().add("path", DataTypes.StringType).add("label_index", DataTypes.IntegerType)
            .add("probs", DataTypes.createArrayType(DataTypes.DoubleType));

    /**
     * What the folds hash, as {@code probes.json} records it: probes kept from an audit that folded by
     * another column (older audits folded by {@code path}) put rows in other folds, so a row could be
     * scored by a probe that trained on it; they are not reused.
     */
    static final String FOLDED_BY = "image_id";

    /**
     * K fitted probes: {@code weights[f][c][j]} and {@code intercepts[f][c]} of the probe that did
     * not see fold f, on the features' own scale; fitted in audit {@code run} on the features table's
     * version {@code featuresVersion}, with folds by the column {@code foldedBy}.
     */
    record Fitted(String run, long featuresVersion, long seed, String foldedBy, List<String> classes, double[][][] weights,
                  double[][] intercepts) implements Serializable {

        int folds() {
            return weights.length;
        }

        int dimension() {
            return weights[0][0].length;
        }

        /**
         * Whether these probes can score a collection of {@code classes} in {@code folds} folds of
         * {@code dimension} values: the same folds, by the same column, and the same shapes.
         */
        boolean fits(List<String> classes, int folds, long seed, int dimension) {
            return this.classes.equals(classes) && folds() == folds && this.seed == seed && FOLDED_BY.equals(foldedBy)
                    && dimension() == dimension;
        }

        byte[] json() throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("run", run);
            m.put("features_version", featuresVersion);
            m.put("seed", seed);
            m.put("folded_by", foldedBy);
            m.put("classes", classes);
            m.put("weights", weights);
            m.put("intercepts", intercepts);
            return new ObjectMapper().writeValueAsBytes(m);
        }

        static Fitted of(JsonNode j) throws IOException {
            ObjectMapper om = new ObjectMapper();
            List<String> classes = new ArrayList<>();
            j.path("classes").forEach(c -> classes.add(c.asText()));
            // probes.json written before the folds went by content has no folded_by: they were by path
            return new Fitted(j.path("run").asText(), j.path("features_version").asLong(), j.path("seed").asLong(),
                    j.path("folded_by").asText("path"), classes,
                    om.treeToValue(j.path("weights"), double[][][].class), om.treeToValue(j.path("intercepts"), double[][].class));
        }
    }

    /** The out-of-sample probabilities ({@link #SCORED}) and the probes that gave them. */
    record Scored(Dataset<Row> rows, Fitted probes) {
    }

    private LabelProbes() {
    }

    /**
     * The rows with their fold: a seeded hash of the content ({@code image_id}), not of the path, so
     * that copies of one file at several paths fall in one fold. By path, a copy in the other folds
     * trained the probe that scores its twin, and the twin's probability was not out of sample.
     */
    private static Dataset<Row> folded(Dataset<Row> labelled, int folds, long seed) {
        return labelled.select(col("path"), col("label_index"), col("fc7"),
                pmod(xxhash64(col(FOLDED_BY), lit(seed)), lit(folds)).as("fold"), col("image_id"));
    }

    /**
     * Fits K probes and scores every row with the one that did not see it.
     *
     * @param labelled rows with {@code path}, {@code image_id}, {@code label_index} (int, an index into
     *                 {@code classes}) and {@code fc7}
     */
    static Scored fit(Dataset<Row> labelled, List<String> classes, int folds, long seed, String run, long featuresVersion) {
        Dataset<Row> d = folded(labelled, folds, seed)
                .select(col("path"), col("label_index").cast("double").as("label"), col("label_index"),
                        array_to_vector(col("fc7")).as("features"), col("fold"), col("image_id"))
                // one partition per core: each L-BFGS iteration is a Spark job over them, and more tasks only add
                // overhead. Which partition a row is in and where, by its content first: MLlib sums each
                // partition's loss in row order, so rows that came in another order (another write of the same
                // features table) would fit probes that differ in the last bits, and flag other images at the
                // margin; by content, the same images under another folder are summed in the same order too
                .repartition(labelled.sparkSession().sparkContext().defaultParallelism(), col("image_id"))
                .sortWithinPartitions("image_id", "path")
                .persist(StorageLevel.MEMORY_AND_DISK());
        double[][][] weights = new double[folds][][];
        double[][] intercepts = new double[folds][];
        // the K fits run side by side, as MLlib's CrossValidator.setParallelism does: each L-BFGS
        // iteration is a small Spark job, and one fit alone leaves the cluster idle between them
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(folds, PARALLEL_FITS), r -> {
            Thread t = new Thread(r, "label-probe-fit");
            t.setDaemon(true);
            return t;
        });
        try {
            d.count();   // cached once, before the fits read it side by side
            List<Future<Dataset<Row>>> fits = new ArrayList<>();
            for (int f = 0; f < folds; f++) {
                int fold = f;
                fits.add(pool.submit(() -> {
                    LogisticRegressionModel m = new LogisticRegression().setFamily("multinomial").setMaxIter(MAX_ITERATIONS)
                            .setRegParam(L2).setElasticNetParam(0).setTol(TOLERANCE).setStandardization(true)
                            .fit(d.where(col("fold").notEqual(fold)));
                    weights[fold] = denseRows(m.coefficientMatrix(), classes.size());
                    intercepts[fold] = java.util.Arrays.copyOf(m.interceptVector().toArray(), classes.size());
                    return m.transform(d.where(col("fold").equalTo(fold))).select(col("path"), col("label_index"),
                            vector_to_array(col("probability"), "float64").as("probs"));
                }));
            }
            Dataset<Row> out = null;
            for (Future<Dataset<Row>> fit : fits) {
                Dataset<Row> scored = fit.get();
                out = out == null ? scored : out.unionByName(scored);
            }
            return new Scored(out.localCheckpoint(true), new Fitted(run, featuresVersion, seed, FOLDED_BY, classes, weights, intercepts));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("label probes interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException("label probe fit failed", e.getCause());
        } finally {
            pool.shutdownNow();
            d.unpersist();
        }
    }

    /**
     * Scores every row with the kept probe of its fold: one pass, O(n · d · C), no fit. A class the
     * fit's training folds lacked has weight rows of zeros there (MLlib's own model would too).
     */
    static Dataset<Row> score(Dataset<Row> labelled, Fitted probes) {
        int classes = probes.classes().size();
        MapFunction<Row, Row> softmax = r -> {
            int f = (int) r.getLong(3);
            List<?> x = r.getList(2);
            double[] z = new double[classes];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double[] w = probes.weights()[f][c];
                double s = probes.intercepts()[f][c];
                for (int j = 0; j < w.length; j++) {
                    s += w[j] * ((Number) x.get(j)).doubleValue();
                }
                z[c] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                z[c] = Math.exp(z[c] - max);
                sum += z[c];
            }
            List<Double> p = new ArrayList<>(classes);
            for (int c = 0; c < classes; c++) {
                p.add(z[c] / sum);
            }
            return RowFactory.create(r.getString(0), r.getInt(1), scala.jdk.javaapi.CollectionConverters.asScala(p).toSeq());
        };
        return folded(labelled, probes.folds(), probes.seed()).map(softmax, Encoders.row(SCORED)).toDF();
    }

    private static double[][] denseRows(Matrix m, int classes) {
        double[][] w = new double[classes][m.numCols()];
        for (int c = 0; c < Math.min(classes, m.numRows()); c++) {
            for (int j = 0; j < m.numCols(); j++) {
                w[c][j] = m.apply(c, j);
            }
        }
        return w;
    }
}
