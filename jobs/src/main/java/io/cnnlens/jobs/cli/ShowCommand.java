package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.spark.SparkSessions;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code cnnlens show <table>}: a look at a table a job wrote, read through {@link io.cnnlens.jobs.spark.TableReader}. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print a table's row count, schema and first rows (e.g. cnnlens-out/errors): a cnnlens (Delta) table at the version its folder's commit log names, or a folder of Parquet files.")
public final class ShowCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "Table folder or URI.")
    String table;

    @Option(names = "--limit", defaultValue = "20", description = "Rows to print. Default: ${DEFAULT-VALUE}")
    int limit;

    @Option(names = "--columns", split = ",", description = "Columns to print (default: all).")
    String[] columns;

    @Option(names = "--master", description = "Default: local[*]")
    String master;

    @Override
    public Integer call() {
        SparkSessions.Handle h = SparkSessions.open("cnnlens show", master);
        try {
            io.cnnlens.jobs.spark.TableReader.Located at = io.cnnlens.jobs.spark.TableReader.require(h.spark(), table);
            Dataset<Row> t = io.cnnlens.jobs.spark.TableReader.load(h.spark(), at);
            if (columns != null) {
                t = t.selectExpr(columns);
            }
            System.out.println(at.describe() + ": " + t.count() + " rows");
            t.printSchema();
            t.show(limit, 80, false);
            return 0;
        } finally {
            h.close();
        }
    }
}
