package io.cnnlens.activation;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TopActivationsTest {

    @Test
    void mergedPartitionsEqualTheTopKOfEverything() {
        int channels = 5;
        int h = 4;
        int w = 3;
        int images = 200;
        int k = 7;
        int[] kept = {0, 2, 4};
        Random rnd = new Random(3);
        float[][] maps = new float[images][channels * h * w];
        for (float[] m : maps) {
            for (int i = 0; i < m.length; i++) {
                m[i] = rnd.nextInt(50) / 4f; // coarse values: ties between images happen
            }
        }
        TopActivations[] parts = {new TopActivations(kept, k), new TopActivations(kept, k), new TopActivations(kept, k)};
        for (int i = 0; i < images; i++) {
            parts[i % 3].offerMap(maps[i], 0, h, w, String.format("img-%03d", i), "p" + i);
        }
        TopActivations merged = parts[2].merge(parts[0]).merge(parts[1]);

        for (int c = 0; c < kept.length; c++) {
            // brute force: every image's max of this channel, sorted by value desc, id asc
            List<TopActivations.Hit> all = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                int base = kept[c] * h * w;
                int arg = 0;
                for (int j = 1; j < h * w; j++) {
                    if (maps[i][base + j] > maps[i][base + arg]) {
                        arg = j;
                    }
                }
                all.add(new TopActivations.Hit(maps[i][base + arg], String.format("img-%03d", i), "p" + i, arg / w, arg % w));
            }
            all.sort(TopActivations.BEST_FIRST);
            assertEquals(all.subList(0, k), merged.sorted(c));
        }
    }

    @Test
    void mergingDifferentShapesFails() {
        assertThrows(IllegalArgumentException.class,
                () -> new TopActivations(new int[] {0}, 3).merge(new TopActivations(new int[] {1}, 3)));
        assertThrows(IllegalArgumentException.class, () -> new TopActivations(new int[] {0}, 0));
    }
}
