package io.cnnlens.jobs.training;

import io.cnnlens.model.FashionTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Trains the bundled model; its defaults reproduce the committed weights. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the bundled AlexNet-style model on Fashion-MNIST (DJL, PyTorch engine, "
                + "single process; no Spark). Writes <out>/fashion-alexnet-0000.params and prints "
                + "the test accuracy on the 10,000 test images.")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--data", defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "Folder with Fashion-MNIST's IDX .gz files (Debian: dataset-fashion-mnist). Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(names = "--out", defaultValue = "${sys:cnnlens.home:-.}/conf/models/fashion-alexnet",
            description = "Where the weights go. Default: the bundled model's folder.")
    Path out;

    @Option(names = "--epochs", defaultValue = "12", description = "Default: ${DEFAULT-VALUE}")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--lr", defaultValue = "0.002", description = "Adam's base learning rate (cosine decay). Default: ${DEFAULT-VALUE}")
    float learningRate;

    @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}")
    int seed;

    @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads; 0 = all cores.")
    int threads;

    @Override
    public Integer call() throws Exception {
        FashionTraining.Settings d = FashionTraining.Settings.defaults();
        FashionTraining.Settings s = new FashionTraining.Settings(epochs, batchSize, learningRate, d.dropout(),
                seed, d.mean(), d.std(), threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        FashionTraining.Result r = FashionTraining.train(data, out, "fashion-alexnet", s, System.out::println);
        System.out.printf("train: weights %s  test accuracy %.4f on 10,000 images  %.0f s%n",
                r.weights(), r.testAccuracy(), r.seconds());
        return 0;
    }
}
