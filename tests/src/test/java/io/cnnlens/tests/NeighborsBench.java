package io.cnnlens.tests;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.PngWriter;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.OptionValues;
import io.cnnlens.jobs.SharedOptions;
import io.cnnlens.jobs.neighbors.NeighborsJob;
import io.cnnlens.jobs.neighbors.NeighborsOptions;
import io.cnnlens.model.TorchRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Benchmark, not a test of speed: the neighbors job for 10,000 queries over all 70,000
 * Fashion-MNIST images (FC7 and pixel space, L2), against the float32 matrix-product peak
 * PyTorch reaches in this JVM on this machine. Prints seconds, GFLOP/s and the fraction of the
 * peak. Run: {@code mvn -B -Pbench -pl tests -am verify -Dtest=NeighborsBench}
 * ({@code -Dcnnlens.bench.features=<dir>} reuses a features run over the 70,000 images).
 */
@Tag("bench")
class NeighborsBench extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void tenThousandQueriesOverSeventyThousand() throws Exception {
        String reuse = System.getProperty("cnnlens.bench.features");
        Path features;
        if (reuse != null && !reuse.isBlank()) {
            features = Path.of(reuse);
        } else {
            Path images = tmp.resolve("images");
            write(images, "train", FashionMnist.train(BundledModelAccuracyTest.DATA));
            write(images, "test", FashionMnist.test(BundledModelAccuracyTest.DATA));
            features = tmp.resolve("features");
            FeaturesJob.Summary f = FeaturesJob.run(spark, FeaturesJobTest.settings(images, features, "bundled"));
            System.out.println("bench: " + f.line());
        }

        // the peak: PyTorch float32 GEMM in this JVM, all cores, the job's block shape and a large square
        int cores = Runtime.getRuntime().availableProcessors();
        TorchRuntime.setIntraOpThreads(cores);
        double block = gemm(1024, 128, 8192);
        double square = gemm(2048, 2048, 2048);
        double peak = Math.max(block, square);
        System.out.printf(Locale.ROOT, "bench: PyTorch float32 GEMM, %d threads: %.1f GFLOP/s at 1024x128 · 128x8192, "
                + "%.1f GFLOP/s at 2048^3%n", cores, block / 1e9, square / 1e9);

        NeighborsJob.Summary s = NeighborsJob.run(spark, NeighborsOptions.of(OptionValues.defaults()
                .with(SharedOptions.FEATURES, features.toString()).with(SharedOptions.OUT, tmp.resolve("out").toString())
                .with(SharedOptions.MODEL, "bundled").with(NeighborsOptions.K, 10).with(NeighborsOptions.METRIC, "l2")
                .with(NeighborsOptions.QUERIES, 10_000).with(NeighborsOptions.SEED, 1L).with(NeighborsOptions.QUERY_BLOCK, 1024)
                .with(NeighborsOptions.REF_BLOCK, 8192).with(NeighborsOptions.PICTURE_QUERIES, 4)));
        assertEquals(10_000, s.queries());
        System.out.println("bench: " + s.line());
        s.agreement().forEach(a -> System.out.printf(Locale.ROOT, "bench: %s %s kNN-10 accuracy %.4f, label agreement %.4f%n",
                a.space(), a.metric(), a.knnAccuracy(), a.labelAgreement()));
        double rate = s.flops() / s.searchSeconds();
        System.out.printf(Locale.ROOT, "bench: neighbors job, 10,000 queries over %d images (FC7 128-d + pixels 784-d): %.1f s in all, "
                        + "search stage %.1f s = %.1f GFLOP/s in distance products = %.2f of the measured GEMM peak (%.1f GFLOP/s)%n",
                s.inputs(), s.seconds(), s.searchSeconds(), rate / 1e9, rate / peak, peak / 1e9);
    }

    /** Best of 5 products of an m×k by k×n float32 matrix, in FLOP/s (after a warm-up). */
    private static double gemm(int m, int k, int n) {
        try (NDManager mgr = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray a = mgr.randomNormal(new Shape(m, k));
            NDArray b = mgr.randomNormal(new Shape(k, n));
            a.matMul(b).close();
            double best = 0;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0); // force completion
                double s = (System.nanoTime() - t0) / 1e9;
                c.close();
                best = Math.max(best, 2.0 * m * k * n / s);
            }
            return best;
        }
    }

    private static void write(Path root, String split, FashionMnist.Split s) throws Exception {
        for (int i = 0; i < s.size(); i++) {
            Path dir = root.resolve(FashionMnist.CLASSES.get(s.labels()[i]));
            Files.createDirectories(dir);
            Files.write(dir.resolve(String.format("%s-%05d.png", split, i)), PngWriter.grey(s.images()[i], 28, 28));
        }
    }
}
