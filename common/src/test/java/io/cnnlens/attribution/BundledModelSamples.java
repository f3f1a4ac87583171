package io.cnnlens.attribution;

import ai.djl.Device;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The bundled Fashion-MNIST model (loaded with gradients, on the CPU), one forward context and
 * {@code n} sample images of different classes (every 400th file of the sample, from the 8th),
 * preprocessed, with the class the model predicts for each.
 */
final class BundledModelSamples implements AutoCloseable {

    final LoadedModel model;
    final ModelForward forward;
    final int n;
    final float[] input;
    final int[] predicted;

    private BundledModelSamples(LoadedModel model, int n, float[] input) {
        this.model = model;
        this.forward = model.newForward();
        this.n = n;
        this.input = input;
        float[][] s = Gradients.scores(forward, input, n);
        this.predicted = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 1; k < s[i].length; k++) {
                if (s[i][k] > s[i][predicted[i]]) {
                    predicted[i] = k;
                }
            }
        }
    }

    static BundledModelSamples open(int n) throws IOException, io.cnnlens.image.DecodeException {
        Path home = Path.of(System.getProperty("cnnlens.home", "..")).toAbsolutePath().normalize();
        ModelSpec spec = ModelSpec.load(home.resolve("conf/models/fashion-alexnet.properties"));
        Preprocessor pre = new Preprocessor(spec);
        List<Path> files;
        try (Stream<Path> w = Files.walk(home.resolve("conf/sample/fashion-mnist"))) {
            files = w.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        float[] input = new float[n * pre.floatsPerImage()];
        ImageDecoder d = new ImageDecoder(1_000_000);
        for (int i = 0; i < n; i++) {
            pre.apply(d.decode(Files.readAllBytes(files.get(i * 400 + 7))), input, i * pre.floatsPerImage());
        }
        return new BundledModelSamples(LoadedModel.load(spec, Device.cpu(), true), n, input);
    }

    ModelSpec spec() {
        return model.spec();
    }

    int perImage() {
        return input.length / n;
    }

    /** Image {@code i} alone. */
    float[] image(int i) {
        return java.util.Arrays.copyOfRange(input, i * perImage(), (i + 1) * perImage());
    }

    @Override
    public void close() {
        forward.close();
        model.close();
    }
}
