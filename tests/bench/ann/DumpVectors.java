import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Bench helper: a features table's fc7 column as an .fvecs file (per row: int32 dimension, then
 * float32 values, little-endian), rows ordered by path, and the paths and labels beside it
 * (<out>.tsv). Usage: java -cp <cnnlens classpath> DumpVectors.java <features dir> <out.fvecs>
 */
public class DumpVectors {
    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog").getOrCreate();
        List<Row> rows = TableReader.read(spark, args[0], "path", "label", "fc7").select("path", "label", "fc7")
                .orderBy("path").collectAsList();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[1]), 1 << 20));
             java.io.PrintWriter tsv = new java.io.PrintWriter(args[1] + ".tsv", "UTF-8")) {
            for (Row r : rows) {
                List<Float> v = r.getList(2);
                ByteBuffer b = ByteBuffer.allocate(4 + 4 * v.size()).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(v.size());
                for (Float f : v) {
                    b.putFloat(f);
                }
                out.write(b.array());
                tsv.println(r.getString(0) + "\t" + (r.isNullAt(1) ? "" : r.getString(1)));
            }
        }
        System.out.println("wrote " + rows.size() + " vectors to " + args[1]);
        spark.stop();
    }
}
