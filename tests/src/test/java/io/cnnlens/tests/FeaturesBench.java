package io.cnnlens.tests;

import ai.djl.Device;
import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.FeaturesJob;
import io.cnnlens.jobs.ImageSource;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.TorchRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Benchmark, not a test of speed: the features job's throughput on the 10,000 Fashion-MNIST test
 * images (PNG files) against a plain single-process DJL loop over the same files (read, decode,
 * preprocess, batched forward) at its best intra-op thread setting, both in this JVM, both
 * warmed up. Prints the ratio. Run: {@code mvn -B -Pbench -pl tests -am verify}.
 */
@Tag("bench")
class FeaturesBench extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void featuresJobAgainstAPlainDjlLoop() throws Exception {
        int n = Integer.getInteger("cnnlens.bench.images", 10_000);
        Path images = tmp.resolve("images");
        FashionMnist.Split test = FashionMnist.test(BundledModelAccuracyTest.DATA);
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path dir = images.resolve(FashionMnist.CLASSES.get(test.labels()[i % test.size()]));
            Files.createDirectories(dir);
            Path f = dir.resolve(String.format("test-%05d.png", i));
            Files.write(f, PngWriter.grey(test.images()[i % test.size()], 28, 28));
            files.add(f);
        }
        ModelSpec spec = ModelSpec.load(bundledSpec());
        int batch = 64;

        // baseline: one loop, best of 1 and all cores as PyTorch intra-op threads (warm-up first)
        double best = 0;
        int bestThreads = 0;
        int cores = Runtime.getRuntime().availableProcessors();
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), false)) {
            plainLoop(m, files.subList(0, Math.min(2000, n)), batch);
            for (int threads : new int[] {1, cores}) {
                TorchRuntime.setIntraOpThreads(threads);
                long t0 = System.nanoTime();
                plainLoop(m, files, batch);
                double ips = n / ((System.nanoTime() - t0) / 1e9);
                System.out.printf(Locale.ROOT, "bench: plain DJL loop, %d intra-op thread(s), batch %d: %.0f images/s%n",
                        threads, batch, ips);
                if (ips > best) {
                    best = ips;
                    bestThreads = threads;
                }
            }
        }

        // the job (warm-up run on 2,000 images into another folder first)
        Path warm = tmp.resolve("warm");
        for (Path f : files.subList(0, Math.min(2000, n))) {
            Path t = warm.resolve(images.relativize(f));
            Files.createDirectories(t.getParent());
            Files.copy(f, t);
        }
        FeaturesJob.run(spark, settings(warm, tmp.resolve("out-warm")));
        FeaturesJob.Summary s = FeaturesJob.run(spark, settings(images, tmp.resolve("out")));
        assertEquals(n, s.rows());
        System.out.println("bench: " + s.line());
        System.out.printf(Locale.ROOT, "bench: features job (local[2], listing + decode + forward + Parquet write) %.0f images/s"
                        + " / plain DJL loop (%d thread(s)) %.0f images/s = ratio %.2f%n",
                s.imagesPerSecond(), bestThreads, best, s.imagesPerSecond() / best);
    }

    private static FeaturesJob.Settings settings(Path images, Path out) {
        return new FeaturesJob.Settings(images.toString(), out.toString(), "bundled", ImageSource.Options.defaults(),
                0, 50_000_000L, 256L << 20, null, 0);
    }

    /** Read, decode, preprocess and forward in batches; nothing else. */
    private static void plainLoop(LoadedModel m, List<Path> files, int batch) throws Exception {
        Preprocessor pre = new Preprocessor(m.spec());
        ImageDecoder decoder = new ImageDecoder(50_000_000L);
        int per = pre.floatsPerImage();
        float[] input = new float[batch * per];
        List<String> taps = List.of(m.spec().featuresTap(), m.spec().logitsTap());
        List<String> conv = List.of(m.spec().convTap());
        try (ModelForward f = m.newForward()) {
            for (int start = 0; start < files.size(); start += batch) {
                int b = Math.min(batch, files.size() - start);
                for (int i = 0; i < b; i++) {
                    pre.apply(decoder.decode(Files.readAllBytes(files.get(start + i))), input, i * per);
                }
                f.run(input, b, taps, conv);
            }
        }
    }
}
