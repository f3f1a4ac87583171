package io.cnnlens.jobs.report;

import io.cnnlens.jobs.spark.SparkSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code cnnlens report}: the HTML report over a run folder. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write <out>/report.html over a run folder: a section per job that ran there, summary numbers, errors.")
public final class ReportCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "The run folder. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens report", master)) {
            System.out.println("report: " + ReportJob.run(h.spark(), out));
            return 0;
        }
    }
}
