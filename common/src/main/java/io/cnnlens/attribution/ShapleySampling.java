package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.util.SplittableRandom;

/**
 * Shapley values of image regions by permutation sampling (Castro, Gómez & Tejada 2009). The
 * players are the cells of a {@code grid}×{@code grid} partition of the image; a coalition's
 * value is the target class probability of the image with every cell outside it filled with the
 * dataset mean (0 in normalised input). For each of {@code permutations} random orders (seeded
 * by the image's values, so a batch gives the same maps as its images one by one) the cells are
 * switched on one by one and each gets its marginal gain; a cell's value is the mean gain. The
 * pixel map spreads each cell's value evenly over its pixels, so it sums to
 * {@code Σ φ = f(x) − f(baseline)}: exactly for every permutation (the gains telescope), hence for
 * their mean. Cost: permutations × cells forwards per image (+1 for the baseline), in batches.
 */
public final class ShapleySampling implements Saliency {

    private final int grid;
    private final int permutations;
    private final long seed;
    private final int batch;

    public ShapleySampling(int grid, int permutations, long seed, int batch) {
        if (grid < 1 || permutations < 1) {
            throw new IllegalArgumentException("Shapley sampling needs grid ≥ 1 and permutations ≥ 1");
        }
        this.grid = grid;
        this.permutations = permutations;
        this.seed = seed;
        this.batch = batch > 0 ? batch : 64;
    }

    public ShapleySampling() {
        this(4, 16, 1, 64);
    }

    @Override
    public String name() {
        return "shapley";
    }

    @Override
    public boolean signed() {
        return true;
    }

    /** The cell index of every pixel (row-major cells, rows cut at floor(k·H/grid)). */
    int[] cellOf(ModelSpec s) {
        int h = s.height();
        int w = s.width();
        int[] cell = new int[h * w];
        for (int y = 0; y < h; y++) {
            int cy = Math.min(grid - 1, y * grid / h);
            for (int x = 0; x < w; x++) {
                cell[y * w + x] = cy * grid + Math.min(grid - 1, x * grid / w);
            }
        }
        return cell;
    }

    /** Cell values φ per image ([n][grid²]), and through {@link #maps} the pixel maps. */
    public double[][] cellValues(ModelForward f, float[] input, int n, int[] targets) {
        ModelSpec s = f.spec();
        int per = Gradients.perImage(s);
        int plane = Gradients.plane(s);
        int cells = grid * grid;
        int[] cellOf = cellOf(s);
        float[] fill = new Occlusion().fill(s);
        // one order per image and permutation
        int[][][] order = new int[n][permutations][];
        for (int i = 0; i < n; i++) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + contentSeed(input, i * per, per));
            for (int p = 0; p < permutations; p++) {
                int[] o = new int[cells];
                for (int c = 0; c < cells; c++) {
                    o[c] = c;
                }
                for (int c = cells - 1; c > 0; c--) {
                    int j = r.nextInt(c + 1);
                    int t = o[c];
                    o[c] = o[j];
                    o[j] = t;
                }
                order[i][p] = o;
            }
        }
        // evaluations: per image, the baseline, then for each permutation the prefixes of length 1..cells
        int evalsPerImage = 1 + permutations * cells;
        double[][] value = new double[n][evalsPerImage];
        float[] buf = new float[batch * per];
        int[] owner = new int[batch];
        int[] slot = new int[batch];
        int[] tgt = new int[batch];
        boolean[] on = new boolean[cells];
        int filled = 0;
        long total = (long) n * evalsPerImage;
        for (long job = 0; job < total; job++) {
            int i = (int) (job / evalsPerImage);
            int e = (int) (job % evalsPerImage);
            java.util.Arrays.fill(on, false);
            if (e > 0) {
                int p = (e - 1) / cells;
                int len = (e - 1) % cells + 1;
                for (int c = 0; c < len; c++) {
                    on[order[i][p][c]] = true;
                }
            }
            for (int c = 0; c < s.channels(); c++) {
                int src = i * per + c * plane;
                int dst = filled * per + c * plane;
                for (int px = 0; px < plane; px++) {
                    buf[dst + px] = on[cellOf[px]] ? input[src + px] : fill[c];
                }
            }
            owner[filled] = i;
            slot[filled] = e;
            tgt[filled] = targets[i];
            filled++;
            if (filled == batch || job == total - 1) {
                double[] pr = Gradients.probability(f, buf, filled, tgt);
                for (int b = 0; b < filled; b++) {
                    value[owner[b]][slot[b]] = pr[b];
                }
                filled = 0;
            }
        }
        double[][] phi = new double[n][cells];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < permutations; p++) {
                double prev = value[i][0];
                for (int c = 0; c < cells; c++) {
                    double v = value[i][1 + p * cells + c];
                    phi[i][order[i][p][c]] += (v - prev) / permutations;
                    prev = v;
                }
            }
        }
        return phi;
    }

    @Override
    public float[][] maps(ModelForward f, float[] input, int n, int[] targets) {
        ModelSpec s = f.spec();
        int[] cellOf = cellOf(s);
        int[] area = new int[grid * grid];
        for (int c : cellOf) {
            area[c]++;
        }
        double[][] phi = cellValues(f, input, n, targets);
        float[][] out = new float[n][cellOf.length];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < cellOf.length; p++) {
                out[i][p] = (float) (phi[i][cellOf[p]] / area[cellOf[p]]);
            }
        }
        return out;
    }

    private static long contentSeed(float[] x, int off, int len) {
        long h = 1125899906842597L;
        for (int j = 0; j < len; j += 7) {
            h = 31 * h + Float.floatToIntBits(x[off + j]);
        }
        return h;
    }
}
