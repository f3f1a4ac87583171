package io.cnnlens.jobs.audit;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A previous audit's quality measures are reused only when its table has every measure this
 * audit flags by: one from before the brightness percentiles would leave them null, and its
 * images would never be flagged dark or bright again.
 */
class QualityPassTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("quality-pass")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Tables from before the brightness percentiles, and from before the relative Laplacian variance, are measured again. */
    @Test
    void aQualityTableWithoutEveryMeasureIsNotReused() {
        StructType before = new StructType().add("image_id", DataTypes.StringType).add("path", DataTypes.StringType)
                .add("mean_intensity", DataTypes.DoubleType).add("laplacian_variance", DataTypes.DoubleType)
                .add("grey", DataTypes.BooleanType).add("channels", DataTypes.IntegerType)
                .add("thumbnail", DataTypes.createArrayType(DataTypes.FloatType, false));
        Dataset<Row> old = spark.createDataFrame(List.of(RowFactory.create("a", "x/a.png", 0.1, 500.0, true, 1, null)), before);
        assertTrue(QualityPass.reusable(old).isEmpty(), "no brightness_p99 / brightness_p5: measure again");

        StructType percentiles = before.add("brightness_p99", DataTypes.DoubleType).add("brightness_p5", DataTypes.DoubleType);
        Dataset<Row> withPercentiles = spark.createDataFrame(List.of(RowFactory.create("a", "x/a.png", 0.1, 500.0, true, 1, null, 0.9, 0.0)),
                percentiles);
        assertTrue(QualityPass.reusable(withPercentiles).isEmpty(), "no relative_laplacian_variance: measure again");

        StructType now = percentiles.add("relative_laplacian_variance", DataTypes.DoubleType);
        Dataset<Row> current = spark.createDataFrame(List.of(RowFactory.create("a", "x/a.png", 0.1, 500.0, true, 1, null, 0.9, 0.0, 1.5),
                RowFactory.create("a", "y/a.png", 0.1, 500.0, true, 1, null, 0.9, 0.0, 1.5)), now);
        Dataset<Row> kept = QualityPass.reusable(current).orElseThrow();
        assertEquals(List.of(QualityPass.MEASURES.fieldNames()), List.of(kept.columns()), "the measures, in their order");
        assertEquals(1, kept.count(), "one row per content");
    }
}
