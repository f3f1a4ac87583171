package io.cnnlens.image;

import io.cnnlens.model.ModelSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PreprocessorTest {

    static ModelSpec spec(int channels, int size, ModelSpec.Resize resize, int resizeSize, float mean, float std) {
        return new ModelSpec("t", ModelSpec.Format.DJL, "", Path.of("w"), channels, size, size, resize, resizeSize,
                new float[] {mean}, new float[] {std}, "fc7", "logits", "conv5", "conv1", List.of("a", "b"), "");
    }

    @Test
    void sameSizeGreyIsOnlyScaledAndNormalised() {
        float[] d = {0, 51, 102, 255};
        Pixels p = new Pixels(2, 2, 1, d);
        float[] out = new Preprocessor(spec(1, 2, ModelSpec.Resize.STRETCH, 2, 0.2f, 0.5f)).apply(p);
        for (int i = 0; i < 4; i++) {
            assertEquals((d[i] / 255f - 0.2f) / 0.5f, out[i], 1e-6f);
        }
    }

    @Test
    void colourToGreyUsesLumaAndGreyToColourCopies() {
        Pixels rgb = new Pixels(1, 1, 3, new float[] {100, 200, 50});
        Pixels grey = Preprocessor.toChannels(rgb, 1);
        assertEquals(0.299f * 100 + 0.587f * 200 + 0.114f * 50, grey.data()[0], 1e-4f);
        Pixels back = Preprocessor.toChannels(new Pixels(1, 1, 1, new float[] {7}), 3);
        assertArrayEquals(new float[] {7, 7, 7}, back.data());
    }

    @Test
    void bilinearDownscaleByTwoAveragesPairs() {
        // half-pixel centres: output pixel x samples input at 2x + 0.5, the mean of 2x and 2x+1
        Pixels p = new Pixels(4, 1, 1, new float[] {0, 10, 20, 30});
        Pixels r = Resize.bilinear(p, 2, 1);
        assertArrayEquals(new float[] {5, 25}, r.data(), 1e-5f);
    }

    @Test
    void boxFilterBeforeLargeShrink() {
        float[] d = new float[16];
        for (int i = 0; i < 16; i++) {
            d[i] = i % 2 == 0 ? 0 : 100; // finest stripes: aliasing would give 0 or 100
        }
        Pixels r = Resize.bilinear(new Pixels(16, 1, 1, d), 2, 1);
        assertArrayEquals(new float[] {50, 50}, r.data(), 1e-4f);
    }

    @Test
    void centerCropTakesTheMiddle() {
        float[] d = new float[6 * 4];
        for (int i = 0; i < d.length; i++) {
            d[i] = i;
        }
        // shorter side (4) already equals resize.size: only the crop of the middle 4x4 remains
        ModelSpec s = spec(1, 4, ModelSpec.Resize.CENTER_CROP, 4, 0f, 1f);
        float[] out = new Preprocessor(s).apply(new Pixels(6, 4, 1, d));
        assertEquals(1f / 255f, out[0], 1e-6f);
        assertEquals(4f / 255f, out[3], 1e-6f);
        assertEquals(7f / 255f, out[4], 1e-6f);
    }
}
