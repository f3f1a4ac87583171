package io.cnnlens.jobs;

import io.cnnlens.report.HtmlReport;

import java.util.List;
import java.util.Optional;

/**
 * A cnnlens job: one thing the pipeline computes. The CLI offers every registered job as a
 * command built from its {@link #options()}, {@code run} runs the pipeline's jobs in registry
 * order from their defaults, and {@code report} asks each one for its section. See
 * {@code docs/job-contract.md}.
 *
 * @param <O> the job's options record: its keys and defaults as constants, validated in its constructor
 */
public interface Job<O> {

    /** The command name, e.g. {@code features}. */
    String name();

    /** Usage text: what the job reads, writes and prints. */
    String[] description();

    /** The options the job takes (shared ones from {@link SharedOptions} included), in help order. */
    List<OptionKey<?>> options();

    /** The typed options from the values given; invalid values are errors here, before any work. */
    O options(OptionValues values);

    /**
     * Why the job cannot run with these options and this model (a tap the model lacks, too few
     * inputs), or empty when it can. {@code run} skips such a stage, says why, and goes on.
     */
    default Optional<String> cannotRun(JobContext context, O options) {
        return Optional.empty();
    }

    /** Runs the job; its tables and pictures are committed when this returns. */
    JobResult run(JobContext context, O options);

    /** The tables and picture folders it writes below {@code --out}. */
    List<String> outputs();

    /** Its section of the report, when its outputs are in the run folder. */
    default Optional<HtmlReport.Section> report(ReportContext report) {
        return Optional.empty();
    }

    /**
     * The values it runs with inside {@code run}: {@code run}'s own (the shared options, its
     * {@code --sample} and {@code --queries}, by key name), adjusted where the pipeline wants less
     * than the job's standalone defaults (e.g. a smaller sample). By key, never by position.
     */
    default OptionValues inRun(OptionValues run) {
        return run;
    }

    /** Whether {@code run} includes it (tools such as {@code train} are not stages). */
    default boolean inPipeline() {
        return true;
    }

    /** The error table of a job that reads images: {@code <job>_errors}. */
    default String errorsTable() {
        return name() + "_errors";
    }
}
