package io.cnnlens.jobs.tune;

import io.cnnlens.image.PngWriter;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.plot.TuningCharts;
import io.cnnlens.tuning.CurveDiagnosis;
import io.cnnlens.tuning.Recipe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The search's pictures: per trial the loss (scatter + moving average) and the train/val accuracy curves, titled with its
 * diagnosis; all trials' smoothed losses and validation accuracies on one plot each; validation accuracy over the two
 * most important hyperparameters.
 */
final class TunePictures {

    /** Per-trial pictures are drawn for at most this many trials (the best by validation accuracy, and the final one). */
    static final int MAX_TRIAL_PICTURES = 40;

    private TunePictures() {
    }

    static void write(TableCommitter c, List<TrialRecord> records, String dir) {
        List<TrialRecord> drawn = records.stream().sorted(Comparator.comparingDouble((TrialRecord r) -> r.round().equals("final") ? 2 : r.bestValAcc())
                .reversed()).limit(MAX_TRIAL_PICTURES).toList();
        for (TrialRecord r : drawn) {
            String title = String.format(Locale.ROOT, "%s: %s", r.id(), r.diagnosis());
            int w = Math.max(3, r.loss().length / 20);
            c.writeFile(dir, "trials/" + r.id() + "-loss.png", PngWriter.encode(TuningCharts.lossScatter(
                    title + String.format(Locale.ROOT, " (lr %s, wd %s)", r.recipe().get("lr"), r.recipe().get("weight-decay")),
                    r.loss(), w, 760, 420)));
            double[] ep = new double[r.valAcc().length];
            for (int i = 0; i < ep.length; i++) {
                ep[i] = i + 1;
            }
            c.writeFile(dir, "trials/" + r.id() + "-accuracy.png", PngWriter.encode(TuningCharts.lines(
                    String.format(Locale.ROOT, "%s: train/val accuracy (best val %.4f)", r.id(), r.bestValAcc()), "epoch", "accuracy",
                    List.of(new TuningCharts.Curve("train", ep, r.trainAcc()), new TuningCharts.Curve("validation", ep, r.valAcc())),
                    true, true, 760, 420)));
        }
        List<TuningCharts.Curve> losses = new ArrayList<>();
        List<TuningCharts.Curve> vals = new ArrayList<>();
        for (TrialRecord r : records) {
            int w = Math.max(3, r.loss().length / 20);
            double[] ma = CurveDiagnosis.movingAverage(r.loss(), w);
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < ma.length; i++) {
                if (Double.isFinite(ma[i])) {
                    xs.add(i + 1.0);
                    ys.add(Math.min(ma[i], 10));
                }
            }
            losses.add(new TuningCharts.Curve(r.id(), xs.stream().mapToDouble(Double::doubleValue).toArray(),
                    ys.stream().mapToDouble(Double::doubleValue).toArray()));
            double[] ep = new double[r.valAcc().length];
            for (int i = 0; i < ep.length; i++) {
                ep[i] = i + 1;
            }
            vals.add(new TuningCharts.Curve(r.id(), ep, r.valAcc()));
        }
        c.writeFile(dir, "all-loss.png", PngWriter.encode(TuningCharts.lines("All trials: training loss (moving average, capped at 10)",
                "iteration", "training loss", losses, false, false, 900, 520)));
        c.writeFile(dir, "all-val-accuracy.png", PngWriter.encode(TuningCharts.lines("All trials: validation accuracy per epoch",
                "epoch", "validation accuracy", vals, true, false, 900, 520)));
        // the two most important hyperparameters: largest |rank correlation| of their value with best validation accuracy
        List<TrialRecord> top = records.stream().filter(r -> !r.round().equals("final")).toList();
        List<String> names = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        for (String n : Recipe.NAMES) {
            if (n.equals("epochs")) {
                continue;
            }
            double[] v = top.stream().mapToDouble(r -> Recipe.of(r.recipe()).numeric(n)).toArray();
            if (v.length < 3 || Double.isNaN(v[0]) || java.util.Arrays.stream(v).distinct().count() < 2) {
                continue;
            }
            double[] a = top.stream().mapToDouble(r -> Double.isFinite(r.bestValAcc()) ? r.bestValAcc() : 0).toArray();
            names.add(n);
            scores.add(Math.abs(spearman(v, a)));
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> scores.get(i)).reversed());
        if (order.size() >= 2) {
            String x = names.get(order.get(0));
            String y = names.get(order.get(1));
            double[] xv = top.stream().mapToDouble(r -> Recipe.of(r.recipe()).numeric(x)).toArray();
            double[] yv = top.stream().mapToDouble(r -> Recipe.of(r.recipe()).numeric(y)).toArray();
            double[] acc = top.stream().mapToDouble(r -> r.status().equals("ok") ? r.bestValAcc() : Double.NaN).toArray();
            boolean lx = java.util.Arrays.stream(xv).allMatch(v -> v > 0) && max(xv) / min(xv) > 20;
            boolean ly = java.util.Arrays.stream(yv).allMatch(v -> v > 0) && max(yv) / min(yv) > 20;
            c.writeFile(dir, "hyperparameters.png", PngWriter.encode(TuningCharts.scatter2d(String.format(Locale.ROOT,
                    "Validation accuracy over %s × %s (|rank corr.| %.2f, %.2f), %d trials", x, y, scores.get(order.get(0)), scores.get(order.get(1)),
                    top.size()), x, y, xv, yv, acc, lx, ly, 800, 560)));
        }
    }

    static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(1);
    }

    static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElse(1);
    }

    /** Spearman's rank correlation (average ranks for ties). */
    static double spearman(double[] a, double[] b) {
        double[] ra = ranks(a);
        double[] rb = ranks(b);
        double ma = java.util.Arrays.stream(ra).average().orElse(0);
        double mb = java.util.Arrays.stream(rb).average().orElse(0);
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        return saa == 0 || sbb == 0 ? 0 : sab / Math.sqrt(saa * sbb);
    }

    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) {
                j++;
            }
            for (int k = i; k <= j; k++) {
                r[idx[k]] = (i + j) / 2.0;
            }
            i = j + 1;
        }
        return r;
    }
}
