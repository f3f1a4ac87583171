package io.cnnlens.plot;

import io.cnnlens.image.Pixels;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Pictures of convolution weights and activation maps, as in the lecture:
 * <ul>
 * <li>first-layer filters, one tile each, every filter min–max scaled on its own; colour when the
 * layer reads 3 channels, grey otherwise;</li>
 * <li>a higher layer's filters as one grey tile per (output filter, input channel), one row per
 * filter (ConvNetJS style);</li>
 * <li>a layer's activation maps for one image: a grey tile per channel beside the input, all
 * channels on one scale (0 to the layer's maximum for that image) so weak channels look weak.</li>
 * </ul>
 */
public final class FilterGrid {

    private FilterGrid() {
    }

    /**
     * @param w weights in (out, in, kh, kw) order
     */
    public static BufferedImage firstLayer(String title, float[] w, int out, int in, int kh, int kw, int tile) {
        List<ImageGrid.Tile> tiles = new ArrayList<>();
        int per = in * kh * kw;
        for (int o = 0; o < out; o++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < per; j++) {
                lo = Math.min(lo, w[o * per + j]);
                hi = Math.max(hi, w[o * per + j]);
            }
            float range = hi > lo ? hi - lo : 1;
            int channels = in == 3 ? 3 : 1;
            float[] px = new float[channels * kh * kw];
            for (int c = 0; c < channels; c++) {
                for (int j = 0; j < kh * kw; j++) {
                    // grey for a 1-channel input; with another channel count, the mean over channels
                    float v = 0;
                    if (in == 3 || in == 1) {
                        v = w[o * per + c * kh * kw + j];
                    } else {
                        for (int i = 0; i < in; i++) {
                            v += w[o * per + i * kh * kw + j] / in;
                        }
                    }
                    px[c * kh * kw + j] = 255f * (v - lo) / range;
                }
            }
            tiles.add(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(kw, kh, channels, px)), String.valueOf(o), null));
        }
        int cols = (int) Math.ceil(Math.sqrt(out * 1.6));
        List<List<ImageGrid.Tile>> rows = new ArrayList<>();
        for (int i = 0; i < tiles.size(); i += cols) {
            rows.add(tiles.subList(i, Math.min(tiles.size(), i + cols)));
        }
        return ImageGrid.render(title, null, rows, tile);
    }

    /** One row per output filter, one grey tile per input channel (each tile min–max scaled). */
    public static BufferedImage perInputChannel(String title, float[] w, int out, int in, int kh, int kw, int maxOut, int maxIn, int tile) {
        int per = in * kh * kw;
        List<List<ImageGrid.Tile>> rows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int o = 0; o < Math.min(out, maxOut); o++) {
            List<ImageGrid.Tile> row = new ArrayList<>();
            for (int i = 0; i < Math.min(in, maxIn); i++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                int base = o * per + i * kh * kw;
                for (int j = 0; j < kh * kw; j++) {
                    lo = Math.min(lo, w[base + j]);
                    hi = Math.max(hi, w[base + j]);
                }
                float range = hi > lo ? hi - lo : 1;
                float[] px = new float[kh * kw];
                for (int j = 0; j < kh * kw; j++) {
                    px[j] = 255f * (w[base + j] - lo) / range;
                }
                row.add(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(kw, kh, 1, px)), null, null));
            }
            rows.add(row);
            labels.add("filter " + o);
        }
        String shown = String.format(Locale.ROOT, "%s (%d of %d filters × %d of %d input channels)", title, Math.min(out, maxOut), out,
                Math.min(in, maxIn), in);
        return ImageGrid.render(shown, labels, rows, tile);
    }

    /** The input image, then every channel of a C×H×W activation map as a grey tile on one common scale. */
    public static BufferedImage activations(String title, Pixels input, float[] map, int c, int h, int w, int tile) {
        float max = 0;
        for (float v : map) {
            max = Math.max(max, v);
        }
        float scale = max > 0 ? 255f / max : 0;
        List<ImageGrid.Tile> tiles = new ArrayList<>();
        for (int ch = 0; ch < c; ch++) {
            float[] px = new float[h * w];
            for (int j = 0; j < h * w; j++) {
                px[j] = Math.max(0, map[ch * h * w + j]) * scale;
            }
            tiles.add(new ImageGrid.Tile(ImageGrid.toImage(new Pixels(w, h, 1, px)), String.valueOf(ch), null));
        }
        int cols = (int) Math.ceil(Math.sqrt(c * 1.6));
        List<List<ImageGrid.Tile>> rows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        rows.add(List.of(new ImageGrid.Tile(ImageGrid.toImage(input), "input", null)));
        labels.add("");
        for (int i = 0; i < tiles.size(); i += cols) {
            rows.add(tiles.subList(i, Math.min(tiles.size(), i + cols)));
            labels.add("");
        }
        return ImageGrid.render(String.format(Locale.ROOT, "%s (black 0 … white %.2f)", title, max), null, rows, tile);
    }
}
