package io.cnnlens.jobs;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.features.ExtractResult;
import io.cnnlens.features.FeatureRow;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;


/** The features job's tables: column layout and the conversion of results into rows. */
final class FeatureTables {

    static final String FEATURES = "features";
    static final String ERRORS = "errors";

    static final StructType TOP5 = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("class", DataTypes.StringType, false),
            DataTypes.createStructField("probability", DataTypes.FloatType, false)});

    static final String[] FEATURE_COLUMNS = {
            "image_id", "path", "label", "width", "height", "model", "pred", "pred_index", "top5",
            "fc7", "logits", "conv_layer", "conv_max"};
    static final String[] ERROR_COLUMNS = {"path", "stage", "reason"};

    /** Features and errors in one row type (with a {@code kind} column) so one pass yields both. */
    static final StructType COMBINED = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("kind", DataTypes.StringType, false),
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
            DataTypes.createStructField("conv_max", DataTypes.createArrayType(DataTypes.FloatType, false), true),
            DataTypes.createStructField("stage", DataTypes.StringType, true),
            DataTypes.createStructField("reason", DataTypes.StringType, true)});

    private FeatureTables() {
    }

    static Row toRow(ExtractResult r, String model, String convLayer) {
        if (r instanceof FeatureRow f) {
            Row[] top5 = new Row[f.top5Classes().length];
            for (int k = 0; k < top5.length; k++) {
                top5[k] = RowFactory.create(f.top5Classes()[k], f.top5Probabilities()[k]);
            }
            return RowFactory.create("ok", f.imageId(), f.path(), f.label(), f.width(), f.height(), model,
                    f.pred(), f.predIndex(), top5, f.features(), f.logits(),
                    f.convMax() == null ? null : convLayer, f.convMax(), null, null);
        }
        ErrorRow e = (ErrorRow) r;
        return RowFactory.create("error", null, e.path(), null, null, null, model, null, null, null, null, null,
                null, null, e.stage(), e.reason());
    }
}
