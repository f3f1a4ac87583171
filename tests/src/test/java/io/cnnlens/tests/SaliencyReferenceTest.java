package io.cnnlens.tests;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cnnlens.attribution.GuidedBackprop;
import io.cnnlens.attribution.Occlusion;
import io.cnnlens.attribution.VanillaGradient;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vanilla-gradient and occlusion maps of a TorchScript model equal the maps PyTorch computes
 * on the same weights and inputs: a small Fashion-MNIST CNN trained and exported by
 * deploy/models/train_fashion_torchscript.py, maps by deploy/models/saliency_reference.py, all
 * committed under tests/src/test/resources/models/fashion-small/. Max |difference| ≤ 1e-5 of the
 * map's maximum.
 */
class SaliencyReferenceTest {

    @Test
    void gradientAndOcclusionMapsEqualPyTorch() throws Exception {
        Path specFile = SparkTestBase.resource("models/fashion-small/fashion-small.properties");
        Path ref = specFile.getParent().resolve("reference");
        JsonObject sal = JsonParser.parseString(Files.readString(ref.resolve("saliency.json"))).getAsJsonObject();
        JsonObject in = sal.getAsJsonObject("arrays").getAsJsonObject("input");
        TorchScriptReferenceTest.Ref input = new TorchScriptReferenceTest.Ref(read(ref.resolve(in.get("file").getAsString())),
                new int[] {in.getAsJsonArray("shape").get(0).getAsInt()});
        int n = input.shape()[0];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            targets[i] = sal.getAsJsonArray("targets").get(i).getAsInt();
        }
        JsonObject occ = sal.getAsJsonObject("occlusion");
        ModelSpec spec = ModelSpec.load(specFile);
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), true); ModelForward f = m.newForward()) {
            float[][] grad = new VanillaGradient().maps(f, input.data(), n, targets);
            float[][] occlusion = new Occlusion(occ.get("size").getAsInt(), occ.get("stride").getAsInt(),
                    null, 32)
                    .maps(f, input.data(), n, targets);
            compare("gradient", grad, read(ref.resolve(sal.getAsJsonObject("arrays").getAsJsonObject("gradient").get("file").getAsString())));
            compare("occlusion", occlusion, read(ref.resolve(sal.getAsJsonObject("arrays").getAsJsonObject("occlusion").get("file").getAsString())));

            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new GuidedBackprop().maps(f, input.data(), 1, targets));
            assertTrue(e.getMessage().contains("does not expose them"), e.getMessage());
        }
    }

    private static void compare(String name, float[][] ours, float[] theirs) {
        int plane = ours[0].length;
        for (int i = 0; i < ours.length; i++) {
            float max = 0;
            float diff = 0;
            for (int p = 0; p < plane; p++) {
                max = Math.max(max, Math.abs(theirs[i * plane + p]));
                diff = Math.max(diff, Math.abs(theirs[i * plane + p] - ours[i][p]));
            }

            System.out.printf("saliency vs PyTorch, %s, image %d: max |diff| %.3g = %.3g of the map's max %.3g%n",
                    name, i, diff, diff / max, max);
            assertTrue(max > 0);
            assertTrue(diff <= 1e-5 * max, name + " image " + i + ": max diff " + diff + " against max " + max);
        }
    }

    private static float[] read(Path f) throws Exception {
        byte[] raw = Files.readAllBytes(f);
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
