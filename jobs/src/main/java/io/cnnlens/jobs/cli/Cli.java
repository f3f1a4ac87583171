package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.adversarial.FoolCommand;
import io.cnnlens.jobs.adversarial.UapCommand;
import io.cnnlens.jobs.embed.EmbedCommand;
import io.cnnlens.jobs.features.FeaturesCommand;
import io.cnnlens.jobs.neighbors.NeighborsCommand;
import io.cnnlens.jobs.patches.PatchesCommand;
import io.cnnlens.jobs.pictures.ActivationsCommand;
import io.cnnlens.jobs.pictures.FiltersCommand;
import io.cnnlens.jobs.report.ReportCommand;
import io.cnnlens.jobs.saliency.SaliencyCommand;
import io.cnnlens.jobs.synthesis.ClassvizCommand;
import io.cnnlens.jobs.synthesis.InvertCommand;
import io.cnnlens.jobs.training.SampleCommand;
import io.cnnlens.jobs.training.TrainCommand;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one entry point: {@code bin/cnnlens <job> [options]} locally, and the main class that
 * spark-submit runs on a cluster. Each job is a subcommand with its own {@code --help}.
 */
@Command(name = "cnnlens",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.Version.class,
        description = "Explains what a convolutional network has learned, over large image collections.",
        subcommands = {
                FeaturesCommand.class,
                PatchesCommand.class,
                NeighborsCommand.class,
                EmbedCommand.class,
                SaliencyCommand.class,
                FoolCommand.class,
                UapCommand.class,
                FiltersCommand.class,
                ActivationsCommand.class,
                ClassvizCommand.class,
                InvertCommand.class,
                ReportCommand.class,
                RunCommand.class,
                TrainCommand.class,
                SampleCommand.class,
                ShowCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Cli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Cli());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("cnnlens " + commandLine.getCommandName() + ": " + message(ex));
            if (Boolean.getBoolean("cnnlens.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    private static String message(Throwable ex) {
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
