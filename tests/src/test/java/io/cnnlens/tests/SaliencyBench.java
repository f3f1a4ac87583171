package io.cnnlens.tests;

import ai.djl.Device;
import ai.djl.util.Pair;
import io.cnnlens.attribution.Saliency;
import io.cnnlens.attribution.SaliencySettings;
import io.cnnlens.attribution.SanityChecks;
import io.cnnlens.data.FashionMnist;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.TorchRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Saliency evaluations and benchmarks on the bundled model and Fashion-MNIST test images (not
 * timed tests; they print tables). Run: {@code mvn -B -Pbench -pl tests -am verify -Dtest=SaliencyBench}.
 */
@Tag("bench")
class SaliencyBench {

    static final List<String> METHODS = SaliencySettings.NAMES;
    static final int BATCH = 50;

    static float[] images(int n) throws java.io.IOException {
        FashionMnist.Split t = FashionMnist.test(BundledModelAccuracyTest.DATA);
        ModelSpec s = ModelSpec.load(SparkTestBase.bundledSpec());
        float[] x = new float[n * 784];
        for (int i = 0; i < n; i++) {
            byte[] img = t.images()[i];
            for (int p = 0; p < 784; p++) {
                x[i * 784 + p] = ((img[p] & 0xff) / 255f - s.mean()[0]) / s.std()[0];
            }
        }
        return x;
    }

    static int[] predicted(ModelForward f, float[] x, int n) {
        float[][] logits = f.run(x, n, List.of("logits"), List.of()).values("logits");
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 1; k < logits[i].length; k++) {
                if (logits[i][k] > logits[i][t[i]]) {
                    t[i] = k;
                }
            }
        }
        return t;
    }

    static float[][] maps(Saliency m, ModelForward f, float[] x, int n, int[] targets) {
        float[][] out = new float[n][];
        for (int start = 0; start < n; start += BATCH) {
            int b = Math.min(BATCH, n - start);
            float[][] part = m.maps(f, java.util.Arrays.copyOfRange(x, start * 784, (start + b) * 784), b,
                    java.util.Arrays.copyOfRange(targets, start, start + b));
            System.arraycopy(part, 0, out, start, b);
        }
        return out;
    }

    /** Adebayo et al.'s cascading randomisation on 100 images: mean Spearman ρ of |map| against the trained model's. */
    @Test
    void modelRandomisation() throws Exception {
        TorchRuntime.setIntraOpThreads(Runtime.getRuntime().availableProcessors());
        int n = 100;
        float[] x = images(n);
        ModelSpec spec = ModelSpec.load(SparkTestBase.bundledSpec());
        List<Saliency> methods = SaliencySettings.defaults().create(METHODS);
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            int[] targets = predicted(f, x, n); // the trained model's prediction stays the target throughout
            List<float[][]> trained = new ArrayList<>();
            for (Saliency s : methods) {
                trained.add(maps(s, f, x, n, targets));
            }
            StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-22s", "re-initialised down to"));
            for (Saliency s : methods) {
                table.append(String.format(Locale.ROOT, "%22s", s.name()));
            }
            table.append('\n');
            double[] last = new double[methods.size()];
            for (Pair<Integer, String> layer : SanityChecks.layersTopDown(m)) {
                SanityChecks.reinitialise(m, layer.getKey(), 7);
                table.append(String.format(Locale.ROOT, "%-22s", layer.getValue()));
                for (int k = 0; k < methods.size(); k++) {
                    float[][] now = maps(methods.get(k), f, x, n, targets);
                    double rho = 0;
                    for (int i = 0; i < n; i++) {
                        rho += io.cnnlens.stats.Correlation.spearman(abs(trained.get(k)[i]), abs(now[i])) / n;
                    }
                    last[k] = rho;
                    table.append(String.format(Locale.ROOT, "%22.3f", rho));
                }
                table.append('\n');
            }
            System.out.print("bench: model randomisation (Adebayo 2018), bundled model, " + n
                    + " test images, mean Spearman rho of |map| vs the trained model's maps, layers re-initialised cumulatively from the top:\n"
                    + table);
            assertTrue(last[0] < 0.9, "the gradient map must change when every layer is random");
        }
    }

    /** Petsiuk et al.'s deletion / insertion AUC on 500 images, each method against a random order. */
    @Test
    void deletionAndInsertion() throws Exception {
        TorchRuntime.setIntraOpThreads(Runtime.getRuntime().availableProcessors());
        int n = 500;
        int steps = 28;
        float[] x = images(n);
        ModelSpec spec = ModelSpec.load(SparkTestBase.bundledSpec());
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            int[] targets = predicted(f, x, n);
            int[][] random = new int[n][];
            for (int i = 0; i < n; i++) {
                random[i] = io.cnnlens.stats.Permutations.random(784, 1000 + i);
            }
            double[] rnd = mean(SanityChecks.deletionInsertion(f, x, n, targets, random, steps));
            System.out.printf(Locale.ROOT, "bench: deletion / insertion AUC (Petsiuk 2018), bundled model, %d test images, %d steps, "
                    + "target = predicted class (deletion: lower is better; insertion: higher is better)%n", n, steps);
            System.out.printf(Locale.ROOT, "bench: %-22s deletion %.4f  insertion %.4f%n", "random order", rnd[0], rnd[1]);
            List<String> notBetter = new ArrayList<>();
            for (Saliency s : SaliencySettings.defaults().create(METHODS)) {
                float[][] maps = maps(s, f, x, n, targets);
                int[][] order = new int[n][];
                for (int i = 0; i < n; i++) {
                    order[i] = SanityChecks.orderOf(maps[i]);
                }
                double[] auc = mean(SanityChecks.deletionInsertion(f, x, n, targets, order, steps));
                System.out.printf(Locale.ROOT, "bench: %-22s deletion %.4f  insertion %.4f  (%s random on deletion: ratio %.3f)%n",
                        s.name(), auc[0], auc[1], auc[0] < rnd[0] ? "beats" : "does NOT beat", auc[0] / rnd[0]);
                if (!(auc[0] < rnd[0])) {
                    notBetter.add(String.format(Locale.ROOT, "%s (deletion AUC %.4f vs random %.4f)", s.name(), auc[0], rnd[0]));
                }
            }
            // every line is printed first; then every method must delete the evidence faster than a random order
            assertTrue(notBetter.isEmpty(), "methods that do not beat a random order on deletion: " + notBetter);
        }
    }

    /** Occluded images per second against a plain batched forward of as many images; seconds per image per method. */
    @Test
    void throughput() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        TorchRuntime.setIntraOpThreads(cores);
        int n = 200;
        float[] x = images(n);
        ModelSpec spec = ModelSpec.load(SparkTestBase.bundledSpec());
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            int[] targets = predicted(f, x, n);
            io.cnnlens.attribution.Occlusion occ = new io.cnnlens.attribution.Occlusion(7, 3, null, 64);
            int windows = 8 * 8; // positions 0,3,...,21 on each axis of 28 with a 7-pixel window
            maps(occ, f, x, 20, targets); // warm-up
            long t0 = System.nanoTime();
            maps(occ, f, x, n, targets);
            double occSeconds = (System.nanoTime() - t0) / 1e9;
            double occluded = (double) n * windows / occSeconds;
            // baseline: plain batched forward of as many images (the same images repeated), batch 64
            float[] batch = new float[64 * 784];
            t0 = System.nanoTime();
            long done = 0;
            while (done < (long) n * windows) {
                int b = (int) Math.min(64, (long) n * windows - done);
                for (int i = 0; i < b; i++) {
                    System.arraycopy(x, (int) ((done + i) % n) * 784, batch, i * 784, 784);
                }
                f.run(batch, b, List.of("logits"), List.of());
                done += b;
            }
            double plain = done / ((System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "bench: occlusion (7x7, stride 3: %d windows per image) %.0f occluded images/s vs plain batched "
                    + "forward %.0f images/s = ratio %.2f (%d intra-op threads)%n", windows, occluded, plain, occluded / plain, cores);
            for (Saliency s : SaliencySettings.defaults().create(METHODS)) {
                maps(s, f, x, 10, targets);
                t0 = System.nanoTime();
                maps(s, f, x, n, targets);
                System.out.printf(Locale.ROOT, "bench: %-22s %.5f s per image (batches of %d, defaults)%n", s.name(),
                        (System.nanoTime() - t0) / 1e9 / n, BATCH);
            }
        }
    }

    private static float[] abs(float[] a) {
        float[] o = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = Math.abs(a[i]);
        }
        return o;
    }

    private static double[] mean(double[][] v) {
        double[] m = new double[2];
        for (double[] r : v) {
            m[0] += r[0] / v.length;
            m[1] += r[1] / v.length;
        }
        return m;
    }
}
