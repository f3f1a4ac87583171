package io.cnnlens.jobs.embed;

import io.cnnlens.embedding.PcaProjection;
import io.cnnlens.jobs.spark.TableReader;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * An earlier embed run's map, for {@code --onto}: the PCA basis it projected with (its
 * {@value #BASIS} table) and the t-SNE places of its images (its embed table), so that new images
 * land on the same map instead of a new one (docs/methods.md#t-sne-placement).
 */
final class EarlierMap {

    /** The table the PCA basis is stored in, beside the embed table. */
    static final String BASIS = "embed_basis";

    /** One row per axis (axis 0..m−1, explained its variance fraction) and one for the mean (axis −1). */
    static final StructType BASIS_SCHEMA = DataTypes.createStructType(new StructField[] {
            DataTypes.createStructField("vector", DataTypes.StringType, false),
            DataTypes.createStructField("axis", DataTypes.IntegerType, false),
            DataTypes.createStructField("explained", DataTypes.DoubleType, true),
            DataTypes.createStructField("values", DataTypes.createArrayType(DataTypes.DoubleType, false), false)});

    /** Where an image was on the earlier map. */
    record Place(String path, float x, float y) implements Serializable {
    }

    private EarlierMap() {
    }

    /** The basis as rows of {@link #BASIS_SCHEMA}. */
    static Dataset<Row> basisRows(SparkSession spark, PcaProjection pca, String vector) {
        List<Row> rows = new ArrayList<>();
        rows.add(RowFactory.create(vector, -1, null, boxed(pca.mean())));
        double[] explained = pca.explained();
        for (int a = 0; a < pca.dimensions(); a++) {
            rows.add(RowFactory.create(vector, a, explained[a], boxed(pca.axis(a))));
        }
        return spark.createDataFrame(rows, BASIS_SCHEMA).coalesce(1);
    }

    /** The basis of the run at {@code onto}, checked against the feature column and its length d. */
    static PcaProjection basis(SparkSession spark, String onto, String vector, int d) {
        Dataset<Row> t = TableReader.table(spark, onto, BASIS).orElseThrow(() -> new IllegalArgumentException(
                TableReader.table(spark, onto, EmbedJob.TABLE).isPresent()
                        ? onto + " has an embed table but no " + BASIS + " table (it was made before embed kept its PCA basis); "
                        + "run embed there again without --onto"
                        : "no embed run at " + onto + ": --onto names the --out of an earlier embed run"));
        List<Row> rows = t.orderBy("axis").collectAsList();
        if (rows.size() < 2 || rows.get(0).getInt(1) != -1) {
            throw new IllegalArgumentException("the " + BASIS + " table at " + onto + " has no mean row and at least one axis");
        }
        String was = rows.get(0).getString(0);
        if (!was.equals(vector)) {
            throw new IllegalArgumentException("the map at " + onto + " is of " + was + ", not --vector " + vector);
        }
        double[] mean = unboxed(rows.get(0).getList(3));
        if (mean.length != d) {
            throw new IllegalArgumentException("the map at " + onto + " was made from " + mean.length + "-D " + was
                    + " vectors; this features table's are " + d + "-D (another model?)");
        }
        double[][] axes = new double[rows.size() - 1][];
        double[] explained = new double[axes.length];
        for (int a = 0; a < axes.length; a++) {
            Row r = rows.get(a + 1);
            if (r.getInt(1) != a) {
                throw new IllegalArgumentException("the " + BASIS + " table at " + onto + " lacks axis " + a);
            }
            axes[a] = unboxed(r.getList(3));
            explained[a] = r.isNullAt(2) ? Double.NaN : r.getDouble(2);
        }
        return PcaProjection.of(mean, axes, explained);
    }

    /** The t-SNE places of the earlier run's images, by image_id (several for content at several paths). */
    static JavaPairRDD<String, Place> places(SparkSession spark, String onto) {
        Dataset<Row> t = TableReader.table(spark, onto, EmbedJob.TABLE).orElseThrow(() -> new IllegalArgumentException(
                "no embed table at " + onto + ": --onto names the --out of an earlier embed run"));
        return t.filter(col("method").equalTo("tsne")).select("image_id", "path", "x", "y").javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), new Place(r.getString(1), r.getFloat(2), r.getFloat(3))));
    }

    /**
     * The place an image at {@code path} takes among the earlier places of its content: the one at
     * the same path, else (the file moved or was copied) the one at the first path in order; null
     * when its content was not on the map.
     */
    static Place choose(Iterable<Place> places, String path) {
        Place first = null;
        for (Place p : places) {
            if (p.path().equals(path)) {
                return p;
            }
            if (first == null || p.path().compareTo(first.path()) < 0) {
                first = p;
            }
        }
        return first;
    }

    private static List<Double> boxed(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(x);
        }
        return out;
    }

    private static double[] unboxed(List<Double> v) {
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
