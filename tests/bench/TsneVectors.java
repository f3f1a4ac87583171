// Single-file Java program for tests/bench/tsne.sh: writes a features table's vector column as
// raw float32 (little-endian, row-major, in image_id order) plus one label per line, so that
// scikit-learn reads exactly the vectors `embed` reads. Usage (the project's classpath):
//   java -cp <classpath> tests/bench/TsneVectors.java <features dir> <column> <out prefix>
// Writes <out prefix>.f32, <out prefix>.labels, and prints "<rows> <dims>".
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

public class TsneVectors {
    public static void main(String[] a) throws Exception {
        SparkSession spark = io.cnnlens.jobs.spark.SparkSessions.withTables(SparkSession.builder().master("local[2]")
                .appName("tsne-vectors").config("spark.ui.enabled", "false")).getOrCreate();
        List<Row> rows = TableReader.read(spark, a[0], "image_id", "label", a[1])
                .select("image_id", "label", a[1]).orderBy("image_id").collectAsList();
        int d = rows.get(0).getList(2).size();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(a[2] + ".f32")));
             PrintWriter labels = new PrintWriter(a[2] + ".labels", StandardCharsets.UTF_8)) {
            ByteBuffer b = ByteBuffer.allocate(4 * d).order(ByteOrder.LITTLE_ENDIAN);
            for (Row r : rows) {
                b.clear();
                List<Float> v = r.getList(2);
                for (Float f : v) {
                    b.putFloat(f);
                }
                out.write(b.array());
                labels.println(r.isNullAt(1) ? "" : r.getString(1));
            }
        }
        System.out.println(rows.size() + " " + d);
        spark.stop();
    }
}
