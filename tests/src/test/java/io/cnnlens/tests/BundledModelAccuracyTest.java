package io.cnnlens.tests;

import ai.djl.Device;
import io.cnnlens.data.FashionMnist;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.PngWriter;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed weights of the bundled model on all 10,000 Fashion-MNIST test images (Debian's
 * dataset-fashion-mnist), through the same decode → preprocess → forward path the jobs use:
 * each test image is encoded as PNG and decoded again, as a user's files would be.
 */
class BundledModelAccuracyTest {

    static final Path DATA = Path.of(System.getProperty("cnnlens.fashion-mnist", "/usr/share/datasets/fashion-mnist"));

    @Test
    void testAccuracyIsAtLeast091() throws Exception {
        FashionMnist.Split test = FashionMnist.test(DATA);
        assertEquals(10_000, test.size());
        ModelSpec spec = ModelSpec.load(SparkTestBase.bundledSpec());
        assertEquals(FashionMnist.CLASSES, spec.labels());
        Preprocessor pre = new Preprocessor(spec);
        ImageDecoder decoder = new ImageDecoder(1_000_000);
        int per = pre.floatsPerImage();
        int correct = 0;
        int batch = 500;
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), false); ModelForward f = m.newForward()) {
            for (int start = 0; start < test.size(); start += batch) {
                float[] input = new float[batch * per];
                for (int i = 0; i < batch; i++) {
                    byte[] png = PngWriter.grey(test.images()[start + i], FashionMnist.SIDE, FashionMnist.SIDE);
                    pre.apply(decoder.decode(png), input, i * per);
                }
                float[][] logits = f.run(input, batch, List.of("logits"), List.of()).values("logits");
                for (int i = 0; i < batch; i++) {
                    if (Predictions.argmax(logits[i]) == test.labels()[start + i]) {
                        correct++;
                    }
                }
            }
        }
        double accuracy = correct / 10_000.0;
        System.out.printf("bundled model test accuracy: %.4f (%d / 10000)%n", accuracy, correct);
        assertTrue(accuracy >= 0.91, "test accuracy " + accuracy);
    }
}
