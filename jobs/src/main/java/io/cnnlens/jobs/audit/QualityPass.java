package io.cnnlens.jobs.audit;

import io.cnnlens.audit.ImageQuality;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.ImageBytes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The audit's quality measures ({@link ImageQuality}) for images by content: only the images
 * whose {@code image_id} the previous audit's quality table lacks are read and decoded again; the
 * rest reuse their measures (same bytes, same measures). An image that can no longer be read
 * gets null measures (the features table had it, so it was readable then). A previous table
 * without every measure column (before the brightness percentiles and the relative Laplacian
 * variance, 2026-12-07) is not reused.
 */
final class QualityPass {

    static final StructType MEASURES = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("image_id", DataTypes.StringType, false),
            DataTypes.createStructField("mean_intensity", DataTypes.DoubleType, true),
            DataTypes.createStructField("brightness_p99", DataTypes.DoubleType, true),
            DataTypes.createStructField("brightness_p5", DataTypes.DoubleType, true),
            DataTypes.createStructField("laplacian_variance", DataTypes.DoubleType, true),
            // null for a flat image: no contrast, so no share of it in fine detail
            DataTypes.createStructField("relative_laplacian_variance", DataTypes.DoubleType, true),
            DataTypes.createStructField("grey", DataTypes.BooleanType, true),
            DataTypes.createStructField("channels", DataTypes.IntegerType, true),
            DataTypes.createStructField("thumbnail", DataTypes.createArrayType(DataTypes.FloatType, false), true)});

    private QualityPass() {
    }

    /** The previous audit's measures by content, when its quality table has every column of {@link #MEASURES}. */
    static Optional<Dataset<Row>> reusable(Dataset<Row> previousQuality) {
        if (!List.of(previousQuality.columns()).containsAll(List.of(MEASURES.fieldNames()))) {
            return Optional.empty();
        }
        return Optional.of(previousQuality.select(Arrays.stream(MEASURES.fieldNames()).map(functions::col).toArray(Column[]::new))
                .dropDuplicates("image_id"));
    }

    /** (image_id, path) rows to measure → {@link #MEASURES} rows. */
    static Dataset<Row> measure(Dataset<Row> toMeasure, long maxPixels, long maxBytes, HadoopConf hadoop) {
        return toMeasure.select("image_id", "path").mapPartitions(
                (org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) rows -> {
                    ImageDecoder decoder = new ImageDecoder(maxPixels);
                    List<Row> out = new ArrayList<>();
                    while (rows.hasNext()) {
                        Row r = rows.next();
                        try {
                            ImageQuality.Measures m = ImageQuality.of(decoder.decode(ImageBytes.read(r.getString(1), -1, null,
                                    maxBytes, hadoop.get())));
                            out.add(RowFactory.create(r.getString(0), m.meanIntensity(), m.brightness99(), m.brightness5(),
                                    m.laplacianVariance(), Double.isNaN(m.relativeLaplacianVariance()) ? null : m.relativeLaplacianVariance(),
                                    m.grey(), m.channels(), m.thumbnail()));
                        } catch (Exception e) {
                            out.add(RowFactory.create(r.getString(0), null, null, null, null, null, null, null, null));
                        }
                    }
                    return out.iterator();
                }, ExpressionEncoder.apply(MEASURES));
    }
}
