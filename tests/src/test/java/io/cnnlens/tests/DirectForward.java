package io.cnnlens.tests;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelSpec;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * An independent reference for the features job: reads PNGs at the model's input size with plain
 * ImageIO rasters (not cnnlens' decoder or preprocessor), normalises by hand, and runs the
 * model's block directly (not through ModelForward).
 */
final class DirectForward {

    private DirectForward() {
    }

    /** fc7 and logits rows for {@code files}, in order: {fc7[][], logits[][]}. */
    static float[][][] run(ModelSpec spec, List<Path> files) throws IOException {
        int c = spec.channels();
        int h = spec.height();
        int w = spec.width();
        float[] input = new float[files.size() * c * h * w];
        for (int i = 0; i < files.size(); i++) {
            BufferedImage img = ImageIO.read(files.get(i).toFile());
            if (img.getWidth() != w || img.getHeight() != h || img.getRaster().getNumBands() < c) {
                throw new IllegalArgumentException(files.get(i) + " is not a " + w + "x" + h + "x" + c + " image");
            }
            Raster r = img.getRaster();
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        float v = r.getSample(x, y, ch) / 255f;
                        input[((i * c + ch) * h + y) * w + x] = (v - spec.mean()[ch]) / spec.std()[ch];
                    }
                }
            }
        }
        try (LoadedModel model = LoadedModel.load(spec, Device.cpu(), false);
             NDManager m = model.model().getNDManager().newSubManager()) {
            NDList out = model.block().forward(new ParameterStore(m, false),
                    new NDList(m.create(input, new Shape(files.size(), c, h, w))), false);
            return new float[][][] {
                    rows(out.get(spec.featuresTap()).toFloatArray(), files.size()),
                    rows(out.get(spec.logitsTap()).toFloatArray(), files.size())};
        }
    }

    private static float[][] rows(float[] flat, int n) {
        int d = flat.length / n;
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
