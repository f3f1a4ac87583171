package io.cnnlens.jobs;

import java.util.List;

/**
 * What a job did: its one-line summary ({@code <job>: inputs N, rows R, errors E, S s, ...}), the
 * lines that follow it (where its tables and pictures are, per-method figures), and its notes:
 * what a user must be told because the job did less than asked (a method the model cannot run
 * left out, a setting lowered for a small input). {@code run} prints and records the notes too.
 */
public record JobResult(String summary, List<String> details, List<String> notes) {

    public JobResult {
        details = List.copyOf(details);
        notes = List.copyOf(notes);
    }

    public JobResult(String summary, List<String> details) {
        this(summary, details, List.of());
    }

    public static JobResult of(String summary, String... details) {
        return new JobResult(summary, List.of(details));
    }
}
