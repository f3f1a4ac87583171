package io.cnnlens.adversarial;

import io.cnnlens.model.ModelForward;
import io.cnnlens.model.Predictions;

/**
 * DeepFool (Moosavi-Dezfooli, Fawzi & Frossard 2016), multi-class: linearise the classifier at the
 * current point, step to the nearest linearised decision boundary (in L2, or in L∞ through the
 * dual L1 norm), repeat until the predicted class changes; the total step is scaled by
 * (1 + overshoot). All classes' gradients come from one batched backward pass (the image copied
 * once per class). Works on pixels (0..255); the result is the perturbation (not clipped to the
 * pixel range: the universal-perturbation algorithm projects the sum).
 */
public final class DeepFool {

    public enum Norm { L2, LINF }

    private final Norm norm;
    private final int maxIterations;
    private final double overshoot;

    public DeepFool(Norm norm, int maxIterations, double overshoot) {
        this.norm = norm;
        this.maxIterations = maxIterations;
        this.overshoot = overshoot;
    }

    /** The perturbation r for one image (pixels, one image's values), or null if it did not flip within the iteration limit. */
    public float[] perturbation(ModelForward f, PixelSpace ps, float[] image) {
        int per = ps.perImage();
        int classes = ps.spec().classes();
        float[] r = new float[per];
        float[] x = image.clone();
        float[][] logits = ps.logits(f, x, 1);
        int k0 = Predictions.argmax(logits[0]);
        float[] copies = new float[classes * per];
        int[] all = new int[classes];
        for (int k = 0; k < classes; k++) {
            all[k] = k;
        }
        for (int it = 0; it < maxIterations; it++) {
            for (int j = 0; j < per; j++) {
                x[j] = (float) (image[j] + (1 + overshoot) * r[j]);
            }
            logits = ps.logits(f, x, 1);
            if (Predictions.argmax(logits[0]) != k0) {
                float[] out = new float[per];
                for (int j = 0; j < per; j++) {
                    out[j] = (float) ((1 + overshoot) * r[j]);
                }
                return out;
            }
            for (int k = 0; k < classes; k++) {
                System.arraycopy(x, 0, copies, k * per, per);
            }
            float[] g = ps.logitGradient(f, copies, classes, all); // row k: ∂ logit_k / ∂ pixel
            double best = Double.POSITIVE_INFINITY;
            int bestK = -1;
            double bestNorm = 0;
            for (int k = 0; k < classes; k++) {
                if (k == k0) {
                    continue;
                }
                double fk = logits[0][k] - logits[0][k0];
                double nrm = 0;
                for (int j = 0; j < per; j++) {
                    double w = g[k * per + j] - g[k0 * per + j];
                    nrm += norm == Norm.L2 ? w * w : Math.abs(w);
                }
                nrm = norm == Norm.L2 ? Math.sqrt(nrm) : nrm;
                if (nrm == 0) {
                    continue;
                }
                double dist = Math.abs(fk) / nrm;
                if (dist < best) {
                    best = dist;
                    bestK = k;
                    bestNorm = nrm;
                }
            }
            if (bestK < 0) {
                return null;
            }
            double fl = Math.abs(logits[0][bestK] - logits[0][k0]) + 1e-4;
            for (int j = 0; j < per; j++) {
                double w = g[bestK * per + j] - g[k0 * per + j];
                r[j] += (float) (norm == Norm.L2 ? fl / (bestNorm * bestNorm) * w : fl / bestNorm * Math.signum(w));
            }
        }
        return null;
    }
}
