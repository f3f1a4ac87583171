package io.cnnlens.jobs.audit;

import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

import static org.apache.spark.ml.functions.array_to_vector;
import static org.apache.spark.ml.functions.vector_to_array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Out-of-sample class probabilities for confident learning: K linear softmax-regression probes
 * on fc7, fitted on Spark with MLlib's multinomial {@link LogisticRegression} (L-BFGS, features
 * standardised, a small L2 penalty, stopped at a relative loss change of 1e-4 or 100 iterations). Each image falls in one fold by a seeded hash of its path
 * and is scored by the probe fitted on the other K − 1 folds, never by one that saw it, nor by
 * the network's own (in-sample) outputs. Cost: K fits of O(iterations · n · d · C).
 */
final class LabelProbes {

    static final int MAX_ITERATIONS = 100;
    static final double L2 = 1e-4;
    /** L-BFGS stops when the loss changes by less than this, relatively (MLlib's default is 1e-6). */
    static final double TOLERANCE = 1e-4;

    private LabelProbes() {
    }

    /**
     * @param labelled rows with {@code path}, {@code label_index} (int) and {@code fc7}
     * @return {@code path}, {@code label_index}, {@code probs} (array of doubles, one per class index)
     */
    static Dataset<Row> outOfSample(Dataset<Row> labelled, int folds, long seed) {
        Dataset<Row> d = labelled.select(col("path"), col("label_index").cast("double").as("label"), col("label_index"),
                        array_to_vector(col("fc7")).as("features"), pmod(xxhash64(col("path"), lit(seed)), lit(folds)).as("fold"))
                // one partition per core: each L-BFGS iteration is a Spark job over them, and more tasks only add overhead
                .coalesce(labelled.sparkSession().sparkContext().defaultParallelism())
                .persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> out = null;
        try {
            for (int f = 0; f < folds; f++) {
                Dataset<Row> train = d.where(col("fold").notEqual(f));
                Dataset<Row> test = d.where(col("fold").equalTo(f));
                LogisticRegressionModel m = new LogisticRegression().setFamily("multinomial").setMaxIter(MAX_ITERATIONS)
                        .setRegParam(L2).setElasticNetParam(0).setTol(TOLERANCE).setStandardization(true).fit(train);
                Dataset<Row> scored = m.transform(test).select(col("path"), col("label_index"),
                        vector_to_array(col("probability"), "float64").as("probs"));
                out = out == null ? scored : out.unionByName(scored);
            }
            return out.localCheckpoint(true);
        } finally {
            d.unpersist();
        }
    }
}
