package io.cnnlens.jobs.spark;

import io.cnnlens.jobs.features.FeaturesSchema;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/** Reads the features job's table for the analysis jobs, with a clear message when it is not there. */
public final class TableReader {

    private TableReader() {
    }

    /**
     * The table at {@code dir} (the features job's {@code --out}, or its {@code features/}
     * folder), checked for the columns a job needs.
     */
    public static Dataset<Row> read(SparkSession spark, String dir, String... columns) {
        String table = resolve(spark.sparkContext().hadoopConfiguration(), dir);
        Dataset<Row> df = spark.read().parquet(table);
        List<String> have = Arrays.asList(df.columns());
        for (String c : columns) {
            if (!have.contains(c)) {
                throw new IllegalArgumentException("the table at " + table + " has no column '" + c
                        + "'; is it a features table (cnnlens features)?");
            }
        }
        return df;
    }

    public static String resolve(Configuration conf, String dir) {
        try {
            Path p = new Path(dir);
            org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
            Path nested = new Path(p, FeaturesSchema.FEATURES);
            if (fs.exists(nested) && fs.getFileStatus(nested).isDirectory()) {
                return nested.toString();
            }
            if (fs.exists(p)) {
                return p.toString();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + dir + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no features table at " + dir
                + ": run 'cnnlens features --out " + dir + "' first");
    }
}
