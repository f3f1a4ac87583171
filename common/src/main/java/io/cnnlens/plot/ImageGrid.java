package io.cnnlens.plot;

import io.cnnlens.image.Pixels;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Pictures made of tiles: rows of equally sized images, a label left of each row, an optional
 * caption under each tile and a title on top. Small images are scaled up without smoothing so
 * pixels stay visible. Used for patch grids, neighbour grids and thumbnail mosaics.
 */
public final class ImageGrid {

    /** One tile: an image, a caption (or null) and a border colour (or null). */
    public record Tile(BufferedImage image, String caption, Color border) {
    }

    private static final Color BACKGROUND = new Color(250, 250, 250);
    private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);

    private ImageGrid() {
    }

    /**
     * @param rows      tiles per row (a null tile leaves its cell empty)
     * @param rowLabels one per row, or null for none
     * @param tile      tile edge in pixels
     */
    public static BufferedImage render(String title, List<String> rowLabels, List<List<Tile>> rows, int tile) {
        int cols = rows.stream().mapToInt(List::size).max().orElse(0);
        boolean captions = rows.stream().flatMap(List::stream).anyMatch(t -> t != null && t.caption() != null);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(FONT);
        int labelW = 0;
        if (rowLabels != null) {
            for (String l : rowLabels) {
                labelW = Math.max(labelW, fm.stringWidth(l == null ? "" : l) + 12);
            }
        }
        pg.dispose();
        int gap = 4;
        int captionH = captions ? fm.getHeight() + 2 : 0;
        int titleH = title == null ? 0 : 26;
        int cellH = tile + captionH + gap;
        int width = Math.max(labelW + cols * (tile + gap) + gap, title == null ? 0 : 8 * title.length() + 20);
        int height = titleH + rows.size() * cellH + gap;
        BufferedImage out = new BufferedImage(Math.max(1, width), Math.max(1, height), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(BACKGROUND);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setColor(Color.DARK_GRAY);
        if (title != null) {
            g.setFont(TITLE);
            g.drawString(title, gap + 2, 18);
        }
        g.setFont(FONT);
        for (int r = 0; r < rows.size(); r++) {
            int y = titleH + r * cellH + gap;
            if (rowLabels != null && rowLabels.get(r) != null) {
                g.setColor(Color.DARK_GRAY);
                g.drawString(rowLabels.get(r), 4, y + tile / 2 + fm.getAscent() / 2);
            }
            List<Tile> row = rows.get(r);
            for (int c = 0; c < row.size(); c++) {
                Tile t = row.get(c);
                if (t == null) {
                    continue;
                }
                int x = labelW + gap + c * (tile + gap);
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
                        t.image().getWidth() < tile ? RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR
                                : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                drawFitted(g, t.image(), x, y, tile);
                if (t.border() != null) {
                    g.setColor(t.border());
                    g.setStroke(new BasicStroke(2));
                    g.drawRect(x - 1, y - 1, tile + 1, tile + 1);
                }
                if (t.caption() != null) {
                    g.setColor(Color.DARK_GRAY);
                    String cap = ellipsize(t.caption(), fm, tile);
                    g.drawString(cap, x + (tile - fm.stringWidth(cap)) / 2, y + tile + fm.getAscent() + 1);
                }
            }
        }
        g.dispose();
        return out;
    }

    /** Draws {@code img} scaled to fit a square of edge {@code size}, centred, aspect kept. */
    public static void drawFitted(Graphics2D g, BufferedImage img, int x, int y, int size) {
        double s = Math.min(size / (double) img.getWidth(), size / (double) img.getHeight());
        int w = Math.max(1, (int) Math.round(img.getWidth() * s));
        int h = Math.max(1, (int) Math.round(img.getHeight() * s));
        g.drawImage(img, x + (size - w) / 2, y + (size - h) / 2, w, h, null);
    }

    private static String ellipsize(String s, FontMetrics fm, int width) {
        if (fm.stringWidth(s) <= width) {
            return s;
        }
        String t = s;
        while (t.length() > 1 && fm.stringWidth(t + "…") > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t + "…";
    }

    /** An image from 0..255 planar pixels (grey for 1 channel, RGB for 3). */
    public static BufferedImage toImage(Pixels p) {
        int w = p.width();
        int h = p.height();
        int plane = w * h;
        float[] d = p.data();
        if (p.channels() == 1) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            byte[] b = new byte[plane];
            for (int i = 0; i < plane; i++) {
                b[i] = (byte) clamp(d[i]);
            }
            img.getRaster().setDataElements(0, 0, w, h, b);
            return img;
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = (clamp(d[i]) << 16) | (clamp(d[plane + i]) << 8) | clamp(d[2 * plane + i]);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    private static int clamp(float v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }
}
