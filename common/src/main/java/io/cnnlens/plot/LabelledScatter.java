package io.cnnlens.plot;

import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.awt.Graphics2D;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A 2-D scatter plot of points coloured by label, with a legend (XChart). */
public final class LabelledScatter {

    /** Ten well-separated colours (Tableau 10), then greys for further labels. */
    private static final Color[] PALETTE = {
            new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
            new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC)};

    private LabelledScatter() {
    }

    /**
     * @param labels one per point; null is drawn as "(no label)"
     */
    public static BufferedImage render(String title, double[] x, double[] y, List<String> labels, int width, int height) {
        Map<String, double[][]> series = group(x, y, labels);
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle("").yAxisTitle("").build();
        XYStyler s = chart.getStyler();
        s.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarkerSize(x.length > 3_000 ? 3 : 5);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridLinesVisible(false);
        int i = 0;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            XYSeries ser = chart.addSeries(e.getKey(), e.getValue()[0], e.getValue()[1]);
            ser.setMarker(SeriesMarkers.CIRCLE);
            ser.setMarkerColor(i < PALETTE.length ? PALETTE[i] : Color.GRAY);
            i++;
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        chart.paint(g, width, height);
        g.dispose();
        return img;
    }

    private static Map<String, double[][]> group(double[] x, double[] y, List<String> labels) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String l : labels) {
            counts.merge(l == null ? "(no label)" : l, 1, Integer::sum);
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        Map<String, Integer> fill = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            out.put(e.getKey(), new double[][] {new double[e.getValue()], new double[e.getValue()]});
            fill.put(e.getKey(), 0);
        }
        for (int i = 0; i < x.length; i++) {
            String l = labels.get(i) == null ? "(no label)" : labels.get(i);
            int at = fill.merge(l, 1, Integer::sum) - 1;
            out.get(l)[0][at] = x[i];
            out.get(l)[1][at] = y[i];
        }
        return out;
    }
}
