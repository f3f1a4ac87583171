package io.cnnlens.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.TappedSequence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Checks a careful reader expects of saliency maps:
 * <ul>
 * <li>the model-randomisation test (Adebayo et al. 2018): re-initialise the layers from the top
 * down, cumulatively, and rank-correlate each method's maps with the trained model's (a method
 * that explains the model must change; one that only shows edges will not);</li>
 * <li>deletion and insertion curves (Petsiuk, Das & Saenko 2018): remove (or insert) pixels in
 * the map's order, most salient first, and follow the target class probability; the area under
 * the curve should be small for deletion and large for insertion, compared with a random order.</li>
 * </ul>
 * Design notes: {@code docs/methods.md}.
 */
public final class SanityChecks {

    /** Copies per forward pass of the deletion and insertion curves. */
    private static final int CURVE_BATCH = 64;

    private SanityChecks() {
    }

    /**
     * The built-in model's layers that hold weights, from the top (logits) down, as
     * (stage index, stage name).
     */
    public static List<Pair<Integer, String>> layersTopDown(LoadedModel model) {
        if (!(model.block() instanceof TappedSequence net)) {
            throw new UnsupportedOperationException("re-initialising layers needs the network's stages (built-in models)");
        }
        List<Pair<Integer, String>> out = new ArrayList<>();
        for (int i = net.stages().size() - 1; i >= 0; i--) {
            if (!net.stages().get(i).getParameters().isEmpty()) {
                out.add(new Pair<>(i, net.stageNames().get(i)));
            }
        }
        return out;
    }

    /**
     * Re-initialises one stage's weights in place with He-normal values (σ = √(2 / fan-in)) and
     * its biases with 0, seeded.
     */
    public static void reinitialise(LoadedModel model, int stage, long seed) {
        Block b = ((TappedSequence) model.block()).stages().get(stage);
        SplittableRandom r = new SplittableRandom(seed * 31 + stage);
        for (Pair<String, Parameter> p : b.getParameters()) {
            NDArray a = p.getValue().getArray();
            long[] shape = a.getShape().getShape();
            float[] v = new float[(int) a.size()];
            if (p.getValue().getType() == Parameter.Type.WEIGHT) {
                long fanIn = 1;
                for (int d = 1; d < shape.length; d++) {
                    fanIn *= shape[d];
                }
                double sigma = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (sigma * gaussian(r));
                }
            }
            a.set(java.nio.FloatBuffer.wrap(v));
        }
    }

    /**
     * Deletion and insertion AUCs of one ordering per image: {@code steps} equal steps of pixels
     * (all channels of a pixel together), most salient first. Deletion sets them to black; insertion
     * starts from a blurred copy (box blur of radius {@code max(1, side/14)}) and puts the original
     * pixels back. AUC: trapezoid rule over the fraction of pixels, target probability on the
     * y axis. The perturbed copies go through the network by {@link PerturbedForward}, 64 at a
     * time across images. Returns [n][2] = {deletion, insertion}.
     *
     * @param order per image, the pixel indices (y·W + x), most salient first
     */
    public static double[][] deletionInsertion(ModelForward f, float[] input, int n, int[] targets, int[][] order, int steps) {
        ModelSpec s = f.spec();
        int plane = s.height() * s.width();
        int per = s.channels() * plane;
        float[] black = IntegratedGradients.blackBaseline(s);
        float[] blurred = blur(input, n, s);
        int perImage = 2 * (steps + 1);
        // copy i·2(steps+1) + c·(steps+1) + k: image i, curve c (0 deletion, 1 insertion), step k
        double[] p = new PerturbedForward(f, CURVE_BATCH).probabilities(Math.multiplyExact(n, perImage),
                copy -> targets[copy / perImage], (copy, buffer, offset) -> {
                    int i = copy / perImage;
                    int c = copy / (steps + 1) % 2;
                    int k = copy % (steps + 1);
                    int changed = (int) Math.round((double) k * plane / steps);
                    if (c == 0) { // deletion: the image, its first `changed` pixels black
                        System.arraycopy(input, i * per, buffer, offset, per);
                        for (int j = 0; j < changed; j++) {
                            int px = order[i][j];
                            for (int ch = 0; ch < s.channels(); ch++) {
                                buffer[offset + ch * plane + px] = black[ch];
                            }
                        }
                    } else { // insertion: the blurred image, its first `changed` pixels restored
                        System.arraycopy(blurred, i * per, buffer, offset, per);
                        for (int j = 0; j < changed; j++) {
                            int px = order[i][j];
                            for (int ch = 0; ch < s.channels(); ch++) {
                                buffer[offset + ch * plane + px] = input[i * per + ch * plane + px];
                            }
                        }
                    }
                });
        double[][] auc = new double[n][2];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 2; c++) {
                int first = i * perImage + c * (steps + 1);
                double a = 0;
                for (int k = 0; k < steps; k++) {
                    a += (p[first + k] + p[first + k + 1]) / 2 / steps;
                }
                auc[i][c] = a;
            }
        }
        return auc;
    }

    /** Pixel indices by decreasing map value (ties by index). */
    public static int[] orderOf(float[] map) {
        Integer[] idx = new Integer[map.length];
        for (int i = 0; i < map.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (p, q) -> {
            int c = Float.compare(map[q], map[p]);
            return c != 0 ? c : Integer.compare(p, q);
        });
        int[] out = new int[map.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    static float[] blur(float[] input, int n, ModelSpec s) {
        int h = s.height();
        int w = s.width();
        int rad = Math.max(1, Math.min(h, w) / 14);
        float[] out = new float[input.length];
        int planes = n * s.channels();
        for (int pl = 0; pl < planes; pl++) {
            int base = pl * h * w;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double sum = 0;
                    int cnt = 0;
                    for (int dy = -rad; dy <= rad; dy++) {
                        for (int dx = -rad; dx <= rad; dx++) {
                            int yy = y + dy;
                            int xx = x + dx;
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                                sum += input[base + yy * w + xx];
                                cnt++;
                            }
                        }
                    }
                    out[base + y * w + x] = (float) (sum / cnt);
                }
            }
        }
        return out;
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
