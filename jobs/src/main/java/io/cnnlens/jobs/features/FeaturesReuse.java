package io.cnnlens.jobs.features;

import io.cnnlens.image.ContentHash;
import io.cnnlens.jobs.spark.HadoopConf;
import io.cnnlens.jobs.spark.InputRow;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

/**
 * Incremental features (docs/tables.md#incremental-features): which listed inputs the committed
 * features table already has a row for, by content (the {@code image_id}, SHA-256 of the bytes)
 * and model (name and conv tap). Those rows are reused with the input's current path and label;
 * only the rest go through the model. One pass reads every input's bytes to hash them (no
 * decode, no forward); an input that cannot be read is not matched and goes through the model's
 * pass again, where it becomes its error row.
 */
final class FeaturesReuse {

    /**
     * The reused rows (features schema), the inputs still to run (input schema), and the counts.
     * {@code onlyAdded}: every row of the table is still listed, at its path, with the same
     * content, label, model and conv tap, so the update is an append of the rows at new paths:
     * {@code reusedAtNewPaths} (content the table has, at a path it has not) and the model's rows.
     */
    record Plan(Dataset<Row> reused, Dataset<Row> toRun, long reusedCount, long toRunCount, long removed,
                boolean onlyAdded, Dataset<Row> reusedAtNewPaths, Runnable release) {
    }

    private FeaturesReuse() {
    }

    /** Empty when {@code out} has no committed features table (a first run computes everything). */
    static Optional<Plan> plan(SparkSession spark, String out, String model, String convTap, Dataset<Row> inputs,
                               long maxBytes, HadoopConf hadoop) {
        Optional<Dataset<Row>> previous = TableReader.table(spark, out, FeaturesSchema.FEATURES);
        if (previous.isEmpty()) {
            return Optional.empty();
        }
        StructType in = inputs.schema();
        StructType hashedSchema = in.add("image_id_", DataTypes.StringType, true);
        int width = in.fields().length;
        Dataset<Row> hashed = inputs.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) rows -> {
            List<Row> outRows = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                String id;
                try {
                    id = ContentHash.of(InputRow.of(r).bytes(maxBytes, hadoop.get()));
                } catch (Exception e) {
                    id = null; // not matched: the model's pass turns it into its error row
                }
                Object[] v = new Object[width + 1];
                for (int i = 0; i < width; i++) {
                    v[i] = r.get(i);
                }
                v[width] = id;
                outRows.add(RowFactory.create(v));
            }
            return outRows.iterator();
        }, ExpressionEncoder.apply(hashedSchema)).persist(StorageLevel.MEMORY_AND_DISK());
        String conv = convTap == null || convTap.isEmpty() ? null : convTap;
        Dataset<Row> old = previous.get();
        long previousRows = old.count();
        Dataset<Row> same = old.where(col("model").eqNullSafe(model).and(col("conv_layer").eqNullSafe(conv)))
                .dropDuplicates("image_id").drop("path", "label");
        List<Column> cols = new ArrayList<>();
        for (String c : FeaturesSchema.FEATURES_SCHEMA.fieldNames()) {
            cols.add( c.equals("path") || c.equals("label") ? col("h." + c) : col("o." + c));
        }
        Dataset<Row> reused = hashed.as("h").join(same.as("o"), col("h.image_id_").equalTo(col("o.image_id")))
                .select(cols.toArray(new Column[0]));
        // counted on the contents alone: the table's rows are wide (fc7, top-5), and an append never reads reused
        Dataset<Row> sameIds = old.where(col("model").eqNullSafe(model).and(col("conv_layer").eqNullSafe(conv)))
                .select(col("image_id")).distinct();
        Dataset<Row> toRun = hashed.join(sameIds, col("image_id_").equalTo(col("image_id")), "left_anti")
                .select(Arrays.stream(in.fieldNames()).map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
        long reusedCount = hashed.join(sameIds, col("image_id_").equalTo(col("image_id")), "left_semi").count();
        long total = hashed.count();
        // one pass over the paths both sides have: how many are still there, and how many of those unchanged
        Row paths = old.select(col("path"), col("image_id").as("was_id"), col("label").as("was_label"), col("model").as("was_model"),
                        col("conv_layer").as("was_conv"))
                .join(hashed.select(col("path"), col("image_id_"), col("label")), "path")
                .agg(count(lit(1)), count(when(col("was_id").eqNullSafe(col("image_id_")).and(col("was_label").eqNullSafe(col("label")))
                        .and(col("was_model").eqNullSafe(model)).and(col("was_conv").eqNullSafe(conv)), 1)))
                .first();
        long kept = paths.getLong(0);
        boolean onlyAdded = kept == previousRows && paths.getLong(1) == previousRows;
        // the rows to append: the paths the table lacks, each with the table's row for its content (found
        // among those contents only, so that the table's wide rows are not all shuffled to drop duplicates)
        Dataset<Row> newPaths = hashed.join(old.select("path"), scala.jdk.javaapi.CollectionConverters.asScala(List.of("path")).toSeq(),
                "left_anti");
        Dataset<Row> known = old.where(col("model").eqNullSafe(model).and(col("conv_layer").eqNullSafe(conv)))
                .join(newPaths.select(col("image_id_")), col("image_id").equalTo(col("image_id_")), "left_semi")
                .dropDuplicates("image_id").drop("path", "label");
        Dataset<Row> atNewPaths = newPaths.as("h").join(known.as("o"), col("h.image_id_").equalTo(col("o.image_id")))
                .select(cols.toArray(new Column[0]));
        return Optional.of(new Plan(reused, toRun, reusedCount, total - reusedCount, previousRows - kept, onlyAdded, atNewPaths,
                hashed::unpersist));
    }
}
