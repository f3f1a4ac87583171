package io.cnnlens.jobs;

import io.cnnlens.jobs.adversarial.FoolJob;
import io.cnnlens.jobs.adversarial.UapJob;
import io.cnnlens.jobs.audit.AuditJob;
import io.cnnlens.jobs.embed.EmbedJob;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.index.IndexJob;
import io.cnnlens.jobs.index.SearchJob;
import io.cnnlens.jobs.index.ServeJob;
import io.cnnlens.jobs.neighbors.NeighborsJob;
import io.cnnlens.jobs.patches.PatchesJob;
import io.cnnlens.jobs.pictures.ActivationsJob;
import io.cnnlens.jobs.pictures.FiltersJob;
import io.cnnlens.jobs.report.ReportJob;
import io.cnnlens.jobs.saliency.SaliencyJob;
import io.cnnlens.jobs.synthesis.ClassvizJob;
import io.cnnlens.jobs.synthesis.InvertJob;
import io.cnnlens.jobs.training.SampleJob;
import io.cnnlens.jobs.training.TrainJob;
import io.cnnlens.jobs.tune.TuneJob;

import java.util.List;

/**
 * Every job, in pipeline order: the CLI's commands, {@code run}'s stages and the report's
 * sections all come from this list. Adding a job is one line here (docs/job-contract.md).
 */
public final class JobRegistry {

    public static final List<Job<?>> JOBS = List.of(
            new FeaturesJob(),
            new FiltersJob(),
            new ActivationsJob(),
            new PatchesJob(),
            new NeighborsJob(),
            new EmbedJob(),
            new SaliencyJob(),
            new FoolJob(),
            new UapJob(),
            new ClassvizJob(),
            new InvertJob(),
            new ReportJob(),
            new TrainJob(),
            new SampleJob(),
            new AuditJob(),
            new TuneJob(),
            new IndexJob(),
            new SearchJob(),
            new ServeJob());

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
