package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobRegistry;
import picocli.CommandLine;

import java.util.List;
import picocli.CommandLine.Command;

/**
 * The one entry point: {@code bin/cnnlens <job> [options]} locally, and the main class that
 * spark-submit runs on a cluster. Every job of the {@link JobRegistry} is a subcommand with its
 * own {@code --help}; {@code run} runs the pipeline's jobs; {@code show} prints a table.
 */
@Command(name = "cnnlens",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.Version.class,
        description = "Explains what a convolutional network has learned, over large image collections.")
public final class Cli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The command line: the registry's jobs, then run, show and help. */
    static CommandLine commandLine() {
        return commandLine(JobRegistry.JOBS);
    }

    /** The command line over {@code jobs} (the registry's, or a test's own). */
    public static CommandLine commandLine(List<Job<?>> jobs) {
        CommandLine cl = new CommandLine(new Cli());
        for (Job<?> job : jobs) {
            cl.addSubcommand(job.name(), JobCommand.of(job));
        }
        cl.addSubcommand("run", RunCommand.commandLine());
        cl.addSubcommand("show", new ShowCommand());
        cl.addSubcommand("export", new ExportCommand());
        cl.addSubcommand("vacuum", new VacuumCommand());
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return cl;
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(commandLine(), args);
    }

    /** Runs {@code args} on a command line from {@link #commandLine(List)}; returns the exit code. */
    public static int run(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("cnnlens " + commandLine.getCommandName() + ": " + message(ex));
            if (Boolean.getBoolean("cnnlens.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    static String message(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && (t.getMessage() == null || t instanceof java.lang.reflect.UndeclaredThrowableException)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getName() : t.getMessage();
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Cli.class.getPackage().getImplementationVersion();
            return new String[] {"cnnlens " + (v == null ? "(development build)" : v)};
        }
    }
}
