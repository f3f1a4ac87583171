package io.cnnlens.plot;

import io.cnnlens.image.Pixels;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Locale;

/**
 * A saliency map drawn over its image, with its colour scale. Magnitudes (≥ 0) use the
 * "inferno" scale from 0 to the map's maximum; signed maps use a blue–white–red scale symmetric
 * about 0 (±max |value|). The image is shown in grey beneath, the map blended at 60 %.
 */
public final class Heatmap {

    /** inferno, sampled at 8 stops (matplotlib's colour map). */
    private static final int[][] INFERNO = {
            {0, 0, 4}, {40, 11, 84}, {101, 21, 110}, {159, 42, 99}, {212, 72, 66}, {245, 125, 21}, {250, 193, 39}, {252, 255, 164}};

    private Heatmap() {
    }

    /** The colour of {@code t} in [0, 1] (magnitudes) or [−1, 1] (signed). */
    public static Color colour(double t, boolean signed) {
        if (signed) {
            double a = Math.max(-1, Math.min(1, t));
            int fade = (int) Math.round(255 * (1 - Math.abs(a)));
            return a >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
        }
        double x = Math.max(0, Math.min(1, t)) * (INFERNO.length - 1);
        int i = Math.min(INFERNO.length - 2, (int) x);
        double f = x - i;
        int[] a = INFERNO[i];
        int[] b = INFERNO[i + 1];
        return new Color((int) Math.round(a[0] + f * (b[0] - a[0])), (int) Math.round(a[1] + f * (b[1] - a[1])),
                (int) Math.round(a[2] + f * (b[2] - a[2])));
    }

    /**
     * @param image the model-input image (0..255), the map's size
     * @param map   H×W values, row-major
     * @param scale display pixels per map pixel
     */
    public static BufferedImage overlay(Pixels image, float[] map, boolean signed, int scale, String title) {
        int w = image.width();
        int h = image.height();
        double bound = 0;
        for (float v : map) {
            bound = Math.max(bound, signed ? Math.abs(v) : v);
        }
        double norm = bound > 0 ? bound : 1;
        int plane = w * h;
        float[] d = image.data();
        BufferedImage heat = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                double grey = image.channels() == 1 ? d[p] : 0.299 * d[p] + 0.587 * d[plane + p] + 0.114 * d[2 * plane + p];
                Color c = colour(map[p] / norm, signed);
                double a = 0.6;
                int r = (int) Math.round(a * c.getRed() + (1 - a) * grey);
                int g = (int) Math.round(a * c.getGreen() + (1 - a) * grey);
                int b = (int) Math.round(a * c.getBlue() + (1 - a) * grey);
                heat.setRGB(x, y, (clamp(r) << 16) | (clamp(g) << 8) | clamp(b));
            }
        }
        int bar = 14;
        int labelW = 52;
        int top = title == null ? 0 : 16;
        int outW = w * scale + 6 + bar + labelW;
        int outH = Math.max(h * scale, 60) + top;
        BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, outW, outH);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.drawImage(heat, 0, top, w * scale, h * scale, null);
        int bx = w * scale + 6;
        int bh = h * scale;
        for (int y = 0; y < bh; y++) {
            double t = 1 - y / (double) Math.max(1, bh - 1);
            g.setColor(colour(signed ? 2 * t - 1 : t, signed));
            g.drawLine(bx, top + y, bx + bar - 1, top + y);
        }
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        g.drawString(number(signed ? bound : bound), bx + bar + 3, top + 10);
        g.drawString(number(signed ? -bound : 0), bx + bar + 3, top + bh - 2);
        if (signed) {
            g.drawString("0", bx + bar + 3, top + bh / 2 + 4);
        }
        if (title != null) {
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
            g.drawString(title, 2, 12);
        }
        g.dispose();
        return out;
    }

    private static String number(double v) {
        if (v == 0) {
            return "0";
        }
        return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String.format(Locale.ROOT, "%.3g", v) : String.format(Locale.ROOT, "%.1e", v);
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
