package io.cnnlens.index;

import io.github.jbellis.jvector.graph.similarity.BuildScoreProvider;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.graph.similarity.ScoreFunction;
import io.github.jbellis.jvector.graph.similarity.SearchScoreProvider;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;

import java.util.Arrays;

/**
 * A shard's vectors in one flat array (node i at {@code i·d}), and the scores the graph is built
 * and searched with (docs/index.md#distance-kernels), computed by {@link VectorKernels}: the
 * distance the search walks by, and JVector's own score for the metric derived from it for the
 * graph builder (L2 1/(1 + d²); cosine (1 + cos)/2). Each stored vector's inverse norm is kept
 * beside it so that a cosine is one dot product. A zero vector has cosine 0 (distance 1), as in
 * {@link Metric#exact}.
 */
final class ShardVectors {

    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();

    private final Metric metric;
    private final int n;
    private final int d;
    private final float[] flat;
    private final float[] inverseNorms; // cosine only
    private final VectorKernels kernels;

    ShardVectors(float[][] vectors, Metric metric, VectorKernels kernels) {
        this(flatten(vectors), vectors.length, vectors[0].length, metric, kernels);
    }

    /** Over {@code flat} itself (not a copy): n vectors of d values. */
    ShardVectors(float[] flat, int n, int d, Metric metric, VectorKernels kernels) {
        if (flat.length != (long) n * d || n <= 0 || d <= 0) {
            throw new IllegalArgumentException(flat.length + " values are not " + n + " vectors of " + d);
        }
        this.metric = metric;
        this.n = n;
        this.d = d;
        this.flat = flat;
        this.kernels = kernels;
        this.inverseNorms = metric == Metric.COSINE ? new float[n] : null;
        if (inverseNorms != null) {
            for (int i = 0; i < n; i++) {
                inverseNorms[i] = inverseNorm(kernels.dot(flat, i * d, flat, i * d, d));
            }
        }
    }

    int size() {
        return n;
    }

    int dimension() {
        return d;
    }

    /** A copy of node {@code node}'s vector. */
    float[] vector(int node) {
        return Arrays.copyOfRange(flat, node * d, node * d + d);
    }

    /** JVector's score for the metric against {@code query}, for each node (one query's function). */
    ScoreFunction.ExactScoreFunction scoreFunction(float[] query) {
        LayeredGraph.Distance walked = distanceTo(query);
        return node -> score(walked.to(node));
    }

    /**
     * The distance the shard's search walks by: squared L2, or 1 − cos (clamped to [0, 2]; a zero
     * vector is at 1). {@link #reported} turns it into the index's distance, {@link #score} into
     * JVector's score.
     */
    LayeredGraph.Distance distanceTo(float[] query) {
        float[] q = query.clone();
        if (metric == Metric.L2) {
            return node -> kernels.squaredDistance(q, 0, flat, node * d, d);
        }
        float inv = inverseNorm(kernels.dot(q, 0, q, 0, d));
        for (int i = 0; i < d; i++) {
            q[i] *= inv;
        }
        return node -> 1f - Math.max(-1f, Math.min(1f, kernels.dot(q, 0, flat, node * d, d) * inverseNorms[node]));
    }

    /** As {@link #distanceTo} from a stored node, without copying its vector. */
    private LayeredGraph.Distance distanceFrom(int from) {
        int off = from * d;
        if (metric == Metric.L2) {
            return node -> kernels.squaredDistance(flat, off, flat, node * d, d);
        }
        float inv = inverseNorms[from];
        return node -> 1f - Math.max(-1f, Math.min(1f, kernels.dot(flat, off, flat, node * d, d) * inv * inverseNorms[node]));
    }

    /** The index's distance (Euclidean, or 1 − cos) for a distance of {@link #distanceTo}. */
    float reported(float walked) {
        return metric == Metric.L2 ? (float) Math.sqrt(walked) : walked;
    }

    /** JVector's score for a distance of {@link #distanceTo}: 1/(1 + d²) for L2, (1 + cos)/2 for cosine. */
    float score(float walked) {
        return metric == Metric.L2 ? 1f / (1f + walked) : 1f - walked / 2f;
    }

    /**
     * Exact scores for JVector's graph builder, as {@code BuildScoreProvider.randomAccessScoreProvider}
     * gives but over the flat array and these kernels.
     */
    BuildScoreProvider buildScoreProvider() {
        return new BuildScoreProvider() {
            @Override
            public boolean isExact() {
                return true;
            }

            @Override
            public VectorFloat<?> approximateCentroid() {
                double[] sum = new double[d];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < d; j++) {
                        sum[j] += flat[i * d + j];
                    }
                }
                float[] c = new float[d];
                for (int j = 0; j < d; j++) {
                    c[j] = (float) (sum[j] / n);
                }
                return VTS.createFloatVector(c);
            }

            @Override
            public SearchScoreProvider searchProviderFor(VectorFloat<?> vector) {
                float[] q = new float[d];
                for (int j = 0; j < d; j++) {
                    q[j] = vector.get(j);
                }
                return new DefaultSearchScoreProvider(scoreFunction(q));
            }

            @Override
            public SearchScoreProvider searchProviderFor(int node) {
                return new DefaultSearchScoreProvider(nodeScores(node));
            }

            @Override
            public SearchScoreProvider diversityProviderFor(int node) {
                return new DefaultSearchScoreProvider(nodeScores(node));
            }
        };
    }

    private ScoreFunction.ExactScoreFunction nodeScores(int from) {
        LayeredGraph.Distance walked = distanceFrom(from);
        return node -> score(walked.to(node));
    }

    private static float[] flatten(float[][] vectors) {
        int d = vectors[0].length;
        float[] flat = new float[Math.multiplyExact(vectors.length, d)];
        for (int i = 0; i < vectors.length; i++) {
            System.arraycopy(vectors[i], 0, flat, i * d, d);
        }
        return flat;
    }

    private static float inverseNorm(float squaredNorm) {
        return squaredNorm > 0 ? (float) (1.0 / Math.sqrt(squaredNorm)) : 0f;
    }
}
