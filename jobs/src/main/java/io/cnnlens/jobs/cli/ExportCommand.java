package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableReader;

import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

/**
 * {@code cnnlens export <table> --to <dir>}: the table's committed version as plain Parquet files,
 * for readers without Delta (DuckDB's {@code read_parquet}, pandas, any Parquet reader).
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a table's committed version (the one 'show' and the jobs read) as plain Parquet files into a new folder.")
public final class ExportCommand implements Callable<Integer> {

    static final int FILES_DEFAULT = 0;

    @Parameters(index = "0", description = "Table folder or URI (e.g. cnnlens-out/features).")
    String table;

    @Option(names = "--to", required = true, description = "Folder to write the Parquet files into; must not exist unless --overwrite.")
    String to;

    @Option(names = "--overwrite", description = "Replace the folder --to if it exists.")
    boolean overwrite;

    @Option(names = "--files", defaultValue = "" + FILES_DEFAULT,
            description = "Number of Parquet files to write (0 = as the table's files lie). Default: ${DEFAULT-VALUE}")
    int files;

    @Option(names = "--master", description = "Default: local[*]")
    String master;

    @Override
    public Integer call() {
        SparkSessions.Handle h = SparkSessions.open("cnnlens export", master);
        try {
            TableReader.Located at = TableReader.require(h.spark(), table);
            Path target = new Path(to);
            try {
                if (!overwrite && target.getFileSystem(h.spark().sparkContext().hadoopConfiguration()).exists(target)) {
                    throw new IllegalArgumentException(to + " exists: choose a new folder, or pass --overwrite");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + to + ": " + e.getMessage(), e);
            }
            Dataset<Row> t = TableReader.load(h.spark(), at);
            (files > 0 ? t.repartition(files) : t).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(to);
            long rows = h.spark().read().parquet(to).count();
            System.out.println("export: " + rows + " rows of " + at.describe() + " -> " + to);
            return 0;
        } finally {
            h.close();
        }
    }
}
