package io.cnnlens.model;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The taps a model outputs, as jobs read them to choose their layers. */
class LoadedModelTapsTest {

    @Test
    void theBundledModelListsItsTapsInOrderWithTheirShapes() {
        Path home = Path.of(System.getProperty("cnnlens.home", "..")).toAbsolutePath().normalize();
        ModelSpec spec = ModelSpec.load(home.resolve("conf/models/fashion-alexnet.properties"));
        try (LoadedModel m = LoadedModel.load(spec, Device.cpu(), false)) {
            assertEquals(List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "logits"), List.copyOf(m.taps().keySet()));
            assertArrayEquals(new int[] {32, 28, 28}, m.taps().get("conv1"));
            assertArrayEquals(new int[] {spec.classes()}, m.taps().get("logits"));
            assertEquals(List.of("conv1", "conv2", "conv3", "conv4", "conv5"), m.convTaps());
            assertTrue(m.hasTap("fc7"));
            assertFalse(m.hasTap("conv9"));
        }
    }
}
