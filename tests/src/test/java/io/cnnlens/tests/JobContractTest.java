package io.cnnlens.tests;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobRegistry;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.ReportContext;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.cli.Cli;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.report.HtmlReport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job contract as the CLI, run and report see it: every registered job's command is built
 * from its option keys (help shows each key and its default), run's stages are the registry's
 * pipeline, and a new job is one class plus one registry entry — shown here by a small job that
 * lives only in this test and gets a command, validation and a run without touching the CLI.
 */
class JobContractTest extends SparkTestBase {

    @TempDir
    Path tmp;

    private static CommandLineRun cli(java.util.function.Supplier<CommandLine> commandLine, String... args) {
        return CommandLineRun.of(commandLine, args);
    }

    private static CommandLineRun cli(String... args) {
        return CommandLineRun.of(args);
    }

    @Test
    void everyRegisteredJobHasHelpWithEachOptionAndItsDefault() {
        CommandLineRun top = cli("--help");
        assertEquals(0, top.code());
        Set<String> names = new HashSet<>();
        for (Job<?> job : JobRegistry.JOBS) {
            assertTrue(names.add(job.name()), "one job per name: " + job.name());
            assertTrue(top.out().contains(job.name()), "top-level help lists " + job.name());
            CommandLineRun h = cli(job.name(), "--help");
            assertEquals(0, h.code(), job.name());
            assertTrue(h.out().contains("Usage: cnnlens " + job.name()), h.out());
            for (OptionKey<?> k : job.options()) {
                assertTrue(h.out().contains("--" + k.name()), job.name() + " --help shows --" + k.name());
                if (k.defaultText() != null && !k.defaultText().isEmpty()) {
                    String flat = h.out().replaceAll("\\s+", ""); // help wraps long lines, also after commas
                    assertTrue(flat.contains("Default:" + k.defaultText().replaceAll("\\s+", "")),
                            job.name() + " --help shows the default of --" + k.name() + " (" + k.defaultText() + "):\n" + h.out());
                }
            }
            assertTrue(job.options().stream().map(OptionKey::name).distinct().count() == job.options().size(),
                    job.name() + " declares each option once");
        }
        for (String tool : List.of("run", "show")) {
            assertTrue(top.out().contains(tool), "top-level help lists " + tool);
            assertEquals(0, cli(tool, "--help").code(), tool);
        }
    }

    @Test
    void runsStagesAreTheRegistrysPipelineAndEveryJobReadsItsDefaults() {
        CommandLineRun h = cli("run", "--help");
        for (Job<?> job : JobRegistry.pipeline()) {
            assertTrue(h.out().contains(job.name()), "run --help lists stage " + job.name());
            // the options a job takes inside run come from its defaults, validated, with nothing positional
            job.options(job.inRun(OptionValues.defaults()));
        }
        CommandLineRun bad = cli("run", "--stages", "features,nonsense", "--out", tmp.resolve("o").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("unknown job 'nonsense'"), bad.err());
    }

    /** A job that exists only in this test: counts the features table's rows per label. */
    static final class LabelCountsJob implements Job<LabelCountsJob.Options> {
        static final String TABLE = "label_counts";

        record Options(String features, String out, int min) {
            static final OptionKey<Integer> MIN = OptionKey.integer("min", 1, "Labels with fewer rows are left out.");

            Options {
                if (min < 1) {
                    throw new IllegalArgumentException("--min must be at least 1");
                }
            }
        }

        @Override
        public String name() {
            return "label-counts";
        }

        @Override
        public String[] description() {
            return new String[] {"Rows of the features table per label."};
        }

        @Override
        public List<OptionKey<?>> options() {
            return List.of(SharedOptions.FEATURES, SharedOptions.OUT, SharedOptions.MASTER, Options.MIN);
        }

        @Override
        public Options options(OptionValues v) {
            return new Options(v.get(SharedOptions.FEATURES), v.get(SharedOptions.OUT), v.get(Options.MIN));
        }

        @Override
        public JobResult run(JobContext context, Options o) {
            Dataset<Row> counts = TableReader.read(context.spark(), o.features(), "label").groupBy("label").count()
                    .filter("count >= " + o.min());
            try (TableCommitter c = new TableCommitter(context.spark(), o.out(), "example")) {
                counts.coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(c.staging(TABLE));
                c.commit(List.of(TABLE));
                return JobResult.of("label-counts: labels " + counts.count(), "label_counts: " + c.finalPath(TABLE));
            }
        }

        @Override
        public List<String> outputs() {
            return List.of(TABLE);
        }

        @Override
        public Optional<HtmlReport.Section> report(ReportContext report) {
            return report.table(TABLE).map(t -> new HtmlReport.Section(TABLE, "Label counts", t.count() + " labels", List.of(), List.of()));
        }
    }

    @Test
    void aNewJobNeedsOnlyItsClassAndARegistryEntry() throws Exception {
        Path images = tmp.resolve("images");
        FeaturesJobTest.writeCorpus(images, 2);
        Path out = tmp.resolve("out");
        FeaturesJob.run(spark, FeaturesJobTest.settings(images, out, "bundled"));

        java.util.function.Supplier<CommandLine> cl = () -> Cli.commandLine(List.of(new FeaturesJob(), new LabelCountsJob()));
        CommandLineRun help = cli(cl, "label-counts", "--help");
        assertTrue(help.out().contains("--min") && help.out().contains("Default: 1"), help.out());

        CommandLineRun r = cli(cl, "label-counts", "--features", out.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        long labels = io.cnnlens.jobs.spark.TableReader.open(spark, out.resolve("features").toString()).select("label").distinct().count();
        assertTrue(r.out().startsWith("label-counts: labels " + labels), r.out());
        assertTrue(Files.isDirectory(out.resolve(LabelCountsJob.TABLE)));

        CommandLineRun bad = cli(cl, "label-counts", "--features", out.toString(), "--out", out.toString(), "--min", "0");
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("--min must be at least 1"), "validated in the options record: " + bad.err());
    }
}
