package io.cnnlens.embedding;

import smile.manifold.TSNE;

import java.util.stream.IntStream;

/**
 * Exact t-SNE of a sample (van der Maaten & Hinton 2008) with Smile's optimiser
 * ({@link TSNE}: gradient descent with gains and momentum, early exaggeration 12 for the first
 * 250 iterations) but with the paper's input affinities, calibrated by {@link Perplexity}, and a
 * PCA start.
 *
 * <p>Smile cannot take affinities, only data or a square matrix it reads as squared distances
 * (a square data matrix would be misread as one: that is why data never goes in directly), and
 * its perplexity search mixes log bases: for row i it finds β' with
 * {@code log2 Z' + β'·Σp'D'/Z' = log2(perplexity)}. So each row is handed over as
 * {@code D'_ij = β_i·(d_ij − min_j d_ij) + s_i} with our calibrated β_i and a per-row shift
 * {@code s_i ≥ 0} chosen so that Smile's equation holds at β' = 1 for one common target: a
 * shift leaves the row's conditional distribution unchanged, and Smile's entropy expression moves
 * with it by {@code s_i·(1 − log2 e)}. Smile's search then stops (to its tolerance of 1e-3) at
 * exactly our distribution. Memory: three n×n double matrices (≈ 600 MB at n = 5,000).
 */
public final class TsneFit {

    private TsneFit() {
    }

    /** What the fit was given and did. */
    public record Result(double[][] coordinates, double smilePerplexityArgument, double seconds) {
    }

    /**
     * @param x          n points (e.g. 50-D PCA), n ≥ 4
     * @param init       n×2 start (e.g. the first two PCA components), rescaled to std 1e-4; null: Smile's random start
     * @param eta        learning rate; ≤ 0 picks max(200, n / 12)
     */
    public static Result fit(double[][] x, double[][] init, double perplexity, int iterations, double eta) {
        long t0 = System.nanoTime();
        int n = x.length;
        if (n < 4) {
            throw new IllegalArgumentException("t-SNE needs at least 4 points, got " + n);
        }
        if (perplexity >= n - 1) {
            throw new IllegalArgumentException("perplexity " + perplexity + " needs more than " + (int) (perplexity + 1)
                    + " points; got " + n + " (lower --perplexity)");
        }
        double[][] d = smileDistances(x, perplexity);
        double target = d[0][0];
        d[0][0] = 0;
        double smileArg = Math.pow(2, target);
        TSNE tsne = new TSNE(d, 2, smileArg, eta > 0 ? eta : Math.max(200, n / 12.0), 0);
        if (init != null) {
            double mean = 0;
            for (double[] r : init) {
                mean += r[0];
            }
            mean /= n;
            double var = 0;
            for (double[] r : init) {
                var += (r[0] - mean) * (r[0] - mean);
            }
            double scale = var > 0 ? 1e-4 / Math.sqrt(var / n) : 1;
            for (int i = 0; i < n; i++) {
                tsne.coordinates[i][0] = init[i][0] * scale;
                tsne.coordinates[i][1] = init[i][1] * scale;
            }
        }
        tsne.update(iterations);
        return new Result(tsne.coordinates, smileArg, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The square matrix handed to Smile (see the class comment). Entry [0][0] carries the common
     * target (log2 of Smile's perplexity argument) out; the caller resets it to 0.
     */
    static double[][] smileDistances(double[][] x, double perplexity) {
        int n = x.length;
        double[][] d = squaredDistances(x);
        double[] a = new double[n];
        double[] shiftBase = new double[n];
        double log2e = 1 / Math.log(2);
        IntStream.range(0, n).parallel().forEach(i -> {
            double[] row = d[i];
            Perplexity.Row cal = Perplexity.calibrate(row, i, perplexity);
            double min = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (j != i && row[j] < min) {
                    min = row[j];
                }
            }
            double z = 0;
            double weighted = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    row[j] = 0;
                    continue;
                }
                double e = cal.beta() * (row[j] - min);
                row[j] = e;
                double w = Math.exp(-e);
                z += w;
                weighted += w * e;
            }
            a[i] = Math.log(z) * log2e + weighted / z;
            shiftBase[i] = a[i];
        });
        double target = Double.POSITIVE_INFINITY;
        for (double v : a) {
            target = Math.min(target, v);
        }
        double t = target;
        IntStream.range(0, n).parallel().forEach(i -> {
            double s = (shiftBase[i] - t) / (log2e - 1);
            double[] row = d[i];
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    row[j] += s;
                }
            }
        });
        d[0][0] = target;
        return d;
    }

    static double[][] squaredDistances(double[][] x) {
        int n = x.length;
        double[][] d = new double[n][n];
        IntStream.range(0, n).parallel().forEach(i -> {
            double[] xi = x[i];
            for (int j = 0; j < n; j++) {
                double[] xj = x[j];
                double s = 0;
                for (int c = 0; c < xi.length; c++) {
                    double t = xi[c] - xj[c];
                    s += t * t;
                }
                d[i][j] = s;
            }
        });
        return d;
    }
}
