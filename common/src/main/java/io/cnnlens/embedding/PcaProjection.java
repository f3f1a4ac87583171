package io.cnnlens.embedding;

import io.cnnlens.natives.OpenBlas;
import smile.feature.extraction.PCA;
import smile.math.matrix.Matrix;

import java.io.Serializable;

/**
 * A PCA projection fitted by Smile (covariance eigen-decomposition) on a sample of rows, kept
 * as plain arrays so it can be broadcast and applied to every row on executors:
 * {@code y = (x − mean)·W} with W the first m principal axes.
 */
public final class PcaProjection implements Serializable {

    private static final long serialVersionUID = 1L;

    private final double[] mean;
    private final double[][] axes; // m × d
    private final double[] explained; // fraction of the total variance, per kept axis

    private PcaProjection(double[] mean, double[][] axes, double[] explained) {
        this.mean = mean;
        this.axes = axes;
        this.explained = explained;
    }

    /** Fits on {@code rows} (n×d) and keeps the first {@code m} axes (fewer if d or n − 1 is smaller). */
    public static PcaProjection fit(double[][] rows, int m) {
        int n = rows.length;
        if (n < 2) {
            throw new IllegalArgumentException("PCA needs at least 2 rows, got " + n);
        }
        int d = rows[0].length;
        int keep = Math.min(m, Math.min(d, n - 1));
        OpenBlas.requireLapack();
        PCA pca = PCA.fit(rows);
        Matrix loadings = pca.loadings();
        double[] var = pca.varianceProportion();
        double[][] axes = new double[keep][d];
        double[] kept = new double[keep];
        for (int a = 0; a < keep; a++) {
            for (int c = 0; c < d; c++) {
                axes[a][c] = loadings.get(c, a);
            }
            kept[a] = var[a];
        }
        return new PcaProjection(pca.center().clone(), axes, kept);
    }

    /**
     * A projection from its parts, as {@link #mean()}, {@link #axis(int)} and {@link #explained()}
     * give them back (a basis stored by an earlier run): every axis as long as the mean.
     */
    public static PcaProjection of(double[] mean, double[][] axes, double[] explained) {
        if (mean == null || mean.length == 0 || axes == null || axes.length == 0 || explained == null
                || explained.length != axes.length) {
            throw new IllegalArgumentException("a PCA basis needs a mean, at least one axis and one explained fraction per axis");
        }
        double[][] copy = new double[axes.length][];
        for (int a = 0; a < axes.length; a++) {
            if (axes[a] == null || axes[a].length != mean.length) {
                throw new IllegalArgumentException("PCA axis " + a + " has " + (axes[a] == null ? 0 : axes[a].length)
                        + " coordinates, the mean " + mean.length);
            }
            copy[a] = axes[a].clone();
        }
        return new PcaProjection(mean.clone(), copy, explained.clone());
    }

    /** The input dimension d. */
    public int inputDimension() {
        return mean.length;
    }

    /** The centre the rows are shifted by (the sample's mean). */
    public double[] mean() {
        return mean.clone();
    }

    /** Principal axis {@code a} (unit length, d coordinates). */
    public double[] axis(int a) {
        return axes[a].clone();
    }

    public int dimensions() {
        return axes.length;
    }

    /** The fraction of the sample's total variance along each kept axis. */
    public double[] explained() {
        return explained.clone();
    }

    /** The first {@code m} coordinates of {@code x}. */
    public double[] project(float[] x, int m) {
        if (m > axes.length) {
            throw new IllegalArgumentException("only " + axes.length + " axes were kept");
        }
        double[] y = new double[m];
        for (int a = 0; a < m; a++) {
            double[] w = axes[a];
            double s = 0;
            for (int c = 0; c < w.length; c++) {
                s += (x[c] - mean[c]) * w[c];
            }
            y[a] = s;
        }
        return y;
    }
}
