package io.cnnlens.index;

import io.github.jbellis.jvector.vector.VectorSimilarityFunction;

import java.util.Locale;

/**
 * The index's distance (docs/index.md#metric): L2 is the Euclidean distance, cosine is
 * {@code 1 - cos}. {@link #similarity} is JVector's definition of the graph's scores (ShardVectors
 * computes the same scores with the project's kernels); {@link #exact} is the distance in double
 * precision, for a re-rank.
 */
public enum Metric {
    L2(VectorSimilarityFunction.EUCLIDEAN),
    COSINE(VectorSimilarityFunction.COSINE);

    private final VectorSimilarityFunction similarity;

    Metric(VectorSimilarityFunction similarity) {
        this.similarity = similarity;
    }

    public VectorSimilarityFunction similarity() {
        return similarity;
    }

    /** {@code l2} or {@code cosine}; anything else is an error naming both. */
    public static Metric parse(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "l2" -> L2;
            case "cosine" -> COSINE;
            default -> throw new IllegalArgumentException("--metric must be l2 or cosine, not " + s);
        };
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The exact distance of two vectors, in double precision. */
    public double exact(float[] a, float[] b) {
        if (this == L2) {
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                double d = a[i] - b[i];
                s += d * d;
            }
            return Math.sqrt(s);
        }
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 1.0 : 1.0 - dot / Math.sqrt(na * nb);
    }
}
