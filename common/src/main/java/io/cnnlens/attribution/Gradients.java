package io.cnnlens.attribution;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.Predictions;

/** Shared plumbing: shapes, class scores, probabilities, channel reductions. */
final class Gradients {

    private Gradients() {
    }

    static int plane(ModelSpec s) {
        return s.height() * s.width();
    }

    static int perImage(ModelSpec s) {
        return s.channels() * plane(s);
    }

    /** max over channels of |g|, per image. */
    static float[][] maxAbsOverChannels(float[] g, int n, ModelSpec s) {
        int plane = plane(s);
        int per = perImage(s);
        float[][] out = new float[n][plane];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < s.channels(); c++) {
                int base = i * per + c * plane;
                for (int p = 0; p < plane; p++) {
                    out[i][p] = Math.max(out[i][p], Math.abs(g[base + p]));
                }
            }
        }
        return out;
    }

    /** Unnormalised class scores (logits tap) of images, [n][classes]. */
    static float[][] scores(ModelForward f, float[] input, int n) {
        String logits = f.spec().logitsTap();
        return f.run(input, n, java.util.List.of(logits), java.util.List.of()).values(logits);
    }

    /**
     * Softmax probability of {@code targets[i]} per image, in double precision (a float near 1
     * resolves only 6e-8: too coarse for small occlusion drops).
     */
    static double[] probability(ModelForward f, float[] input, int n, int[] targets) {
        float[][] s = scores(f, input, n);
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = Predictions.softmaxAt(s[i], targets[i]);
        }
        return p;
    }
}
