package io.cnnlens.jobs;

import java.util.List;

/**
 * What a job did: its one-line summary ({@code <job>: inputs N, rows R, errors E, S s, ...}) and
 * the lines that follow it (where its tables and pictures are, per-method figures).
 */
public record JobResult(String summary, List<String> details) {

    public JobResult {
        details = List.copyOf(details);
    }

    public static JobResult of(String summary, String... details) {
        return new JobResult(summary, List.of(details));
    }
}
