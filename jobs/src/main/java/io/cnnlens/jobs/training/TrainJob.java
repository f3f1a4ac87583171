package io.cnnlens.jobs.training;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.model.FashionTraining;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/** Trains the bundled model; its defaults reproduce the committed weights. A tool, not a pipeline stage (no Spark job). */
public final class TrainJob implements Job<TrainOptions> {

    static final String NAME = "fashion-alexnet";

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String[] description() {
        return new String[] {"Train the bundled AlexNet-style model on Fashion-MNIST (DJL, PyTorch engine, "
                + "single process; no Spark). Writes <out>/fashion-alexnet-0000.params and prints "
                + "the test accuracy on the 10,000 test images."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return TrainOptions.KEYS;
    }

    @Override
    public TrainOptions options(OptionValues values) {
        return TrainOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of(NAME + "-0000.params");
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, TrainOptions o) {
        FashionTraining.Result r = train(o);
        return JobResult.of(String.format("train: weights %s  test accuracy %.4f on 10,000 images  %.0f s",
                r.weights(), r.testAccuracy(), r.seconds()));
    }

    /** Trains (printing each epoch's line as it goes) and returns the weights file and test accuracy. */
    public static FashionTraining.Result train(TrainOptions o) {
        FashionTraining.Settings d = FashionTraining.Settings.defaults();
        FashionTraining.Settings s = new FashionTraining.Settings(o.epochs(), o.batchSize(), o.learningRate(), d.dropout(),
                o.seed(), d.mean(), d.std(), o.threads() > 0 ? o.threads() : Runtime.getRuntime().availableProcessors());
        try {
            return FashionTraining.train(Path.of(o.data()), Path.of(o.out()), NAME, s, System.out::println);
        } catch (IOException e) {
            throw new UncheckedIOException("training failed: " + e.getMessage(), e);
        }
    }
}
