package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The perturbation engine, and the three methods on it (occlusion, Shapley sampling, the deletion
 * and insertion curves) against references written here the plain way: every perturbed copy
 * through the network alone. Batching changes only the network's floating-point sums, so the
 * engine's probabilities equal the one-copy-at-a-time ones within 1e-6.
 */
class PerturbedForwardTest {

    static final double TOLERANCE = 1e-6;

    static BundledModelSamples samples;

    @BeforeAll
    static void load() throws Exception {
        samples = BundledModelSamples.open(2);
    }

    @AfterAll
    static void close() {
        samples.close();
    }

    static double alone(float[] copy, int target) {
        return Gradients.probability(samples.forward, copy, 1, new int[] {target})[0];
    }

    @Test
    void copiesComeBackInOrderWhateverTheBatch() {
        int per = samples.perImage();
        int copies = 7; // batches of 3, 3 and 1
        PerturbedForward.Perturbation scaled = (copy, buffer, offset) -> {
            for (int j = 0; j < per; j++) {
                buffer[offset + j] = samples.input[(copy % 2) * per + j] * (1 - copy / 10f);
            }
        };
        double[] p = new PerturbedForward(samples.forward, 3).probabilities(copies, copy -> samples.predicted[copy % 2], scaled);
        assertEquals(copies, p.length);
        for (int copy = 0; copy < copies; copy++) {
            float[] one = new float[per];
            scaled.write(copy, one, 0);
            assertEquals(alone(one, samples.predicted[copy % 2]), p[copy], TOLERANCE, "copy " + copy);
        }
    }

    @Test
    void occlusionEqualsOccludingOneCopyAtATime() {
        Occlusion occ = new Occlusion(7, 3, null, 50);
        ModelSpec s = samples.spec();
        float[][] maps = occ.maps(samples.forward, samples.input, samples.n, samples.predicted);
        int w = s.width();
        int win = occ.windowSize(s);
        List<Integer> ys = Occlusion.positions(s.height(), win, occ.windowStride(s));
        List<Integer> xs = Occlusion.positions(w, win, occ.windowStride(s));
        float fill = occ.fill(s)[0];
        for (int i = 0; i < samples.n; i++) {
            float[] image = samples.image(i);
            double base = alone(image, samples.predicted[i]);
            double[] sum = new double[image.length];
            int[] count = new int[image.length];
            for (int y0 : ys) {
                for (int x0 : xs) {
                    float[] copy = image.clone();
                    for (int y = y0; y < y0 + win; y++) {
                        Arrays.fill(copy, y * w + x0, y * w + x0 + win, fill);
                    }
                    double drop = base - alone(copy, samples.predicted[i]);
                    for (int y = y0; y < y0 + win; y++) {
                        for (int x = x0; x < x0 + win; x++) {
                            sum[y * w + x] += drop;
                            count[y * w + x]++;
                        }
                    }
                }
            }
            for (int p = 0; p < image.length; p++) {
                assertEquals(sum[p] / count[p], maps[i][p], TOLERANCE, "image " + i + " pixel " + p);
            }
        }
    }

    @Test
    void shapleyEqualsSwitchingCellsOnOneCopyAtATime() {
        ShapleySampling sh = new ShapleySampling(4, 3, 5, 40);
        ModelSpec s = samples.spec();
        double[][] phi = sh.cellValues(samples.forward, samples.input, samples.n, samples.predicted);
        int[] cellOf = sh.cellOf(s);
        float fill = new Occlusion().fill(s)[0];
        for (int i = 0; i < samples.n; i++) {
            float[] image = samples.image(i);
            int[][] orders = sh.orders(samples.input, i, samples.perImage());
            double[] expect = new double[16];
            float[] blank = new float[image.length];
            Arrays.fill(blank, fill);
            for (int[] order : orders) {
                boolean[] on = new boolean[16];
                double prev = alone(blank, samples.predicted[i]);
                for (int cell : order) {
                    on[cell] = true;
                    float[] copy = new float[image.length];
                    for (int p = 0; p < copy.length; p++) {
                        copy[p] = on[cellOf[p]] ? image[p] : fill;
                    }
                    double v = alone(copy, samples.predicted[i]);
                    expect[cell] += (v - prev) / orders.length;
                    prev = v;
                }
            }
            for (int c = 0; c < 16; c++) {
                assertEquals(expect[c], phi[i][c], TOLERANCE, "image " + i + " cell " + c);
            }
        }
    }

    @Test
    void deletionAndInsertionEqualTheirCurvesOneCopyAtATime() {
        ModelForward f = samples.forward;
        int steps = 10;
        float[][] g = new VanillaGradient().maps(f, samples.input, samples.n, samples.predicted);
        int[][] order = new int[samples.n][];
        for (int i = 0; i < samples.n; i++) {
            order[i] = SanityChecks.orderOf(g[i]);
        }
        double[][] auc = SanityChecks.deletionInsertion(f, samples.input, samples.n, samples.predicted, order, steps);
        float black = IntegratedGradients.blackBaseline(samples.spec())[0];
        for (int i = 0; i < samples.n; i++) {
            float[] image = samples.image(i);
            float[] blurred = SanityChecks.blur(image, 1, samples.spec());
            double deletion = 0;
            double insertion = 0;
            double[] prev = null;
            for (int k = 0; k <= steps; k++) {
                int changed = (int) Math.round((double) k * image.length / steps);
                float[] deleted = image.clone();
                float[] inserted = blurred.clone();
                for (int j = 0; j < changed; j++) {
                    deleted[order[i][j]] = black;
                    inserted[order[i][j]] = image[order[i][j]];
                }
                double[] now = {alone(deleted, samples.predicted[i]), alone(inserted, samples.predicted[i])};
                if (prev != null) {
                    deletion += (prev[0] + now[0]) / 2 / steps;
                    insertion += (prev[1] + now[1]) / 2 / steps;
                }
                prev = now;
            }
            assertEquals(deletion, auc[i][0], TOLERANCE, "deletion, image " + i);
            assertEquals(insertion, auc[i][1], TOLERANCE, "insertion, image " + i);
        }
    }
}
