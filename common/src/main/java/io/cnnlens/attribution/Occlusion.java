package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): a square of {@code size} pixels filled with a
 * constant (default the dataset mean: 0 in normalised input) slides over the image with
 * {@code stride}; each occluded copy goes through the network, in batches of {@code batch}
 * copies across images; a pixel's value is the mean, over the windows covering it, of the drop
 * in the target class probability, {@code p(x) − p(x occluded)}. Window positions along an axis:
 * 0, stride, 2·stride, … while the window fits, plus one flush with the far edge so every pixel is
 * covered. Cost: one forward per window position; memory: one batch of copies.
 */
public final class Occlusion implements Saliency {

    private final int size;
    private final int stride;
    private final float[] fillPixel; // 0..255 per channel, or null for the dataset mean
    private final int batch;

    /**
     * @param size      window edge in model-input pixels (≤ 0: a quarter of the shorter side)
     * @param stride    step in pixels (≤ 0: half the window)
     * @param fillPixel fill value on the 0..255 scale (one, or one per channel); null: the spec's mean
     */
    public Occlusion(int size, int stride, float[] fillPixel, int batch) {
        this.size = size;
        this.stride = stride;
        this.fillPixel = fillPixel == null ? null : fillPixel.clone();
        this.batch = batch > 0 ? batch : 64;
    }

    public Occlusion() {
        this(0, 0, null, 64);
    }

    @Override
    public String name() {
        return "occlusion";
    }

    @Override
    public boolean signed() {
        return true;
    }

    int windowSize(ModelSpec s) {
        return Math.max(1, Math.min(size > 0 ? size : Math.min(s.height(), s.width()) / 4, Math.min(s.height(), s.width())));
    }

    int windowStride(ModelSpec s) {
        return Math.max(1, stride > 0 ? stride : windowSize(s) / 2);
    }

    static List<Integer> positions(int extent, int w, int stride) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p + w <= extent; p += stride) {
            out.add(p);
        }
        if (out.get(out.size() - 1) + w < extent) {
            out.add(extent - w);
        }
        return out;
    }

    /** The fill in normalised input values, per channel. */
    float[] fill(ModelSpec s) {
        float[] f = new float[s.channels()];
        for (int c = 0; c < f.length; c++) {
            float px = fillPixel == null ? s.mean()[c] * 255f : fillPixel[fillPixel.length == 1 ? 0 : c];
            f[c] = (px / 255f - s.mean()[c]) / s.std()[c];
        }
        return f;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        ModelSpec s = f.spec();
        int h = s.height();
        int w = s.width();
        int plane = h * w;
        int per = Gradients.perImage(s);
        int win = windowSize(s);
        List<Integer> ys = positions(h, win, windowStride(s));
        List<Integer> xs = positions(w, win, windowStride(s));
        int windows = ys.size() * xs.size();
        float[] fill = fill(s);
        double[] base = Gradients.probability(f, input, n, targets);
        double[][] sum = new double[n][plane];
        int[][] count = new int[n][plane];
        float[] copies = new float[batch * per];
        int[] owner = new int[batch];
        int[] where = new int[batch];
        int[] copyTargets = new int[batch];
        int filled = 0;
        long total = (long) n * windows;
        for (long job = 0; job < total; job++) {
            int i = (int) (job / windows);
            int k = (int) (job % windows);
            int y0 = ys.get(k / xs.size());
            int x0 = xs.get(k % xs.size());
            System.arraycopy(input, i * per, copies, filled * per, per);
            for (int c = 0; c < s.channels(); c++) {
                for (int y = y0; y < y0 + win; y++) {
                    int row = filled * per + c * plane + y * w;
                    java.util.Arrays.fill(copies, row + x0, row + x0 + win, fill[c]);
                }
            }
            owner[filled] = i;
            where[filled] = k;
            copyTargets[filled] = targets[i];
            filled++;
            if (filled == batch || job == total - 1) {
                double[] p = Gradients.probability(f, copies, filled, copyTargets);
                for (int b = 0; b < filled; b++) {
                    int img = owner[b];
                    int yy = ys.get(where[b] / xs.size());
                    int xx = xs.get(where[b] % xs.size());
                    double drop = base[img] - p[b];
                    for (int y = yy; y < yy + win; y++) {
                        for (int x = xx; x < xx + win; x++) {
                            sum[img][y * w + x] += drop;
                            count[img][y * w + x]++;
                        }
                    }
                }
                filled = 0;
            }
        }
        float[][] out = new float[n][plane];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < plane; p++) {
                out[i][p] = count[i][p] == 0 ? 0 : (float) (sum[i][p] / count[i][p]);
            }
        }
        return out;
    }
}
