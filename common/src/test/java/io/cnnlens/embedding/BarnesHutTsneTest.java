package io.cnnlens.embedding;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Barnes-Hut t-SNE against scikit-learn 1.2 (reference numbers in tsne-sklearn.txt.gz, made by
 * tests/reference/tsne_sklearn.py on the same seeded points) and against the exact gradient.
 */
class BarnesHutTsneTest {

    /** The reference file: points with labels, scikit-learn's P for the first m points, its map quality. */
    record Reference(int n, int d, float[] x, int[] labels, int m, double perplexity, int k, double[][] p,
                     double kl, double knn, double trust) {
    }

    static Reference reference() throws IOException {
        try (InputStream in = BarnesHutTsneTest.class.getResourceAsStream("tsne-sklearn.txt.gz");
             BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
            r.readLine();
            String[] h = r.readLine().split(" ");
            int n = Integer.parseInt(h[1]);
            int d = Integer.parseInt(h[2]);
            float[] x = new float[n * d];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                String[] f = r.readLine().split(" ");
                labels[i] = Integer.parseInt(f[0]);
                for (int c = 0; c < d; c++) {
                    x[i * d + c] = Float.parseFloat(f[c + 1]);
                }
            }
            h = r.readLine().split(" ");
            int m = Integer.parseInt(h[1]);
            double[][] p = new double[m][m];
            int entries = Integer.parseInt(h[4]);
            for (int e = 0; e < entries; e++) {
                String[] f = r.readLine().split(" ");
                int i = Integer.parseInt(f[0]);
                int j = Integer.parseInt(f[1]);
                p[i][j] = Double.parseDouble(f[2]);
                p[j][i] = p[i][j];
            }
            String[] t = r.readLine().split(" ");
            return new Reference(n, d, x, labels, m, Double.parseDouble(h[2]), Integer.parseInt(h[3]), p,
                    Double.parseDouble(t[3]), Double.parseDouble(t[5]), Double.parseDouble(t[7]));
        }
    }

    /** Brute-force k nearest (squared Euclidean) of each of the first m rows among themselves. */
    static SparseAffinities.Csr affinities(float[] x, int m, int d, int k, double perplexity) {
        int[] nbr = new int[m * k];
        float[] p = new float[m * k];
        for (int i = 0; i < m; i++) {
            double[] sq = new double[m];
            Integer[] order = new Integer[m];
            for (int j = 0; j < m; j++) {
                sq[j] = j == i ? Double.POSITIVE_INFINITY : ExactKnn.squaredDistance(x, i, x, j, d);
                order[j] = j;
            }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(sq[a], sq[b]));
            double[] row = new double[k];
            for (int r = 0; r < k; r++) {
                nbr[i * k + r] = order[r];
                row[r] = sq[order[r]];
            }
            float[] c = SparseAffinities.conditional(row, perplexity);
            System.arraycopy(c, 0, p, i * k, k);
        }
        return SparseAffinities.symmetrise(m, k, nbr, p);
    }

    @Test
    void affinitiesMatchScikitLearns() throws IOException {
        Reference ref = reference();
        SparseAffinities.Csr ours = affinities(ref.x(), ref.m(), ref.d(), ref.k(), ref.perplexity());
        double worst = 0;
        double largest = 0;
        double total = 0;
        for (int i = 0; i < ref.m(); i++) {
            for (int j = 0; j < ref.m(); j++) {
                double a = ours.get(i, j);
                total += a;
                assertEquals(a, ours.get(j, i), 0, "symmetric");
                worst = Math.max(worst, Math.abs(a - ref.p()[i][j]));
                largest = Math.max(largest, ref.p()[i][j]);
                assertEquals(ref.p()[i][j] > 0, a > 0, "same non-zeros at " + i + "," + j);
            }
        }
        assertEquals(1, total, 1e-5);
        // scikit-learn bisects to an entropy tolerance of 1e-5 in float32
        assertTrue(worst < 1e-3 * largest, "max |P − P_sklearn| " + worst + " against max P " + largest);
    }

    /** At θ = 0 the tree's gradient is the exact one; at θ = 0.5 it is close. */
    @Test
    void gradientMatchesTheExactOne() {
        Random rnd = new Random(5);
        int n = 400;
        int k = 30;
        float[] x = new float[n * 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        SparseAffinities.Csr p = affinities(x, n, 5, k, 10);
        double[] y = new double[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            y[i] = rnd.nextGaussian() * 3;
        }
        y[2] = y[0]; // two coincident points
        y[3] = y[1];
        double[] exact = new double[2 * n];
        double z = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    double dx = y[2 * i] - y[2 * j];
                    double dy = y[2 * i + 1] - y[2 * j + 1];
                    z += 1 / (1 + dx * dx + dy * dy);
                }
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    double dx = y[2 * i] - y[2 * j];
                    double dy = y[2 * i + 1] - y[2 * j + 1];
                    double w = 1 / (1 + dx * dx + dy * dy);
                    double f = (4 * p.get(i, j) - w / z) * w; // exaggeration 4
                    exact[2 * i] += f * dx;
                    exact[2 * i + 1] += f * dy;
                }
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (double theta : new double[] {0, 0.5}) {
                BarnesHutTsne.QuadTree tree = new BarnesHutTsne.QuadTree(n);
                tree.build(y);
                double[] g = new double[2 * n];
                double zt = BarnesHutTsne.gradient(p, y, tree, 4, theta, g, pool, 7);
                double err = 0;
                double norm = 0;
                for (int c = 0; c < 2 * n; c++) {
                    err += (g[c] - exact[c]) * (g[c] - exact[c]);
                    norm += exact[c] * exact[c];
                }
                double rel = Math.sqrt(err / norm);
                if (theta == 0) {
                    assertEquals(z, zt, 1e-9 * z);
                    assertTrue(rel < 1e-9, "θ = 0: relative error " + rel);
                } else {
                    assertEquals(z, zt, 0.01 * z);
                    assertTrue(rel < 0.05, "θ = 0.5: relative error " + rel);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The whole fit on scikit-learn's points, same settings: its KL and map quality, or better. */
    @Test
    void fitMatchesScikitLearnsQuality() throws IOException {
        Reference ref = reference();
        int n = ref.n();
        int d = ref.d();
        double perplexity = 30;
        int k = 90;
        SparseAffinities.Csr p = affinities(ref.x(), n, d, k, perplexity);
        double[][] rows = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < d; c++) {
                rows[i][c] = ref.x()[i * d + c];
            }
        }
        PcaProjection pca = PcaProjection.fit(rows, 2);
        double[] start = new double[2 * n];
        for (int i = 0; i < n; i++) {
            double[] pr = pca.project(java.util.Arrays.copyOfRange(ref.x(), i * d, (i + 1) * d), 2);
            start[2 * i] = pr[0];
            start[2 * i + 1] = pr[1];
        }
        int[] calls = new int[1];
        BarnesHutTsne.Result r = BarnesHutTsne.fit(p, BarnesHutTsne.scaledStart(start), BarnesHutTsne.Options.paper(1000),
                it -> calls[0] = it);
        assertEquals(1000, calls[0]);
        float[] y = new float[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            y[i] = (float) r.y()[i];
        }
        double knn = MapQuality.knnAccuracy(y, n, 2, ref.labels(), 10, ExactKnn.Metric.L2);
        double trust = MapQuality.trustworthiness(ref.x(), d, y, n, 10);
        System.out.printf("Barnes-Hut t-SNE of %d points: KL %.4f (sklearn %.4f), kNN-10 %.4f (%.4f), trust %.4f (%.4f), %.1f s%n",
                n, r.klDivergence(), ref.kl(), knn, ref.knn(), trust, ref.trust(), r.seconds());
        assertTrue(knn >= ref.knn() - 0.005, "kNN-10 " + knn + " against scikit-learn's " + ref.knn());
        assertTrue(trust >= ref.trust() - 0.005, "trustworthiness " + trust + " against scikit-learn's " + ref.trust());
        assertTrue(r.klDivergence() < ref.kl() + 0.05, "KL " + r.klDivergence() + " against scikit-learn's " + ref.kl());
    }
}
