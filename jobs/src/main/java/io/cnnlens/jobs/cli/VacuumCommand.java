package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.spark.SparkSessions;
import io.cnnlens.jobs.spark.TableVacuum;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code cnnlens vacuum <out>}: the retention clean-up of an output folder, now (a commit runs it at most daily). */
@Command(name = "vacuum", mixinStandardHelpOptions = true,
        description = "Remove the files of table versions older than the retention period, and what dead runs left, from an output folder's tables.")
public final class VacuumCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "Output folder or URI (a job's --out).")
    String out;

    @Option(names = "--retain-hours", defaultValue = "" + TableVacuum.RETAIN_HOURS_DEFAULT,
            description = "Keep old versions this many hours (time travel, and runs still writing). Default: ${DEFAULT-VALUE}")
    double retainHours;

    @Option(names = "--master", description = "Default: local[*]")
    String master;

    @Override
    public Integer call() {
        SparkSessions.Handle h = SparkSessions.open("cnnlens vacuum", master);
        try {
            for (String line : TableVacuum.vacuumFolder(h.spark(), out, retainHours)) {
                System.out.println(line);
            }
            return 0;
        } finally {
            h.close();
        }
    }
}
