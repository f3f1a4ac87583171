package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SmoothGrad as a noise wrapper around any saliency method. */
class SmoothGradTest {

    static BundledModelSamples samples;

    @BeforeAll
    static void load() throws Exception {
        samples = BundledModelSamples.open(2);
    }

    @AfterAll
    static void close() {
        samples.close();
    }

    @Test
    void namesSignAndStagesComeFromTheInnerMethod() {
        assertEquals("smoothgrad", new SmoothGrad().name());
        assertEquals("smoothgrad", new SmoothGrad(new VanillaGradient(), 4, 0.1, 1).name());
        SmoothGrad guided = new SmoothGrad(new GuidedBackprop(), 4, 0.1, 1);
        assertEquals("smoothgrad-guided-backprop", guided.name());
        assertFalse(guided.signed());
        assertTrue(guided.needsStages());
        SmoothGrad ig = new SmoothGrad(new IntegratedGradients(8), 4, 0.1, 1);
        assertEquals("smoothgrad-integrated-gradients", ig.name());
        assertTrue(ig.signed());
        assertFalse(ig.needsStages());
    }

    @Test
    void theOldConstructorIsTheWrapperAroundTheVanillaGradient() {
        float[][] old = new SmoothGrad(5, 0.2, 7).maps(samples.forward, samples.input, samples.n, samples.predicted);
        float[][] wrapped = new SmoothGrad(new VanillaGradient(), 5, 0.2, 7).maps(samples.forward, samples.input, samples.n, samples.predicted);
        for (int i = 0; i < samples.n; i++) {
            assertArrayEquals(old[i], wrapped[i]);
        }
    }

    /** With no noise every sample is the image itself: the mean of the inner method's map. */
    @Test
    void withoutNoiseItIsTheInnerMethod() {
        for (Saliency inner : new Saliency[] {new VanillaGradient(), new GuidedBackprop(), new IntegratedGradients(8)}) {
            float[][] plain = inner.maps(samples.forward, samples.input, samples.n, samples.predicted);
            float[][] smoothed = new SmoothGrad(inner, 3, 0, 1).maps(samples.forward, samples.input, samples.n, samples.predicted);
            for (int i = 0; i < samples.n; i++) {
                float max = SaliencyMethodContractTest.maxAbs(plain[i]);
                for (int p = 0; p < plain[i].length; p++) {
                    assertEquals(plain[i][p], smoothed[i][p], 1e-6f * max, inner.name() + " image " + i + " pixel " + p);
                }
            }
        }
    }

    /** Around guided backprop and integrated gradients: noise changes the map, a batch equals its images alone. */
    @Test
    void aroundGuidedBackpropAndIntegratedGradientsBatchedEqualsOneByOne() {
        ModelForward f = samples.forward;
        for (Saliency inner : new Saliency[] {new GuidedBackprop(), new IntegratedGradients(4)}) {
            Saliency m = new SmoothGrad(inner, 3, 0.15, 3);
            float[][] plain = inner.maps(f, samples.input, samples.n, samples.predicted);
            float[][] batched = m.maps(f, samples.input, samples.n, samples.predicted);
            for (int i = 0; i < samples.n; i++) {
                float[] single = m.maps(f, samples.image(i), 1, new int[] {samples.predicted[i]})[0];
                float max = SaliencyMethodContractTest.maxAbs(single);
                double diff = 0;
                for (int p = 0; p < single.length; p++) {
                    assertEquals(single[p], batched[i][p], 1e-4f * max, m.name() + " image " + i + " pixel " + p);
                    diff = Math.max(diff, Math.abs(batched[i][p] - plain[i][p]));
                }
                assertTrue(diff > 1e-3 * max, m.name() + " image " + i + ": the noise changes the map");
            }
        }
    }
}
