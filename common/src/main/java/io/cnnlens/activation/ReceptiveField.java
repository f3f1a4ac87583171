package io.cnnlens.activation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a unit of a conv or pooling layer looks in the input image, from the chain of layers'
 * kernel size, stride and padding (square, as in AlexNet/VGG). For layer L with layers 1..L
 * below it: jump {@code J_L = Π s_i}, size {@code R_L = 1 + Σ (k_i − 1)·J_{i−1}}, offset
 * {@code P_L = Σ p_i·J_{i−1}}; unit {@code u} along one axis covers input pixels
 * {@code [u·J_L − P_L, u·J_L − P_L + R_L)}. Dilation is not modelled.
 *
 * <p>The chain is written as in a model spec's {@code layers.geometry}:
 * {@code "conv1 k11 s4 p2, pool1 k3 s2, conv2 k5 s1 p2, ..."} (stride 1 and padding 0 when left out).
 */
public final class ReceptiveField {

    /** One layer of the chain. */
    public record Layer(String name, int kernel, int stride, int padding) {
        public Layer {
            if (kernel < 1 || stride < 1 || padding < 0) {
                throw new IllegalArgumentException("bad geometry for layer " + name + ": k" + kernel + " s" + stride + " p" + padding);
            }
        }
    }

    /** The field of one layer: size, jump (stride in input pixels) and offset (total padding). */
    public record Field(String layer, int size, int jump, int offset) implements java.io.Serializable {
        /** Input box {x0, y0, x1, y1} (x1, y1 exclusive) of unit (y, x), before clipping to the image. */
        public int[] box(int y, int x) {
            int x0 = x * jump - offset;
            int y0 = y * jump - offset;
            return new int[] {x0, y0, x0 + size, y0 + size};
        }

        /** {@link #box} clipped to a {@code width}×{@code height} input. */
        public int[] clippedBox(int y, int x, int width, int height) {
            int[] b = box(y, x);
            return new int[] {Math.max(0, b[0]), Math.max(0, b[1]), Math.min(width, b[2]), Math.min(height, b[3])};
        }
    }

    private static final Pattern LAYER = Pattern.compile("([\\w.\\-]+)((?:\\s+[ksp]\\d+)+)");
    private static final Pattern PARAM = Pattern.compile("([ksp])(\\d+)");

    private final List<Layer> layers;

    public ReceptiveField(List<Layer> layers) {
        this.layers = List.copyOf(layers);
    }

    /** Parses a spec's {@code layers.geometry}; an empty string gives an empty chain. */
    public static ReceptiveField parse(String geometry) {
        List<Layer> out = new ArrayList<>();
        if (geometry == null || geometry.isBlank()) {
            return new ReceptiveField(out);
        }
        for (String part : geometry.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) {
                continue;
            }
            Matcher m = LAYER.matcher(t);
            if (!m.matches()) {
                throw new IllegalArgumentException("cannot read layer geometry '" + t + "' (expected e.g. 'conv1 k11 s4 p2')");
            }
            int k = -1;
            int s = 1;
            int p = 0;
            Matcher pm = PARAM.matcher(m.group(2));
            while (pm.find()) {
                int v = Integer.parseInt(pm.group(2));
                switch (pm.group(1)) {
                    case "k" -> k = v;
                    case "s" -> s = v;
                    default -> p = v;
                }
            }
            if (k < 0) {
                throw new IllegalArgumentException("layer geometry '" + t + "' has no kernel size (k…)");
            }
            out.add(new Layer(m.group(1), k, s, p));
        }
        return new ReceptiveField(out);
    }

    public List<Layer> layers() {
        return layers;
    }

    /** The field of the named layer's output units. */
    public Field of(String layer) {
        int size = 1;
        int jump = 1;
        int offset = 0;
        for (Layer l : layers) {
            size += (l.kernel() - 1) * jump;
            offset += l.padding() * jump;
            jump *= l.stride();
            if (l.name().equals(layer)) {
                return new Field(layer, size, jump, offset);
            }
        }
        List<String> names = layers.stream().map(Layer::name).toList();
        throw new IllegalArgumentException(names.isEmpty()
                ? "the model spec gives no layers.geometry, so receptive fields of '" + layer + "' are unknown"
                : String.format(Locale.ROOT, "layer '%s' is not in the model's layers.geometry %s", layer, names));
    }
}
