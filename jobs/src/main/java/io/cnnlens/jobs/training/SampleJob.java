package io.cnnlens.jobs.training;

import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.PngWriter;
import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes Fashion-MNIST images as PNG files in class folders (the bundled sample, or a bigger set). A tool, not a pipeline stage. */
public final class SampleJob implements Job<SampleOptions> {

    @Override
    public String name() {
        return "sample";
    }

    @Override
    public String[] description() {
        return new String[] {"Write Fashion-MNIST images as PNG files in class folders: <out>/<class>/<split>-<index>.png. "
                + "The bundled sample is the first 200 test images of each class."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return SampleOptions.KEYS;
    }

    @Override
    public SampleOptions options(OptionValues values) {
        return SampleOptions.of(values);
    }

    /** One folder per class. */
    @Override
    public List<String> outputs() {
        return FashionMnist.CLASSES;
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, SampleOptions o) {
        int written = write(o);
        return JobResult.of(String.format("sample: %d PNG files in %s", written, Path.of(o.out())));
    }

    /** Writes the PNG files; returns how many. */
    public static int write(SampleOptions o) {
        Path data = Path.of(o.data());
        Path out = Path.of(o.out());
        try {
            FashionMnist.Split s = o.split().equals("train") ? FashionMnist.train(data) : FashionMnist.test(data);
            int[] counts = new int[FashionMnist.CLASSES.size()];
            int written = 0;
            for (int i = 0; i < s.size(); i++) {
                int label = s.labels()[i];
                if (o.perClass() > 0 && counts[label] >= o.perClass()) {
                    continue;
                }
                counts[label]++;
                Path dir = out.resolve(FashionMnist.CLASSES.get(label));
                Files.createDirectories(dir);
                Files.write(dir.resolve(String.format("%s-%05d.png", o.split(), i)),
                        PngWriter.grey(s.images()[i], FashionMnist.SIDE, FashionMnist.SIDE));
                written++;
            }
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the sample: " + e.getMessage(), e);
        }
    }
}
