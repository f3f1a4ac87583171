package io.cnnlens.embedding;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Barnes-Hut t-SNE (van der Maaten 2014) of n points into 2-D, given their sparse joint
 * affinities ({@link SparseAffinities}). The gradient of KL(P‖Q), with {@code w_ij = (1 + ‖y_i − y_j‖²)⁻¹}
 * and {@code Z = Σ_{k≠l} w_kl}, is split as openTSNE writes it (the constant factor 4 folded into
 * the learning rate):
 * {@code g_i = α·Σ_j p_ij w_ij (y_i − y_j) − (1/Z)·Σ_j w_ij² (y_i − y_j)}; the attractive sum runs
 * over P's non-zeros, the repulsive sum and Z over a quadtree of the map rebuilt every iteration,
 * a cell of side s at distance d from y_i standing in for all its points when {@code s/d < θ}.
 * The optimiser is the paper's: early exaggeration α = 12 for the first 250 iterations with
 * momentum 0.5, then α = 1 and momentum 0.8, per-coordinate gains (+0.2 when the step reverses
 * the gradient's sign, ×0.8 otherwise, at least 0.01), learning rate max(n/12, 200) (Belkina et al. 2019, as
 * openTSNE's; scikit-learn's max(n/48, 50) with its factor 4 is the same step). The map is
 * re-centred each iteration. Both sums run on a fixed pool of threads. Notes:
 * docs/methods.md#barnes-hut-t-sne.
 */
public final class BarnesHutTsne {

    /** Cells smaller than this (relative to the map) are not split: coincident points share a leaf. */
    private static final int MAX_DEPTH = 48;

    private BarnesHutTsne() {
    }

    /**
     * @param learningRate ≤ 0: n / 12
     * @param threads      ≤ 0: all available processors
     */
    public record Options(int iterations, int exaggerationIterations, double exaggeration, double learningRate,
                          double theta, int threads) {
        public Options {
            if (iterations < 1 || exaggerationIterations < 0 || !(exaggeration > 0) || !(theta >= 0)) {
                throw new IllegalArgumentException("t-SNE needs iterations ≥ 1, exaggeration > 0, θ ≥ 0");
            }
        }

        /** The paper's schedule with {@code iterations} in all (early exaggeration for 250, or a quarter of fewer than 1000). */
        public static Options paper(int iterations) {
            return new Options(iterations, Math.min(250, iterations / 4), 12, 0, 0.5, 0);
        }
    }

    /** The map (n×2 row-major), KL(P‖Q) at the end (Z by the tree), time, and threads used. */
    public record Result(double[] y, double klDivergence, double seconds, int threads, double learningRate) {
    }

    /** The PCA start as openTSNE and scikit-learn scale it: the first column to standard deviation 10⁻⁴. */
    public static double[] scaledStart(double[] xy) {
        int n = xy.length / 2;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += xy[2 * i];
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            var += (xy[2 * i] - mean) * (xy[2 * i] - mean);
        }
        double sd = Math.sqrt(var / n);
        double scale = sd > 0 ? 1e-4 / sd : 1;
        double[] out = new double[xy.length];
        for (int i = 0; i < xy.length; i++) {
            out[i] = xy[i] * scale;
        }
        return out;
    }

    public static Result fit(SparseAffinities.Csr p, double[] start, Options o, IntConsumer progress) {
        long t0 = System.nanoTime();
        int n = p.n();
        if (start.length != 2 * n) {
            throw new IllegalArgumentException("the start needs n×2 values (n " + n + ")");
        }
        if (n < 2) {
            throw new IllegalArgumentException("t-SNE needs at least 2 points");
        }
        int threads = o.threads() > 0 ? o.threads() : Runtime.getRuntime().availableProcessors();
        double eta = o.learningRate() > 0 ? o.learningRate() : Math.max(n / 12.0, 200.0);
        double[] y = start.clone();
        double[] grad = new double[2 * n];
        double[] update = new double[2 * n];
        double[] gains = new double[2 * n];
        java.util.Arrays.fill(gains, 1);
        QuadTree tree = new QuadTree(n);
        int chunks = Math.min(n, threads * 8);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "tsne-gradient");
            t.setDaemon(true);
            return t;
        });
        double z = 1;
        try {
            for (int it = 0; it < o.iterations(); it++) {
                boolean early = it < o.exaggerationIterations();
                double alpha = early ? o.exaggeration() : 1;
                double momentum = early ? 0.5 : 0.8;
                tree.build(y);
                z = gradient(p, y, tree, alpha, o.theta(), grad, pool, chunks);
                for (int c = 0; c < 2 * n; c++) {
                    double g = grad[c];
                    double u = update[c];
                    double gain = (u * g < 0) ? gains[c] + 0.2 : gains[c] * 0.8;
                    gain = Math.max(gain, 0.01);
                    gains[c] = gain;
                    u = momentum * u - eta * gain * g;
                    update[c] = u;
                    y[c] += u;
                }
                double mx = 0;
                double my = 0;
                for (int i = 0; i < n; i++) {
                    mx += y[2 * i];
                    my += y[2 * i + 1];
                }
                mx /= n;
                my /= n;
                for (int i = 0; i < n; i++) {
                    y[2 * i] -= mx;
                    y[2 * i + 1] -= my;
                }
                if (progress != null) {
                    progress.accept(it + 1);
                }
            }
            tree.build(y);
            z = gradient(p, y, tree, 1, o.theta(), grad, pool, chunks);
        } finally {
            pool.shutdownNow();
        }
        return new Result(y, kl(p, y, z), (System.nanoTime() - t0) / 1e9, threads, eta);
    }

    /** KL(P‖Q) = Σ p_ij log(p_ij / (w_ij / Z)). */
    static double kl(SparseAffinities.Csr p, double[] y, double z) {
        double s = 0;
        for (int i = 0; i < p.n(); i++) {
            for (int e = p.rowStart()[i]; e < p.rowStart()[i + 1]; e++) {
                double pij = p.values()[e];
                if (pij <= 0) {
                    continue;
                }
                int j = p.cols()[e];
                double dx = y[2 * i] - y[2 * j];
                double dy = y[2 * i + 1] - y[2 * j + 1];
                double q = 1 / (1 + dx * dx + dy * dy) / z;
                s += pij * Math.log(pij / Math.max(q, Double.MIN_NORMAL));
            }
        }
        return s;
    }

    /** Fills grad; returns Z. */
    static double gradient(SparseAffinities.Csr p, double[] y, QuadTree tree, double alpha, double theta, double[] grad,
                           ExecutorService pool, int chunks) {
        int n = p.n();
        double[] rep = new double[2 * n];
        double[] zPart = new double[chunks];
        List<Future<?>> fs = new ArrayList<>(chunks);
        double theta2 = theta * theta;
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            int chunk = c;
            fs.add(pool.submit(() -> {
                int[] stack = new int[64 * 4 + 16];
                double zs = 0;
                double[] out = new double[3];
                int[] rs = p.rowStart();
                int[] cols = p.cols();
                float[] vals = p.values();
                int[] order = tree.order();
                for (int t = from; t < to; t++) {
                    int i = order[t]; // tree order: neighbouring points walk similar paths
                    double yi = y[2 * i];
                    double yj = y[2 * i + 1];
                    stack = tree.repulsion(i, yi, yj, theta2, out, stack);
                    zs += out[2];
                    rep[2 * i] = out[0];
                    rep[2 * i + 1] = out[1];
                    double ax = 0;
                    double ay = 0;
                    for (int e = rs[i]; e < rs[i + 1]; e++) {
                        int j = cols[e];
                        double dx = yi - y[2 * j];
                        double dy = yj - y[2 * j + 1];
                        double w = vals[e] / (1 + dx * dx + dy * dy);
                        ax += w * dx;
                        ay += w * dy;
                    }
                    grad[2 * i] = alpha * ax;
                    grad[2 * i + 1] = alpha * ay;
                }
                zPart[chunk] = zs;
            }));
        }
        await(fs);
        double z = 0;
        for (double v : zPart) {
            z += v;
        }
        double inv = 1 / z;
        for (int c = 0; c < 2 * n; c++) {
            grad[c] -= rep[c] * inv;
        }
        return z;
    }

    private static void await(List<Future<?>> fs) {
        try {
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("t-SNE interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("t-SNE gradient failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * A quadtree over the map in flat arrays, built by partitioning a permutation of the points
     * (no per-point insertion): each node has its points' count and centre of mass, its cell's
     * side, and up to four children; a leaf (one point, or a cell too small to split) lists its
     * points as a range of the permutation.
     */
    static final class QuadTree {
        private final int n;
        private final int[] perm;
        private final int[] scratch;
        private double[] comX = new double[0];
        private double[] comY = new double[0];
        private double[] side2 = new double[0];
        private int[] count = new int[0];
        private int[] child = new int[0]; // 4 per node, −1 empty
        private int[] lo = new int[0];
        private int[] hi = new int[0]; // leaf ranges; hi = −1 for an inner node
        private int nodes;
        private double[] y;

        QuadTree(int n) {
            this.n = n;
            this.perm = new int[n];
            this.scratch = new int[n];
            grow(Math.max(16, 2 * n));
        }

        int nodes() {
            return nodes;
        }

        /** The points in tree (leaf) order, as of the last build. */
        int[] order() {
            return perm;
        }

        private void grow(int cap) {
            comX = java.util.Arrays.copyOf(comX, cap);
            comY = java.util.Arrays.copyOf(comY, cap);
            side2 = java.util.Arrays.copyOf(side2, cap);
            count = java.util.Arrays.copyOf(count, cap);
            lo = java.util.Arrays.copyOf(lo, cap);
            hi = java.util.Arrays.copyOf(hi, cap);
            child = java.util.Arrays.copyOf(child, 4 * cap);
        }

        void build(double[] y) {
            this.y = y;
            double minX = Double.POSITIVE_INFINITY;
            double minY = Double.POSITIVE_INFINITY;
            double maxX = Double.NEGATIVE_INFINITY;
            double maxY = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                perm[i] = i;
                double a = y[2 * i];
                double b = y[2 * i + 1];
                if (!Double.isFinite(a) || !Double.isFinite(b)) {
                    throw new IllegalStateException("t-SNE diverged: point " + i + " at (" + a + ", " + b
                            + "); lower the learning rate");
                }
                minX = Math.min(minX, a);
                maxX = Math.max(maxX, a);
                minY = Math.min(minY, b);
                maxY = Math.max(maxY, b);
            }
            double half = Math.max(maxX - minX, maxY - minY) / 2 * (1 + 1e-9) + 1e-12;
            nodes = 0;
            node((minX + maxX) / 2, (minY + maxY) / 2, half, 0, n, 0);
        }

        /** Builds the node for perm[from, to) in the cell centred (cx, cy) of half side h; returns its id. */
        private int node(double cx, double cy, double h, int from, int to, int depth) {
            if (nodes == count.length) {
                grow(count.length * 2);
            }
            int id = nodes++;
            double sx = 0;
            double sy = 0;
            for (int t = from; t < to; t++) {
                sx += y[2 * perm[t]];
                sy += y[2 * perm[t] + 1];
            }
            int m = to - from;
            comX[id] = sx / m;
            comY[id] = sy / m;
            count[id] = m;
            side2[id] = 4 * h * h;
            if (m == 1 || depth >= MAX_DEPTH) {
                lo[id] = from;
                hi[id] = to;
                return id;
            }
            hi[id] = -1;
            // quadrant q = (x ≥ cx) + 2·(y ≥ cy); stable counting partition through scratch
            int[] c = new int[4];
            for (int t = from; t < to; t++) {
                int i = perm[t];
                c[quadrant(i, cx, cy)]++;
            }
            int[] at = {from, from + c[0], from + c[0] + c[1], from + c[0] + c[1] + c[2]};
            int[] begin = at.clone();
            for (int t = from; t < to; t++) {
                int i = perm[t];
                scratch[at[quadrant(i, cx, cy)]++] = i;
            }
            System.arraycopy(scratch, from, perm, from, m);
            double q = h / 2;
            for (int k = 0; k < 4; k++) {
                int kid = -1;
                if (c[k] > 0) {
                    kid = node(cx + ((k & 1) == 1 ? q : -q), cy + ((k & 2) == 2 ? q : -q), q, begin[k], begin[k] + c[k],
                            depth + 1);
                }
                child[4 * id + k] = kid;
            }
            return id;
        }

        private int quadrant(int i, double cx, double cy) {
            return (y[2 * i] >= cx ? 1 : 0) + (y[2 * i + 1] >= cy ? 2 : 0);
        }

        /**
         * Σ_j w_ij² (y_i − y_j) into out[0..1] and Σ_j w_ij into out[2], j ≠ i, by the tree with
         * criterion side² < θ²·d². Returns the (possibly grown) stack.
         */
        int[] repulsion(int i, double xi, double yi, double theta2, double[] out, int[] stack) {
            double fx = 0;
            double fy = 0;
            double zs = 0;
            int sp = 0;
            stack[sp++] = 0;
            while (sp > 0) {
                int nd = stack[--sp];
                int h = hi[nd];
                if (h >= 0) {
                    for (int t = lo[nd]; t < h; t++) {
                        int j = perm[t];
                        if (j == i) {
                            continue;
                        }
                        double dx = xi - y[2 * j];
                        double dy = yi - y[2 * j + 1];
                        double w = 1 / (1 + dx * dx + dy * dy);
                        zs += w;
                        double w2 = w * w;
                        fx += w2 * dx;
                        fy += w2 * dy;
                    }
                    continue;
                }
                double dx = xi - comX[nd];
                double dy = yi - comY[nd];
                double d2 = dx * dx + dy * dy;
                if (side2[nd] < theta2 * d2) {
                    double w = 1 / (1 + d2);
                    double cw = count[nd] * w;
                    zs += cw;
                    cw *= w;
                    fx += cw * dx;
                    fy += cw * dy;
                    continue;
                }
                if (sp + 4 > stack.length) {
                    stack = java.util.Arrays.copyOf(stack, stack.length * 2);
                }
                int b = 4 * nd;
                for (int k = 0; k < 4; k++) {
                    int kid = child[b + k];
                    if (kid >= 0) {
                        stack[sp++] = kid;
                    }
                }
            }
            out[0] = fx;
            out[1] = fy;
            out[2] = zs;
            return stack;
        }
    }
}
