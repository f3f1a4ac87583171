import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;

/**
 * Bench helper: the rows an incremental index should hold, as one table for a fresh build: the
 * union of features tables, less the image ids listed in a file (one per line), written as
 * Parquet under <out>/features. Usage: java -cp <cnnlens classpath> FreshTable.java <out> <ids file> <features out>...
 */
public class FreshTable {
    public static void main(String[] a) throws Exception {
        SparkSession spark = SparkSessions.withTables(SparkSession.builder().master("local[2]").appName("fresh-table")
                .config("spark.ui.enabled", "false")).getOrCreate();
        List<String> drop = Files.readAllLines(Path.of(a[1])).stream().filter(s -> !s.isBlank()).toList();
        Dataset<Row> all = null;
        for (int i = 2; i < a.length; i++) {
            Dataset<Row> t = TableReader.read(spark, a[i]);
            all = all == null ? t : all.unionByName(t);
        }
        Dataset<Row> kept = all.where(not(col("image_id").isin(drop.toArray())));
        kept.write().mode("overwrite").parquet(a[0] + "/features");
        System.out.println("fresh table: " + spark.read().parquet(a[0] + "/features").count() + " rows (" + drop.size() + " ids dropped)");
        spark.stop();
    }
}
