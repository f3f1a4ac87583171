package io.cnnlens.plot;

import io.cnnlens.tuning.CurveDiagnosis;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The tuning job's charts (XChart): loss curves, accuracy curves, range test, hyperparameter scatter, best-so-far. */
public final class TuningCharts {

    private static final Color[] PALETTE = {
            new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
            new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC)};

    private TuningCharts() {
    }

    /** A named curve. */
    public record Curve(String name, double[] x, double[] y) {
    }

    /** One trial's per-iteration loss as a scatter with its moving average over {@code window} iterations. */
    public static BufferedImage lossScatter(String title, float[] loss, int window, int width, int height) {
        double[] x = new double[loss.length];
        double[] y = new double[loss.length];
        List<Double> fx = new ArrayList<>();
        List<Double> fy = new ArrayList<>();
        for (int i = 0; i < loss.length; i++) {
            x[i] = i + 1;
            y[i] = loss[i];
            if (Float.isFinite(loss[i])) {
                fx.add(x[i]);
                fy.add((double) loss[i]);
            }
        }
        XYChart c = chart(title, "iteration", "training loss", width, height);
        if (fx.isEmpty()) {
            fx.add(0.0);
            fy.add(0.0);
        }
        XYSeries pts = c.addSeries("loss", toArray(fx), toArray(fy));
        pts.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        pts.setMarker(SeriesMarkers.CIRCLE);
        pts.setMarkerColor(new Color(0x4E79A7, false));
        double[] fyArr = toArray(fy);
        float[] ff = new float[fyArr.length];
        for (int i = 0; i < ff.length; i++) {
            ff[i] = (float) fyArr[i];
        }
        double[] ma = movingAverage(ff, window);
        XYSeries line = c.addSeries("moving average (" + window + ")", toArray(fx), ma);
        line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        line.setMarker(SeriesMarkers.NONE);
        line.setLineColor(new Color(0xE15759));
        line.setLineStyle(new BasicStroke(2.5f));
        c.getStyler().setMarkerSize(3);
        return paint(c, width, height);
    }

    /** Lines (e.g. training and validation accuracy per epoch; or several trials' moving averages). */
    public static BufferedImage lines(String title, String xTitle, String yTitle, List<Curve> curves, boolean markers, boolean legend,
                                      int width, int height) {
        XYChart c = chart(title, xTitle, yTitle, width, height);
        c.getStyler().setLegendVisible(legend);
        int i = 0;
        for (Curve cv : curves) {
            if (cv.x().length == 0) {
                continue;
            }
            XYSeries s = c.addSeries(cv.name(), cv.x(), cv.y());
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            s.setLineColor(PALETTE[i % PALETTE.length]);
            s.setMarkerColor(PALETTE[i % PALETTE.length]);
            i++;
        }
        if (i == 0) {
            c.addSeries("(none)", new double[] {0}, new double[] {0});
        }
        return paint(c, width, height);
    }

    /** The range test: raw loss (points) and smoothed loss (line) against the learning rate (log axis), the suggestion and a reference lr marked. */
    public static BufferedImage rangeTest(String title, double[] lrs, double[] loss, double[] smoothed, Map<String, Double> marks,
                                          int width, int height) {
        XYChart c = chart(title, "learning rate (log scale)", "training loss", width, height);
        c.getStyler().setXAxisLogarithmic(true);
        List<Double> fx = new ArrayList<>();
        List<Double> fy = new ArrayList<>();
        List<Double> sx = new ArrayList<>();
        List<Double> sy = new ArrayList<>();
        double hi = 0;
        double lo = Double.POSITIVE_INFINITY;
        for (int i = 0; i < lrs.length; i++) {
            if (Double.isFinite(loss[i])) {
                fx.add(lrs[i]);
                fy.add(loss[i]);
            }
            if (Double.isFinite(smoothed[i])) {
                sx.add(lrs[i]);
                sy.add(smoothed[i]);
                hi = Math.max(hi, smoothed[i]);
                lo = Math.min(lo, smoothed[i]);
            }
        }
        XYSeries raw = c.addSeries("loss", toArray(fx), toArray(fy));
        raw.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        raw.setMarker(SeriesMarkers.CIRCLE);
        raw.setMarkerColor(new Color(0x4E79A7));
        XYSeries sm = c.addSeries("smoothed (EMA, bias-corrected)", toArray(sx), toArray(sy));
        sm.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        sm.setMarker(SeriesMarkers.NONE);
        sm.setLineColor(new Color(0xE15759));
        sm.setLineStyle(new BasicStroke(2.5f));
        // the y range the reader needs: from below the minimum to a bit above the starting loss (the blow-up is clipped)
        double top = sy.isEmpty() ? 1 : 1.6 * sy.get(0);
        int i = 4;
        for (Map.Entry<String, Double> m : marks.entrySet()) {
            if (!Double.isFinite(m.getValue())) {
                continue;
            }
            XYSeries v = c.addSeries(m.getKey(), new double[] {m.getValue(), m.getValue()}, new double[] {Math.max(0, lo * 0.8), top});
            v.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            v.setMarker(SeriesMarkers.NONE);
            v.setLineColor(PALETTE[i++ % PALETTE.length]);
            v.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        }
        c.getStyler().setMarkerSize(4);
        c.getStyler().setYAxisMax(top);
        c.getStyler().setYAxisMin(0.0);
        return paint(c, width, height);
    }

    /**
     * Validation accuracy over two hyperparameters (log axes where asked): each trial a point, coloured by its accuracy
     * band (Bergstra &amp; Bengio's grid-vs-random picture with this search's trials).
     */
    public static BufferedImage scatter2d(String title, String xName, String yName, double[] x, double[] y, double[] acc,
                                          boolean logX, boolean logY, int width, int height) {
        XYChart c = chart(title, xName + (logX ? " (log)" : ""), yName + (logY ? " (log)" : ""), width, height);
        c.getStyler().setXAxisLogarithmic(logX);
        c.getStyler().setYAxisLogarithmic(logY);
        double max = 0;
        for (double a : acc) {
            if (Double.isFinite(a)) {
                max = Math.max(max, a);
            }
        }
        double[][] bands = {{max - 0.01, 2}, {max - 0.05, max - 0.01}, {max - 0.2, max - 0.05}, {-1, max - 0.2}};
        String[] names = {"within 0.01 of best", "within 0.05", "within 0.2", "worse / diverged"};
        Color[] colors = {new Color(0xB2182B), new Color(0xEF8A62), new Color(0x67A9CF), new Color(0x999999)};
        boolean any = false;
        for (int b = 0; b < bands.length; b++) {
            List<Double> bx = new ArrayList<>();
            List<Double> by = new ArrayList<>();
            for (int i = 0; i < x.length; i++) {
                double a = Double.isFinite(acc[i]) ? acc[i] : -0.5;
                if (a > bands[b][0] && a <= bands[b][1]) {
                    bx.add(x[i]);
                    by.add(y[i]);
                }
            }
            if (bx.isEmpty()) {
                continue;
            }
            XYSeries s = c.addSeries(names[b], toArray(bx), toArray(by));
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(colors[b]);
            any = true;
        }
        if (!any) {
            c.addSeries("(none)", new double[] {1}, new double[] {1});
        }
        c.getStyler().setMarkerSize(10);
        return paint(c, width, height);
    }

    /** Trailing moving average over {@code w} points: the diagnosis's own ({@link CurveDiagnosis#movingAverage}). */
    public static double[] movingAverage(float[] v, int w) {
        return CurveDiagnosis.movingAverage(v, w);
    }

    private static XYChart chart(String title, String xTitle, String yTitle, int width, int height) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setPlotGridLinesVisible(true);
        return c;
    }

    private static BufferedImage paint(XYChart c, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        c.paint(g, width, height);
        g.dispose();
        return img;
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
