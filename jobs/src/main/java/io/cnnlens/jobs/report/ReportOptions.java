package io.cnnlens.jobs.report;

import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;

import java.util.List;

/** The report's options: the run folder it reads and writes into. */
public record ReportOptions(String out) {

    static final List<OptionKey<?>> KEYS = List.of(SharedOptions.OUT, SharedOptions.MASTER);

    public ReportOptions {
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException("--out is empty");
        }
    }

    public static ReportOptions of(OptionValues v) {
        return new ReportOptions(v.get(SharedOptions.OUT));
    }
}
