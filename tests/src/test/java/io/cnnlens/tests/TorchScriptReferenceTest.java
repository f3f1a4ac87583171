package io.cnnlens.tests;

import io.cnnlens.jobs.features.FeaturesOptions;

import io.cnnlens.jobs.SharedOptions;

import io.cnnlens.jobs.OptionValues;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cnnlens.image.ImageDecoder;
import io.cnnlens.image.Preprocessor;
import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A torchvision model exported by deploy/models/export_torchvision.py, checked against the
 * outputs PyTorch stored beside it. The model dir defaults to the committed SqueezeNet 1.1
 * fixture; {@code -Dcnnlens.reference.model=<dir>/<arch>.properties} checks another export
 * (AlexNet, VGG16, ResNet-50) the same way.
 */
class TorchScriptReferenceTest extends SparkTestBase {

    @TempDir
    Path tmp;

    static Path specFile() {
        String other = System.getProperty("cnnlens.reference.model");
        return other != null && !other.isBlank() ? Path.of(other) : resource("models/squeezenet1_1/squeezenet1_1.properties");
    }

    /** One array of PyTorch's reference, with its shape. */
    record Ref(float[] data, int[] shape) {
        float[] row(int i) {
            int d = data.length / shape[0];
            float[] r = new float[d];
            System.arraycopy(data, i * d, r, 0, d);
            return r;
        }
    }

    static JsonObject meta(Path refDir) throws IOException {
        return JsonParser.parseString(Files.readString(refDir.resolve("reference.json"))).getAsJsonObject();
    }

    static Ref array(Path refDir, String key) throws IOException {
        JsonObject a = meta(refDir).getAsJsonObject("arrays").getAsJsonObject(key);
        byte[] raw = Files.readAllBytes(refDir.resolve(a.get("file").getAsString()));
        float[] f = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        int[] shape = new int[a.getAsJsonArray("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = a.getAsJsonArray("shape").get(i).getAsInt();
        }
        return new Ref(f, shape);
    }

    static List<Path> images(Path refDir) throws IOException {
        List<Path> out = new ArrayList<>();
        meta(refDir).getAsJsonArray("images").forEach(e -> out.add(refDir.resolve(e.getAsString())));
        return out;
    }

    @Test
    void directForwardAndGradientEqualPyTorch() throws Exception {
        Path spec = specFile();
        Path ref = spec.getParent().resolve("reference");
        ModelSpec s = ModelSpec.load(spec);
        List<Path> files = images(ref);
        Preprocessor pre = new Preprocessor(s);
        ImageDecoder decoder = new ImageDecoder(50_000_000);
        int per = pre.floatsPerImage();
        float[] input = new float[files.size() * per];
        for (int i = 0; i < files.size(); i++) {
            pre.apply(decoder.decode(Files.readAllBytes(files.get(i))), input, i * per);
        }
        Ref refInput = array(ref, "input");
        double inputDiff = DirectForward.maxAbsDiff(refInput.data(), input);
        assertTrue(inputDiff <= 1e-5, "preprocessing equals torchvision's: " + inputDiff);

        try (LoadedModel m = LoadedModel.load(s, Device.cpu(), true); ModelForward f = m.newForward()) {
            ModelForward.Outputs o = f.run(input, files.size(), List.of(s.featuresTap(), s.logitsTap()), List.of());
            Ref fc7 = array(ref, "fc7");
            Ref logits = array(ref, "logits");
            double dFc7 = 0;
            double dLogits = 0;
            for (int i = 0; i < files.size(); i++) {
                dFc7 = Math.max(dFc7, DirectForward.maxAbsDiff(fc7.row(i), o.values(s.featuresTap())[i]));
                dLogits = Math.max(dLogits, DirectForward.maxAbsDiff(logits.row(i), o.values(s.logitsTap())[i]));
            }
            int target = meta(ref).get("grad_target").getAsInt();
            float[] first = new float[per];
            System.arraycopy(input, 0, first, 0, per);
            float[] grad = f.inputGradient(first, 1, s.logitsTap(), new int[] {target});
            Ref refGrad = array(ref, "input_grad");
            double gMax = 0;
            for (float v : refGrad.data()) {
                gMax = Math.max(gMax, Math.abs(v));
            }
            double dGrad = DirectForward.maxAbsDiff(refGrad.data(), grad);
            System.out.printf("%s vs PyTorch %s: max |fc7 diff| %.3g, max |logits diff| %.3g, "
                            + "max |input-gradient diff| %.3g (max |gradient| %.3g)%n",
                    s.name(), meta(ref).get("torch").getAsString(), dFc7, dLogits, dGrad, gMax);
            assertTrue(dFc7 <= 1e-4, "fc7 " + dFc7);
            assertTrue(dLogits <= 1e-4, "logits " + dLogits);
            assertTrue(gMax > 0, "a non-zero reference gradient");
            assertTrue(dGrad <= 1e-5 * gMax, "input gradient " + dGrad);
        }
    }

    @Test
    void featuresJobEqualsPyTorch() throws Exception {
        Path spec = specFile();
        Path ref = spec.getParent().resolve("reference");
        ModelSpec s = ModelSpec.load(spec);
        FeaturesJob.Summary summary = FeaturesJob.run(spark, FeaturesOptions.of(OptionValues.defaults()
                .with(SharedOptions.IMAGES, ref.toString()).with(SharedOptions.OUT, tmp.resolve("out").toString())
                .with(SharedOptions.MODEL, spec.toString())));
        List<Path> files = images(ref);
        // reference.json and the .f32 arrays are inputs too, and must come out as error rows
        assertEquals(files.size(), summary.rows());
        assertEquals(summary.inputs(), summary.rows() + summary.errors());
        Ref fc7 = array(ref, "fc7");
        Ref logits = array(ref, "logits");
        double dFc7 = 0;
        double dLogits = 0;
        List<Row> rows = io.cnnlens.jobs.spark.TableReader.open(spark, tmp.resolve("out/features").toString()).collectAsList();
        for (Row r : rows) {
            String name = Path.of(java.net.URI.create(r.getString(r.fieldIndex("path")))).getFileName().toString();
            int i = files.stream().map(p -> p.getFileName().toString()).toList().indexOf(name);
            assertTrue(i >= 0, name);
            dFc7 = Math.max(dFc7, DirectForward.maxAbsDiff(fc7.row(i), FeaturesJobTest.floats(r, "fc7")));
            dLogits = Math.max(dLogits, DirectForward.maxAbsDiff(logits.row(i), FeaturesJobTest.floats(r, "logits")));
            assertEquals(s.labels().get(Predictions.argmax(logits.row(i))), r.getString(r.fieldIndex("pred")));
        }
        System.out.printf("features job (%s) vs PyTorch: max |fc7 diff| %.3g, max |logits diff| %.3g over %d images%n",
                s.name(), dFc7, dLogits, rows.size());
        assertTrue(dFc7 <= 1e-4, "fc7 " + dFc7);
        assertTrue(dLogits <= 1e-4, "logits " + dLogits);
    }
}
