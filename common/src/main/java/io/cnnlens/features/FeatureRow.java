package io.cnnlens.features;

/**
 * One image's features: the content-hash id, where it came from, its label, the prediction and
 * top-5 (class, probability), the penultimate-layer features, the logits, and the per-channel
 * spatial maximum of one conv layer.
 */
public record FeatureRow(
        String imageId,
        String path,
        String label,
        int width,
        int height,
        String pred,
        int predIndex,
        String[] top5Classes,
        float[] top5Probabilities,
        float[] features,
        float[] logits,
        float[] convMax) implements ExtractResult {
}
