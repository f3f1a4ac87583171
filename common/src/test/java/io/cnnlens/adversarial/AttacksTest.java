package io.cnnlens.adversarial;

import ai.djl.Device;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attacks on the bundled model and a few sample images. */
class AttacksTest {

    static LoadedModel model;
    static ModelForward f;
    static PixelSpace ps;
    static float[] pixels;
    static final int N = 6;

    @BeforeAll
    static void load() throws Exception {
        Path home = Path.of(System.getProperty("cnnlens.home", "..")).toAbsolutePath().normalize();
        ModelSpec spec = ModelSpec.load(home.resolve("conf/models/fashion-alexnet.properties"));
        model = LoadedModel.load(spec, Device.cpu(), true);
        f = model.newForward();
        ps = new PixelSpace(spec);
        List<Path> files;
        try (Stream<Path> w = Files.walk(home.resolve("conf/sample/fashion-mnist"))) {
            files = w.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        pixels = new float[N * 784];
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder d = new ImageDecoder(1_000_000);
        for (int i = 0; i < N; i++) {
            System.arraycopy(pre.modelPixels(d.decode(Files.readAllBytes(files.get(i * 331 + 5)))).data(), 0, pixels, i * 784, 784);
        }
    }

    @AfterAll
    static void close() {
        f.close();
        model.close();
    }

    @Test
    void foolingImagesReachTheirTargetInRange() {
        float[][] logits = ps.logits(f, pixels, N);
        int[] least = new int[N];
        for (int i = 0; i < N; i++) {
            least[i] = Predictions.argmin(logits[i]);
        }
        Attack[] r = new FoolingImages(20, 200).run(f, ps, pixels, N, least);
        for (int i = 0; i < N; i++) {
            assertTrue(r[i].success(), "image " + i);
            assertEquals(least[i], r[i].predicted());
            assertEquals(least[i], Predictions.argmax(ps.logits(f, r[i].pixels(), 1)[0]), "the stored image is the adversarial one");
            assertTrue(r[i].steps() > 0 && r[i].l2() > 0);
            for (float v : r[i].pixels()) {
                assertTrue(v >= 0 && v <= 255);
            }
            // each step moves at most 20 in L2
            assertTrue(r[i].l2() <= 20.0 * r[i].steps() + 1e-3);
        }
    }

    @Test
    void pgdStaysInsideTheBallAndIsRepeatable() {
        int[] pred = new int[N];
        float[][] logits = ps.logits(f, pixels, N);
        for (int i = 0; i < N; i++) {
            pred[i] = Predictions.argmax(logits[i]);
        }
        Attack[] a = new Pgd(16, 4, 10, 3).run(f, ps, pixels, N, pred, false);
        Attack[] b = new Pgd(16, 4, 10, 3).run(f, ps, pixels, N, pred, false);
        int fooled = 0;
        for (int i = 0; i < N; i++) {
            assertTrue(a[i].linf() <= 16 + 1e-4, "L∞ " + a[i].linf());
            assertArrayEquals(a[i].pixels(), b[i].pixels(), "same seed, same image");
            for (float v : a[i].pixels()) {
                assertTrue(v >= 0 && v <= 255);
            }
            if (a[i].success()) {
                fooled++;
                assertNotEquals(pred[i], a[i].predicted());
            }
        }
        assertTrue(fooled > 0, "PGD at ε = 16 fools some of the images");
    }

    @Test
    void deepFoolFlipsWithASmallStepAndProjectionsHoldTheBound() {
        float[] one = java.util.Arrays.copyOf(pixels, 784);
        int clean = Predictions.argmax(ps.logits(f, one, 1)[0]);
        float[] r = new DeepFool(DeepFool.Norm.L2, 50, 0.02).perturbation(f, ps, one);
        assertNotNull(r);
        float[] adv = one.clone();
        double norm = 0;
        for (int j = 0; j < 784; j++) {
            adv[j] += r[j];
            norm += r[j] * r[j];
        }
        assertNotEquals(clean, Predictions.argmax(ps.logits(f, adv, 1)[0]));
        // DeepFool's step is far smaller than a random direction would need
        assertTrue(Math.sqrt(norm) < 2000, "DeepFool L2 " + Math.sqrt(norm));

        float[] v = {300, -400, 0};
        UniversalPerturbation.project(v, DeepFool.Norm.L2, 100);
        assertEquals(100, Math.sqrt(v[0] * v[0] + v[1] * v[1]), 1e-3);
        assertEquals(-0.8 * 100, v[1], 1e-3);
        float[] w = {300, -400, 5};
        UniversalPerturbation.project(w, DeepFool.Norm.LINF, 10);
        assertArrayEquals(new float[] {10, -10, 5}, w);
        float[] noise = UniversalPerturbation.randomNoise(784, DeepFool.Norm.L2, 50, 1);
        double nn = 0;
        for (float x : noise) {
            nn += x * x;
        }
        assertEquals(50, Math.sqrt(nn), 1e-3);
    }
}
