package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.spark.SparkSessions;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.concurrent.Callable;

/**
 * A job as a command: its options built from the job's {@link OptionKey}s (so the help's
 * defaults are the job's own constants), the values read back into {@link OptionValues}, the
 * job run in a Spark session, its summary and detail lines printed.
 */
final class JobCommand<O> implements Callable<Integer> {

    private final Job<O> job;
    private CommandSpec spec;

    private JobCommand(Job<O> job) {
        this.job = job;
    }

    static <O> CommandLine of(Job<O> job) {
        JobCommand<O> command = new JobCommand<>(job);
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name(job.name());
        spec.mixinStandardHelpOptions(true);
        spec.usageMessage().description(job.description()).sortOptions(false);
        for (OptionKey<?> k : job.options()) {
            spec.addOption(option(k));
        }
        command.spec = spec;
        return new CommandLine(spec);
    }

    /** The picocli option for a key: {@code --name}, its type, the default from the key. */
    static OptionSpec option(OptionKey<?> k) {
        OptionSpec.Builder b = OptionSpec.builder("--" + k.name()).type(k.type()).paramLabel("<" + k.name() + ">")
                .description(k.help() + (k.defaultText() == null ? "" : " Default: ${DEFAULT-VALUE}"));
        if (k.element() != null) {
            b.auxiliaryTypes(k.element());
        }
        if (k.element() != null || k.type().isArray()) {
            b.splitRegex(",");
        }
        if (k.type() == Boolean.class) {
            b.arity("0..1");
        }
        if (k.defaultText() != null) {
            b.defaultValue(k.defaultText());
        }
        return b.build();
    }

    /** The values the command line gave (and the defaults of the rest). */
    static OptionValues values(CommandSpec spec, Iterable<OptionKey<?>> keys) {
        OptionValues v = OptionValues.defaults();
        for (OptionKey<?> k : keys) {
            v = put(v, k, spec.findOption("--" + k.name()).getValue());
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    private static <T> OptionValues put(OptionValues v, OptionKey<T> k, Object value) {
        return v.with(k, (T) value);
    }

    @Override
    public Integer call() {
        OptionValues v = values(spec, job.options());
        O options = job.options(v);
        String master = job.options().contains(SharedOptions.MASTER) ? v.get(SharedOptions.MASTER) : null;
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens " + job.name(), master)) {
            JobContext context = new JobContext(h.spark());
            job.cannotRun(context, options).ifPresent(reason -> {
                throw new IllegalArgumentException(reason);
            });
            JobResult r = job.run(context, options);
            System.out.println(r.summary());
            r.notes().forEach(System.out::println);
            r.details().forEach(System.out::println);
            return 0;
        }
    }
}
