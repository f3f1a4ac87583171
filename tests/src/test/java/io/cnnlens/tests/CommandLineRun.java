package io.cnnlens.tests;

import io.cnnlens.jobs.JobRegistry;
import io.cnnlens.jobs.cli.Cli;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/** One command line run as a user would, with its exit code and what it printed on stdout and stderr. */
record CommandLineRun(int code, String out, String err) {

    /** {@code cnnlens <args>} over the registry's jobs. */
    static CommandLineRun of(String... args) {
        return of(() -> Cli.commandLine(JobRegistry.JOBS), args);
    }

    /**
     * {@code args} on the command line {@code commandLine} builds; it is built after stdout and
     * stderr are captured, since picocli keeps the streams it saw when it was made.
     */
    static CommandLineRun of(Supplier<CommandLine> commandLine, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Cli.run(commandLine.get(), args);
            return new CommandLineRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
