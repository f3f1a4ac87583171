package io.cnnlens.jobs;

import io.cnnlens.jobs.adversarial.FoolJob;
import io.cnnlens.jobs.adversarial.UapJob;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.report.ReportJob;
import io.cnnlens.jobs.saliency.SaliencyJob;

import java.util.List;

/**
 * Every job, in pipeline order: the CLI's commands, {@code run}'s stages and the report's
 * sections all come from this list. Adding a job is one line here (docs/job-contract.md).
 */
public final class JobRegistry {

    public static final List<Job<?>> JOBS = List.of(
            new FeaturesJob(),
            new SaliencyJob(),
            new FoolJob(),
            new UapJob(),
            new ReportJob());

    private JobRegistry() {
    }

    /** The jobs {@code run} chains, in order. */
    public static List<Job<?>> pipeline() {
        return JOBS.stream().filter(Job::inPipeline).toList();
    }

    /** The job called {@code name}; an unknown name is an error listing the known ones. */
    public static Job<?> named(String name) {
        return JOBS.stream().filter(j -> j.name().equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "unknown job '" + name + "'; jobs: " + JOBS.stream().map(Job::name).toList()));
    }
}
