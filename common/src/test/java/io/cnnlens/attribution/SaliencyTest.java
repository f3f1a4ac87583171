package io.cnnlens.attribution;

import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invariants of the saliency methods on the bundled model and a few sample images. */
class SaliencyTest {

    static BundledModelSamples samples;
    static LoadedModel model;
    static ModelForward forward;
    static float[] input;
    static int n = 4;
    static int[] predicted;

    @BeforeAll
    static void load() throws Exception {
        samples = BundledModelSamples.open(n);
        model = samples.model;
        forward = samples.forward;
        input = samples.input;
        predicted = samples.predicted;
    }

    @AfterAll
    static void close() {
        samples.close();
    }

    static List<Saliency> methods() {
        return List.of(new VanillaGradient(), new GuidedBackprop(), new SmoothGrad(8, 0.15, 3), new IntegratedGradients(16),
                new Occlusion(7, 3, null, 50), new ShapleySampling(4, 6, 5, 40));
    }

    @Test
    void mapsDifferByTargetClass() {
        int[] other = new int[n];
        for (int i = 0; i < n; i++) {
            other[i] = (predicted[i] + 5) % 10;
        }
        for (Saliency m : methods()) {
            float[][] a = m.maps(forward, input, n, predicted);
            float[][] b = m.maps(forward, input, n, other);
            for (int i = 0; i < n; i++) {
                double diff = 0;
                for (int p = 0; p < a[i].length; p++) {
                    diff = Math.max(diff, Math.abs(a[i][p] - b[i][p]));
                }
                assertTrue(diff > 0.05 * Math.max(maxAbs(a[i]), maxAbs(b[i])), m.name() + " image " + i + ": maps for two classes differ by " + diff);
            }
        }
    }

    @Test
    void shapleyValuesAreEfficientAndConvergeToTheExactValues() {
        ShapleySampling sh = new ShapleySampling(4, 6, 5, 40);
        float[][] maps = sh.maps(forward, input, n, predicted);
        double[] px = Gradients.probability(forward, input, n, predicted);
        float[] fill = new Occlusion().fill(model.spec());
        float[] blank = new float[input.length];
        for (int i = 0; i < blank.length; i++) {
            blank[i] = fill[0];
        }
        double[] pb = Gradients.probability(forward, blank, n, predicted);
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (float v : maps[i]) {
                sum += v;
            }
            assertEquals(px[i] - pb[i], sum, 1e-5, "efficiency, image " + i);
        }
        // 2×2 grid: exact Shapley values from all 16 coalitions, against 400 sampled permutations
        int per = input.length / n;
        float[] one = java.util.Arrays.copyOf(input, per);
        ShapleySampling sampled = new ShapleySampling(2, 400, 9, 64);
        double[] phi = sampled.cellValues(forward, one, 1, new int[] {predicted[0]})[0];
        double[] exact = exactShapley(one, predicted[0], sampled.cellOf(model.spec()), fill[0]);
        for (int c = 0; c < 4; c++) {
            // the standard error of a mean of 400 marginals, each within [-1, 1]: well under 0.05
            assertEquals(exact[c], phi[c], 0.03, "cell " + c + " exact " + exact[c] + " sampled " + phi[c]);
        }
    }

    @Test
    void integratedGradientsAreComplete() {
        float[][] maps = new IntegratedGradients(256).maps(forward, input, n, predicted);
        float[] base = new float[input.length];
        float b = IntegratedGradients.blackBaseline(model.spec())[0];
        java.util.Arrays.fill(base, b);
        float[][] sx = Gradients.scores(forward, input, n);
        float[][] sb = Gradients.scores(forward, base, n);
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (float v : maps[i]) {
                sum += v;
            }
            double expect = sx[i][predicted[i]] - sb[i][predicted[i]];
            assertEquals(expect, sum, 0.015 * Math.abs(expect), "completeness, image " + i);
        }
    }

    @Test
    void theStageWalkWithoutTheGuidedRuleIsThePlainGradient() {
        float[] plain = forward.inputGradient(input, n, "logits", predicted);
        float[] walk = forward.stagewiseGradient(input, n, "logits", predicted, ModelForward.Seed.UNIT, false);
        float[] guided = forward.guidedGradient(input, n, "logits", predicted, ModelForward.Seed.UNIT);
        float max = maxAbs(plain);
        double guidedDiff = 0;
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i], walk[i], 1e-5f * max);
            guidedDiff = Math.max(guidedDiff, Math.abs(plain[i] - guided[i]));
        }
        assertTrue(guidedDiff > 0.01 * max, "the guided rule changes the gradient");
        // a conv channel as the target: only its receptive fields get gradient
        float[] ch = forward.guidedGradient(input, 1, "conv1", new int[] {3}, ModelForward.Seed.NEURON);
        int nonZero = 0;
        for (float v : java.util.Arrays.copyOf(ch, 784)) {
            if (v != 0) {
                nonZero++;
            }
        }
        assertTrue(nonZero > 0 && nonZero <= 25, "one conv1 neuron sees at most its 5×5 field: " + nonZero);
    }

    private static double[] exactShapley(float[] image, int target, int[] cellOf, float fill) {
        int cells = 4;
        float[] buf = new float[(1 << cells) * image.length];
        for (int s = 0; s < (1 << cells); s++) {
            for (int p = 0; p < image.length; p++) {
                buf[s * image.length + p] = ((s >> cellOf[p]) & 1) == 1 ? image[p] : fill;
            }
        }
        int[] t = new int[1 << cells];
        java.util.Arrays.fill(t, target);
        double[] v = Gradients.probability(forward, buf, 1 << cells, t);
        double[] phi = new double[cells];
        int[] fact = {1, 1, 2, 6, 24};
        for (int c = 0; c < cells; c++) {
            for (int s = 0; s < (1 << cells); s++) {
                if (((s >> c) & 1) == 1) {
                    continue;
                }
                int size = Integer.bitCount(s);
                double w = (double) fact[size] * fact[cells - size - 1] / fact[cells];
                phi[c] += w * (v[s | (1 << c)] - v[s]);
            }
        }
        return phi;
    }

    private static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
