package io.cnnlens.activation;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReceptiveFieldTest {

    /** torchvision AlexNet's feature extractor. */
    static final String ALEXNET = "conv1 k11 s4 p2, pool1 k3 s2, conv2 k5 p2, pool2 k3 s2, "
            + "conv3 k3 p1, conv4 k3 p1, conv5 k3 p1, pool5 k3 s2";

    @Test
    void alexNetFieldsMatchHandWorkedValues() {
        ReceptiveField rf = ReceptiveField.parse(ALEXNET);
        // worked by hand: R_L = R_{L-1} + (k-1)·J_{L-1}, J_L = J_{L-1}·s, P_L = P_{L-1} + p·J_{L-1}
        assertEquals(new ReceptiveField.Field("conv1", 11, 4, 2), rf.of("conv1"));
        assertEquals(new ReceptiveField.Field("pool1", 19, 8, 2), rf.of("pool1"));   // 11 + 2·4
        assertEquals(new ReceptiveField.Field("conv2", 51, 8, 18), rf.of("conv2"));  // 19 + 4·8; 2 + 2·8
        assertEquals(new ReceptiveField.Field("pool2", 67, 16, 18), rf.of("pool2")); // 51 + 2·8
        assertEquals(new ReceptiveField.Field("conv3", 99, 16, 34), rf.of("conv3")); // 67 + 2·16; 18 + 16
        assertEquals(new ReceptiveField.Field("conv4", 131, 16, 50), rf.of("conv4"));
        assertEquals(new ReceptiveField.Field("conv5", 163, 16, 66), rf.of("conv5"));
        assertEquals(new ReceptiveField.Field("pool5", 195, 32, 66), rf.of("pool5"));
        // conv5 unit (0,0) reaches 66 pixels into the padding; unit (row 2, col 5) starts at 5·16 − 66 = 14
        assertArrayEquals(new int[] {-66, -66, 97, 97}, rf.of("conv5").box(0, 0));
        assertArrayEquals(new int[] {14, -34, 177, 129}, rf.of("conv5").box(2, 5));
        assertArrayEquals(new int[] {14, 0, 177, 129}, rf.of("conv5").clippedBox(2, 5, 224, 224));
        // conv1 unit (1,1): pixels 4−2 .. 4−2+11
        assertArrayEquals(new int[] {2, 2, 13, 13}, rf.of("conv1").box(1, 1));
    }

    @Test
    void vgg16Conv53HasTheWellKnownField() {
        // the chain the export helper writes for torchvision VGG16; conv5_3's field is the published 196 px, stride 16
        ReceptiveField rf = ReceptiveField.parse("conv_0 k3 s1 p1, conv1 k3 s1 p1, pool_4 k2 s2 p0, conv_5 k3 s1 p1, "
                + "conv2 k3 s1 p1, pool_9 k2 s2 p0, conv_10 k3 s1 p1, conv_12 k3 s1 p1, conv3 k3 s1 p1, pool_16 k2 s2 p0, "
                + "conv_17 k3 s1 p1, conv_19 k3 s1 p1, conv4 k3 s1 p1, pool_23 k2 s2 p0, conv_24 k3 s1 p1, conv_26 k3 s1 p1, "
                + "conv5 k3 s1 p1, pool_30 k2 s2 p0");
        assertEquals(196, rf.of("conv5").size());
        assertEquals(16, rf.of("conv5").jump());
        assertEquals(212, rf.of("pool_30").size());
    }

    @Test
    void theBundledModelsChain() {
        ReceptiveField rf = ReceptiveField.parse("conv1 k5 s1 p2, pool1 k2 s2, conv2 k3 s1 p1, pool2 k2 s2, "
                + "conv3 k3 s1 p1, conv4 k3 s1 p1, conv5 k3 s1 p1, pool5 k2 s2");
        assertEquals(new ReceptiveField.Field("conv1", 5, 1, 2), rf.of("conv1"));
        assertEquals(new ReceptiveField.Field("conv2", 10, 2, 4), rf.of("conv2"));  // 6 + 2·2; 2 + 1·2
        assertEquals(new ReceptiveField.Field("conv5", 36, 4, 16), rf.of("conv5")); // 12 + 3·(2·4)
        // conv5 is 7×7 on a 28×28 input: the last unit's box ends at 6·4 − 16 + 36 = 44, clipped to 28
        assertArrayEquals(new int[] {8, 8, 28, 28}, rf.of("conv5").clippedBox(6, 6, 28, 28));
    }

    @Test
    void unknownLayersAndBadGeometryAreClearErrors() {
        ReceptiveField rf = ReceptiveField.parse(ALEXNET);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rf.of("fc7"));
        assertTrue(e.getMessage().contains("not in the model's layers.geometry"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ReceptiveField.parse("").of("conv1"));
        assertTrue(e.getMessage().contains("no layers.geometry"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReceptiveField.parse("conv1 s2"));
        assertThrows(IllegalArgumentException.class, () -> ReceptiveField.parse("conv1 kk"));
    }
}
