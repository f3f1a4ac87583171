package io.cnnlens.attribution;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every registered saliency method keeps, on the bundled model and three sample
 * images, with settings small enough for a test (SmoothGrad 8 samples, integrated gradients 16
 * steps, occlusion 7×7 windows at stride 3, Shapley 4×4 cells and 6 permutations; 40 perturbed
 * copies per forward pass, so a pass holds copies of two images):
 * <ul>
 * <li>shape: one map per image, of the model input's height × width, not all zero;</li>
 * <li>seeded: two instances made from the same settings (same seed) give identical maps, bit for bit;</li>
 * <li>batched = one by one: the maps of the batch of 3 equal each image's map run alone within
 * 1e-4 × the largest |value| of that map (batch composition changes the network's floating-point
 * sums, nothing else);</li>
 * <li>sign: an unsigned method's values are ≥ 0; a signed one's may be negative; all are finite.</li>
 * </ul>
 */
class SaliencyMethodContractTest {

    static final SaliencySettings SMALL = new SaliencySettings(8, 0.15, 16, 7, 3, null, 4, 6, 3, 40);
    static final int N = 3;

    static BundledModelSamples samples;

    @BeforeAll
    static void load() throws Exception {
        samples = BundledModelSamples.open(N);
    }

    @AfterAll
    static void close() {
        samples.close();
    }

    static Stream<String> registered() {
        return SaliencyMethods.names().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("registered")
    void keepsTheSaliencyContract(String name) {
        Saliency m = SMALL.create(List.of(name)).get(0);
        assertEquals(name, m.name());
        int plane = samples.spec().height() * samples.spec().width();
        float[][] batched = m.maps(samples.forward, samples.input, N, samples.predicted);

        // shape
        assertEquals(N, batched.length, name + ": one map per image");
        for (int i = 0; i < N; i++) {
            assertEquals(plane, batched[i].length, name + " image " + i + ": H×W values");
            assertTrue(maxAbs(batched[i]) > 0, name + " image " + i + ": an all-zero map");
        }

        // seeded: reproducible
        float[][] again = SMALL.create(List.of(name)).get(0).maps(samples.forward, samples.input, N, samples.predicted);
        for (int i = 0; i < N; i++) {
            assertArrayEquals(batched[i], again[i], name + " image " + i + ": same seed, same map");
        }

        // batched = one by one
        for (int i = 0; i < N; i++) {
            float[] single = m.maps(samples.forward, samples.image(i), 1, new int[] {samples.predicted[i]})[0];
            float tolerance = 1e-4f * maxAbs(single);
            for (int p = 0; p < plane; p++) {
                assertEquals(single[p], batched[i][p], tolerance, name + " image " + i + " pixel " + p + ": batched vs alone");
            }
        }

        // sign
        for (int i = 0; i < N; i++) {
            for (int p = 0; p < plane; p++) {
                float v = batched[i][p];
                assertTrue(Float.isFinite(v), name + " image " + i + " pixel " + p + ": " + v);
                assertTrue(m.signed() || v >= 0, name + " is unsigned but gives " + v + " at image " + i + " pixel " + p);
            }
        }
    }

    static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
