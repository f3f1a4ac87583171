package io.cnnlens.adversarial;

import io.cnnlens.model.ModelForward;

import io.cnnlens.model.Predictions;
import java.util.Arrays;

/**
 * Fooling images as in the lecture: start from the image and repeatedly step along the
 * gradient of the target class's unnormalised score, normalised to L2 length {@code step} (in
 * 0..255 pixel units), keeping pixels in range, until the model predicts the target or
 * {@code maxSteps} is reached. Batched: every image of the batch steps together and stops on its own.
 */
public final class FoolingImages {

    private final double step;
    private final int maxSteps;

    public FoolingImages(double step, int maxSteps) {
        if (!(step > 0) || maxSteps < 1) {
            throw new IllegalArgumentException("fooling images need step > 0 and at least 1 step");
        }
        this.step = step;
        this.maxSteps = maxSteps;
    }

    public Attack[] run(ModelForward f, PixelSpace ps, float[] pixels, int n, int[] targets) {
        int per = ps.perImage();
        float[] x = pixels.clone();
        int[] steps = new int[n];
        boolean[] done = new boolean[n];
        float[][] logits = ps.logits(f, x, n);
        for (int i = 0; i < n; i++) {
            done[i] = Predictions.argmax(logits[i]) == targets[i];
        }
        for (int s = 0; s < maxSteps; s++) {
            int[] active = java.util.stream.IntStream.range(0, n).filter(i -> !done[i]).toArray();
            if (active.length == 0) {
                break;
            }
            // only the images still on their way go through the network
            int m = active.length;
            float[] xa = new float[m * per];
            int[] ta = new int[m];
            for (int a = 0; a < m; a++) {
                System.arraycopy(x, active[a] * per, xa, a * per, per);
                ta[a] = targets[active[a]];
            }
            float[] g = ps.logitGradient(f, xa, m, ta);
            for (int a = 0; a < m; a++) {
                double norm = 0;
                for (int j = 0; j < per; j++) {
                    norm += (double) g[a * per + j] * g[a * per + j];
                }
                norm = Math.sqrt(norm);
                int i = active[a];
                if (norm == 0) {
                    continue;
                }
                for (int j = 0; j < per; j++) {
                    xa[a * per + j] = PixelSpace.clampPixel((float) (xa[a * per + j] + step * g[a * per + j] / norm));
                }
                System.arraycopy(xa, a * per, x, i * per, per);
                steps[i]++;
            }
            float[][] la = ps.logits(f, xa, m);
            for (int a = 0; a < m; a++) {
                logits[active[a]] = la[a];
                if (Predictions.argmax(la[a]) == targets[active[a]]) {
                    done[active[a]] = true;
                }
            }
        }
        Attack[] out = new Attack[n];
        for (int i = 0; i < n; i++) {
            double[] nm = PixelSpace.norms(x, pixels, i * per, per);
            int pred = Predictions.argmax(logits[i]);
            out[i] = new Attack(Arrays.copyOfRange(x, i * per, (i + 1) * per), pred == targets[i], steps[i], nm[0], nm[1], pred,
                    Predictions.softmaxAt(logits[i], targets[i]));
        }
        return out;
    }
}
