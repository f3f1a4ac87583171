package io.cnnlens.tuning;

import java.util.Random;

/**
 * Labelled synthetic training curves, one generator per pattern {@link CurveDiagnosis} reads
 * (with random levels, lengths and noise), for measuring how many diagnoses come out right.
 */
public final class SyntheticCurves {

    /** A generated trial: its true label and curves. */
    public record Curve(String label, float[] loss, double[] trainAcc, double[] valAcc) {
    }

    private SyntheticCurves() {
    }

    public static Curve make(String label, Random rnd) {
        int n = 200 + rnd.nextInt(400);
        int epochs = 4 + rnd.nextInt(6);
        double start = Math.log(10) * (0.95 + 0.1 * rnd.nextDouble());
        double noise = 0.03 + 0.05 * rnd.nextDouble();
        float[] loss = new float[n];
        double[] tr = new double[epochs];
        double[] va = new double[epochs];
        switch (label) {
            case "lr-too-high" -> {
                int blow = n / 4 + rnd.nextInt(n / 2);
                boolean nan = rnd.nextBoolean();
                for (int i = 0; i < n; i++) {
                    double l = i < blow ? start * (1 - 0.3 * i / blow) : start * 0.7 * Math.exp(0.05 * (i - blow));
                    loss[i] = nan && i > blow + 60 ? Float.NaN : (float) (l * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.3, 0.1, 0.0, rnd);
            }
            case "lr-too-low" -> {
                double drop = 0.02 + 0.08 * rnd.nextDouble();
                for (int i = 0; i < n; i++) {
                    loss[i] = (float) (start * (1 - drop * i / n) * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.15 + 0.2 * rnd.nextDouble(), 0.1, 0.0, rnd);
            }
            case "bad-init" -> {
                int flat = (int) (n * (0.3 + 0.3 * rnd.nextDouble()));
                double low = 0.25 + 0.1 * rnd.nextDouble();
                for (int i = 0; i < n; i++) {
                    double l = i < flat ? start : start * (low + (1 - low) * Math.exp(-(i - flat) / 15.0));
                    loss[i] = (float) (l * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.88, 0.1, 0.01, rnd);
            }
            case "overfitting" -> {
                for (int i = 0; i < n; i++) {
                    double t = i / (double) n;
                    loss[i] = (float) (start * (0.02 + 0.98 * Math.exp(-6 * t)) * (1 + noise * rnd.nextGaussian()));
                }
                double peak = 0.8 + 0.08 * rnd.nextDouble();
                int peakAt = epochs / 3;
                for (int e = 0; e < epochs; e++) {
                    tr[e] = Math.min(1, 0.8 + 0.2 * (e + 1) / epochs);
                    va[e] = e <= peakAt ? peak - 0.03 * (peakAt - e) : peak - 0.015 * (e - peakAt);
                }
            }
            case "decay-lr" -> {
                double level = 0.3 + 0.2 * rnd.nextDouble();
                for (int i = 0; i < n; i++) {
                    double t = i / (double) n;
                    loss[i] = (float) (start * (level + (1 - level) * Math.exp(-15 * t)) * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.88 + 0.05 * rnd.nextDouble(), 0.1, 0.005, rnd);
            }
            case "underfitting" -> {
                double endLevel = 0.5 + 0.2 * rnd.nextDouble();
                for (int i = 0; i < n; i++) {
                    double t = i / (double) n;
                    loss[i] = (float) (start * (1 - (1 - endLevel) * t) * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.6 + 0.15 * rnd.nextDouble(), 0.2, 0.0, rnd);
            }
            default -> { // ok: a cosine-scheduled run that keeps improving to the end
                double endLevel = 0.08 + 0.06 * rnd.nextDouble();
                for (int i = 0; i < n; i++) {
                    double t = i / (double) n;
                    double l = endLevel + (1 - endLevel) * (0.5 * Math.exp(-8 * t) + 0.5 * (1 - t) * (1 - t));
                    loss[i] = (float) (start * l * (1 + noise * rnd.nextGaussian()));
                }
                fillAcc(tr, va, 0.9 + 0.03 * rnd.nextDouble(), 0.15, 0.01, rnd);
            }
        }
        return new Curve(label, loss, tr, va);
    }

    /** Accuracies rising to {@code last} (training) with a constant small gap. */
    private static void fillAcc(double[] tr, double[] va, double last, double rise, double gap, Random rnd) {
        int e = tr.length;
        for (int i = 0; i < e; i++) {
            double v = last - rise * (e - 1 - i) / Math.max(1, e - 1) + 0.003 * rnd.nextGaussian();
            tr[i] = Math.min(1, v);
            va[i] = Math.min(1, v - gap);
        }
    }
}
