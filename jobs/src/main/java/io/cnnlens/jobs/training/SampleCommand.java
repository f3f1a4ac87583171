package io.cnnlens.jobs.training;

import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.PngWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Writes Fashion-MNIST images as PNG files in class folders (the bundled sample, or a bigger set). */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Write Fashion-MNIST images as PNG files in class folders: <out>/<class>/<split>-<index>.png. "
                + "The bundled sample is the first 200 test images of each class.")
public final class SampleCommand implements Callable<Integer> {

    @Option(names = "--data", defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "Folder with Fashion-MNIST's IDX .gz files. Default: ${DEFAULT-VALUE}")
    Path data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--split", defaultValue = "test", description = "test or train. Default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--per-class", defaultValue = "200",
            description = "Images per class, in file order; 0 = all. Default: ${DEFAULT-VALUE}")
    int perClass;

    @Override
    public Integer call() throws Exception {
        FashionMnist.Split s = switch (split) {
            case "test" -> FashionMnist.test(data);
            case "train" -> FashionMnist.train(data);
            default -> throw new IllegalArgumentException("--split must be test or train");
        };
        int[] counts = new int[FashionMnist.CLASSES.size()];
        int written = 0;
        for (int i = 0; i < s.size(); i++) {
            int label = s.labels()[i];
            if (perClass > 0 && counts[label] >= perClass) {
                continue;
            }
            counts[label]++;
            Path dir = out.resolve(FashionMnist.CLASSES.get(label));
            Files.createDirectories(dir);
            Files.write(dir.resolve(String.format("%s-%05d.png", split, i)),
                    PngWriter.grey(s.images()[i], FashionMnist.SIDE, FashionMnist.SIDE));
            written++;
        }
        System.out.printf("sample: %d PNG files in %s%n", written, out);
        return 0;
    }
}
