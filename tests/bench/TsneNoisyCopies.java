// Single-file Java program: a features table grown to <rows> rows from a smaller one, for the
// million-point t-SNE measurement (docs/methods.md#scale-modes-and-the-driver-limit). Row j is row
// (j mod n) of the source (in image_id order) with its <column> vector plus seeded Gaussian noise of
// <noise> times each coordinate's standard deviation over the source (row j < n: no noise, the
// source itself); image_id gets the suffix "~<j div n>" on copies, path and label are kept (so the
// mosaic re-reads the source's image). Usage (the project's classpath):
//   java -cp <classpath> tests/bench/TsneNoisyCopies.java <features dir> <column> <rows> <noise> <out dir>
// Writes <out dir>/features (Parquet) and prints "<rows> <source rows> <dims>".
import io.cnnlens.jobs.spark.TableReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

public class TsneNoisyCopies {
    public static void main(String[] a) throws Exception {
        String column = a[1];
        long rows = Long.parseLong(a[2]);
        double noise = Double.parseDouble(a[3]);
        SparkSession spark = io.cnnlens.jobs.spark.SparkSessions.withTables(SparkSession.builder().master("local[2]")
                .appName("tsne-noisy-copies").config("spark.ui.enabled", "false")).getOrCreate();
        Dataset<Row> df = TableReader.read(spark, a[0], "image_id", "path", "label", column).orderBy("image_id");
        List<Row> source = df.collectAsList();
        int n = source.size();
        int vi = df.schema().fieldIndex(column);
        int ii = df.schema().fieldIndex("image_id");
        int d = source.get(0).getList(vi).size();
        double[] mean = new double[d];
        double[] sq = new double[d];
        for (Row r : source) {
            List<Float> v = r.getList(vi);
            for (int j = 0; j < d; j++) {
                mean[j] += v.get(j);
                sq[j] += (double) v.get(j) * v.get(j);
            }
        }
        double[] sigma = new double[d];
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
            sigma[j] = noise * Math.sqrt(Math.max(0, sq[j] / n - mean[j] * mean[j]));
        }
        // built on the driver in chunks (a single-file program's lambdas cannot reach executors)
        String out = a[4] + "/features";
        int chunk = 100_000;
        for (long from = 0; from < rows; from += chunk) {
            List<Row> part = new ArrayList<>(chunk);
            for (long j = from; j < Math.min(rows, from + chunk); j++) {
                Row r = source.get((int) (j % n));
                long copy = j / n;
                Object[] values = new Object[r.length()];
                for (int c = 0; c < values.length; c++) {
                    values[c] = r.get(c);
                }
                if (copy > 0) {
                    SplittableRandom rnd = new SplittableRandom(j * 0x9E3779B97F4A7C15L + 17);
                    List<Float> v = r.getList(vi);
                    List<Float> w = new ArrayList<>(v.size());
                    for (int c = 0; c < v.size(); c++) {
                        w.add((float) (v.get(c) + sigma[c] * gaussian(rnd)));
                    }
                    values[vi] = scala.jdk.javaapi.CollectionConverters.asScala(w).toSeq();
                    values[ii] = r.getString(ii) + "~" + copy;
                }
                part.add(RowFactory.create(values));
            }
            spark.createDataFrame(part, df.schema()).write().mode(from == 0 ? SaveMode.Overwrite : SaveMode.Append).parquet(out);
        }
        System.out.println(rows + " " + n + " " + d);
        spark.stop();
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
