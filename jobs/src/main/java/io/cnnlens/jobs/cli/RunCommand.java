package io.cnnlens.jobs.cli;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobRegistry;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.report.ReportJob;
import io.cnnlens.jobs.report.RunStages;
import io.cnnlens.jobs.spark.SparkSessions;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code cnnlens run}: the registry's pipeline jobs in order, in one Spark session, each from its
 * own defaults plus the shared options given here; then the report. A stage that cannot run
 * (for this model, or these inputs) is skipped with its reason, a stage that fails is recorded
 * with its error, and the others go on; the report lists both, and {@code run} exits non-zero
 * only after writing it.
 */
final class RunCommand implements Callable<Integer> {

    static final OptionKey<List<String>> STAGES = OptionKey.names("stages", null,
            "Stages to run, in pipeline order. Default: all of " + String.join(",", stageNames()));
    static final OptionKey<Integer> SAMPLE = SharedOptions.sample(16, "Images for saliency and fool");
    static final OptionKey<Integer> QUERIES = OptionKey.integer("queries", 2000, "Neighbour queries (a seeded sample; 0 = all).");

    static final List<OptionKey<?>> KEYS = SharedOptions.keys(SharedOptions.IMAGE_INPUT,
            List.of(SharedOptions.OUT, SharedOptions.MODEL, SharedOptions.MASTER, STAGES, SAMPLE, QUERIES));

    private CommandSpec spec;

    static CommandLine commandLine() {
        RunCommand command = new RunCommand();
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name("run");
        spec.mixinStandardHelpOptions(true);
        spec.usageMessage().sortOptions(false).description(
                "The whole pipeline over one input in one Spark session: " + String.join(", ", stageNames())
                        + ". Prints each stage's summary and seconds, and the report's path.",
                "Each stage keeps its own defaults (see its --help); the attacks and saliency run on a sample. A stage that cannot "
                        + "run for the model is skipped with its reason; the report lists it, and run then exits 1.");
        KEYS.forEach(k -> spec.addOption(JobCommand.option(k)));
        command.spec = spec;
        return new CommandLine(spec);
    }

    static List<String> stageNames() {
        return JobRegistry.pipeline().stream().map(Job::name).toList();
    }

    @Override
    public Integer call() {
        OptionValues given = JobCommand.values(spec, KEYS);
        List<String> chosen = given.get(STAGES) == null || given.get(STAGES).isEmpty() ? stageNames() : given.get(STAGES);
        for (String s : chosen) {
            JobRegistry.named(s);
        }
        OptionValues shared = OptionValues.defaults();
        for (OptionKey<?> k : SharedOptions.keys(SharedOptions.IMAGE_INPUT, List.of(SharedOptions.OUT, SharedOptions.MODEL))) {
            shared = copy(shared, given, k);
        }
        shared = shared.with(SharedOptions.FEATURES, given.get(SharedOptions.OUT)).with(SAMPLE, given.get(SAMPLE))
                .with(QUERIES, given.get(QUERIES));
        List<RunStages.Stage> stages = new ArrayList<>();
        long t0 = System.nanoTime();
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens run", given.get(SharedOptions.MASTER))) {
            JobContext context = new JobContext(h.spark());
            for (Job<?> job : JobRegistry.pipeline()) {
                if (chosen.contains(job.name()) && !job.name().equals(ReportJob.NAME)) {
                    stages.add(runStage(job, context, shared));
                }
            }
            RunStages.write(h.spark(), given.get(SharedOptions.OUT), stages);
            String report = null;
            if (chosen.contains(ReportJob.NAME)) {
                // last, so that it shows every stage, the skipped and failed ones too
                RunStages.Stage r = runStage(JobRegistry.named(ReportJob.NAME), context, shared);
                if (r.status().equals("ran")) {
                    report = ReportJob.page(given.get(SharedOptions.OUT));
                } else {
                    stages.add(r);
                }
            }
            List<String> parts = new ArrayList<>();
            stages.forEach(s -> parts.add(String.format(Locale.ROOT, "%s %s", s.stage(),
                    s.status().equals("ran") ? String.format(Locale.ROOT, "%.1f", s.seconds()) : s.status())));
            System.out.printf(Locale.ROOT, "run: %s; total %.1f s%n", String.join(", ", parts), (System.nanoTime() - t0) / 1e9);
            if (report != null) {
                System.out.println("report: " + report);
            }
        }
        return stages.stream().allMatch(s -> s.status().equals("ran")) ? 0 : 1;
    }

    private static <O> RunStages.Stage runStage(Job<O> job, JobContext context, OptionValues values) {
        long ts = System.nanoTime();
        try {
            O options = job.options(job.inRun(values));
            Optional<String> cannot = job.cannotRun(context, options);
            if (cannot.isPresent()) {
                System.out.println(job.name() + ": skipped: " + cannot.get());
                return new RunStages.Stage(job.name(), "skipped", 0, cannot.get());
            }
            JobResult r = job.run(context, options);
            System.out.println(r.summary());
            r.notes().forEach(System.out::println);
            List<String> note = new ArrayList<>(List.of(r.summary()));
            note.addAll(r.notes());
            return new RunStages.Stage(job.name(), "ran", (System.nanoTime() - ts) / 1e9, String.join("; ", note));
        } catch (RuntimeException e) {
            String m = Cli.message(e);
            System.out.println(job.name() + ": failed: " + m);
            return new RunStages.Stage(job.name(), "failed", (System.nanoTime() - ts) / 1e9, m);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> OptionValues copy(OptionValues into, OptionValues from, OptionKey<T> k) {
        return into.with(k, from.get(k));
    }
}
