package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): a square of {@code size} pixels filled with a
 * constant (default the dataset mean: 0 in normalised input) slides over the image with
 * {@code stride}; the occluded copies go through the network by {@link PerturbedForward}, in
 * batches of {@code batch} copies across images; a pixel's value is the mean, over the windows
 * covering it, of the drop in the target class probability, {@code p(x) − p(x occluded)}. Window
 * positions along an axis: 0, stride, 2·stride, … while the window fits, plus one flush with the
 * far edge so every pixel is covered. Cost: one forward per window position; memory: one batch of
 * copies. Design notes: {@code docs/methods.md}.
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
        // copy i·windows + k: image i with window k (row-major over the positions) filled
        double[] p = new PerturbedForward(f, batch).probabilities(Math.multiplyExact(n, windows), copy -> targets[copy / windows],
                (copy, buffer, offset) -> {
                    int i = copy / windows;
                    int k = copy % windows;
                    int y0 = ys.get(k / xs.size());
                    int x0 = xs.get(k % xs.size());
                    System.arraycopy(input, i * per, buffer, offset, per);
                    for (int c = 0; c < s.channels(); c++) {
                        for (int y = y0; y < y0 + win; y++) {
                            int row = offset + c * plane + y * w;
                            java.util.Arrays.fill(buffer, row + x0, row + x0 + win, fill[c]);
                        }
                    }
                });
        double[][] sum = new double[n][plane];
        int[][] count = new int[n][plane];
        for (int copy = 0; copy < p.length; copy++) {
            int img = copy / windows;
            int k = copy % windows;
            int yy = ys.get(k / xs.size());
            int xx = xs.get(k % xs.size());
            double drop = base[img] - p[copy];
            for (int y = yy; y < yy + win; y++) {
                for (int x = xx; x < xx + win; x++) {
                    sum[img][y * w + x] += drop;
                    count[img][y * w + x]++;
                }
            }
        }
        float[][] out = new float[n][plane];
        for (int i = 0; i < n; i++) {
            for (int q = 0; q < plane; q++) {
                out[i][q] = count[i][q] == 0 ? 0 : (float) (sum[i][q] / count[i][q]);
            }
        }
        return out;
    }
}
