package io.cnnlens.jobs.features;

import io.cnnlens.features.FeatureRow;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Map;


/** The features job's tables: column layout, writer settings and the conversion of results into rows. */
public final class FeaturesSchema {

    public static final String FEATURES = "features";
    public static final String ERRORS = "errors";

    public static final StructType TOP5 = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("class", DataTypes.StringType, false),
            DataTypes.createStructField("probability", DataTypes.FloatType, false)});

    public static final StructType FEATURES_SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.StringType, true),
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField("model", DataTypes.StringType, true),
            DataTypes.createStructField("pred", DataTypes.StringType, true),
            DataTypes.createStructField("pred_index", DataTypes.IntegerType, true),
            DataTypes.createStructField("top5", DataTypes.createArrayType(TOP5, false), true),
            DataTypes.createStructField("fc7", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("logits", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("conv_layer", DataTypes.StringType, true),
            DataTypes.createStructField("conv_max", DataTypes.createArrayType(DataTypes.FloatType, false), true)});

    public static final StructType ERRORS_SCHEMA = io.cnnlens.jobs.spark.ErrorChannel.SCHEMA;

    /**
     * Parquet writer settings for the features table: no dictionary for the float vectors (their
     * values hardly repeat, so a dictionary only costs time before Parquet falls back to plain).
     */
    public static final Map<String, String> PARQUET_OPTIONS = Map.of(
            "parquet.enable.dictionary#fc7.list.element", "false",
            "parquet.enable.dictionary#logits.list.element", "false",
            "parquet.enable.dictionary#conv_max.list.element", "false",
            "parquet.enable.dictionary#top5.list.element.probability", "false");

    private FeaturesSchema() {
    }

    public static Row toRow(FeatureRow f, String model, String convLayer) {
        Row[] top5 = new Row[f.top5Classes().length];
        for (int k = 0; k < top5.length; k++) {
            top5[k] = RowFactory.create(f.top5Classes()[k], f.top5Probabilities()[k]);
        }
        return RowFactory.create(f.imageId(), f.path(), f.label(), f.width(), f.height(), model,
                f.pred(), f.predIndex(), top5, f.features(), f.logits(),
                f.convMax() == null ? null : convLayer, f.convMax());
    }
}
