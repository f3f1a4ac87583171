package io.cnnlens.plot;

import io.cnnlens.image.PngWriter;
import io.cnnlens.tuning.LrRangeTest;
import io.cnnlens.tuning.SyntheticCurves;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tuning charts render (written to target/tuning-charts/ for looking at) and are not blank. */
class TuningChartsTest {

    @Test
    void chartsRender() throws Exception {
        Path dir = Path.of("target/tuning-charts");
        Files.createDirectories(dir);
        Random rnd = new Random(1);
        SyntheticCurves.Curve c = SyntheticCurves.make("overfitting", rnd);
        BufferedImage loss = TuningCharts.lossScatter("loss", c.loss(), 20, 760, 420);
        double[] ep = new double[c.valAcc().length];
        for (int i = 0; i < ep.length; i++) {
            ep[i] = i + 1;
        }
        BufferedImage acc = TuningCharts.lines("accuracy", "epoch", "accuracy",
                List.of(new TuningCharts.Curve("train", ep, c.trainAcc()), new TuningCharts.Curve("validation", ep, c.valAcc())), true, true, 760, 420);
        int n = 100;
        double[] lrs = new double[n];
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            lrs[i] = LrRangeTest.lr(1e-8, 1, n, i);
            double x = Math.log10(lrs[i]);
            l[i] = 2.3 - 1.5 / (1 + Math.exp(-(x + 3) * 2.5)) + (x > -2 ? Math.exp(3 * (x + 2)) - 1 : 0) + 0.05 * rnd.nextGaussian();
        }
        LrRangeTest.Result r = LrRangeTest.analyse(lrs, l);
        BufferedImage range = TuningCharts.rangeTest("range", r.lrs(), r.loss(), r.smoothed(), Map.of("suggested", r.suggestion()), 800, 480);
        double[] x = new double[30];
        double[] y = new double[30];
        double[] a = new double[30];
        for (int i = 0; i < 30; i++) {
            x[i] = Math.pow(10, -5 + 4 * rnd.nextDouble());
            y[i] = Math.pow(10, -6 + 5 * rnd.nextDouble());
            a[i] = 0.9 - 0.1 * Math.abs(Math.log10(x[i]) + 3);
        }
        BufferedImage hp = TuningCharts.scatter2d("hp", "lr", "weight-decay", x, y, a, true, true, 800, 560);
        int k = 0;
        for (BufferedImage img : List.of(loss, acc, range, hp)) {
            Files.write(dir.resolve("chart-" + (k++) + ".png"), PngWriter.encode(img));
            assertTrue(colours(img) > 3, "a chart with content");
        }
    }

    static int colours(BufferedImage img) {
        java.util.Set<Integer> s = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                s.add(img.getRGB(x, y));
            }
        }
        return s.size();
    }
}
