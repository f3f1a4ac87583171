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
 * their mean. Cost: permutations × cells forwards per image (+1 for the baseline), in batches of
 * {@code batch} coalitions across images by {@link PerturbedForward}. Design notes:
 * {@code docs/methods.md}.
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

    /**
     * The {@code permutations} random orders of the cells for image {@code i} of {@code input}
     * ({@code per} values per image), seeded by the seed and the image's values.
     */
    int[][] orders(float[] input, int i, int per) {
        int cells = grid * grid;
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + ContentSeed.of(input, i * per, per));
        int[][] out = new int[permutations][];
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
            out[p] = o;
        }
        return out;
    }

    /** Cell values φ per image ([n][grid²]), and through {@link #maps} the pixel maps. */
    public double[][] cellValues(ModelForward f, float[] input, int n, int[] targets) {
        ModelSpec s = f.spec();
        int per = Gradients.perImage(s);
        int plane = Gradients.plane(s);
        int cells = grid * grid;
        int[] cellOf = cellOf(s);
        float[] fill = new Occlusion().fill(s);
        int[][][] order = new int[n][][];
        for (int i = 0; i < n; i++) {
            order[i] = orders(input, i, per);
        }
        // copy i·evalsPerImage + e: image i's baseline (e = 0), then for each permutation the
        // coalitions of its first 1..cells cells, the cells outside the coalition filled
        int evalsPerImage = 1 + permutations * cells;
        boolean[] on = new boolean[cells];
        double[] value = new PerturbedForward(f, batch).probabilities(Math.multiplyExact(n, evalsPerImage),
                copy -> targets[copy / evalsPerImage], (copy, buffer, offset) -> {
                    int i = copy / evalsPerImage;
                    int e = copy % evalsPerImage;
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
                        int dst = offset + c * plane;
                        for (int px = 0; px < plane; px++) {
                            buffer[dst + px] = on[cellOf[px]] ? input[src + px] : fill[c];
                        }
                    }
                });
        double[][] phi = new double[n][cells];
        for (int i = 0; i < n; i++) {
            int first = i * evalsPerImage;
            for (int p = 0; p < permutations; p++) {
                double prev = value[first];
                for (int c = 0; c < cells; c++) {
                    double v = value[first + 1 + p * cells + c];
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
}
