package io.cnnlens.index;

/**
 * How a shard's graph is built (docs/index.md#parameters). {@code m} is the HNSW M: the graph's
 * base layer keeps up to {@code 2m} neighbours per node, as hnswlib, FAISS and Lucene do for the
 * same M; upper layers {@code m}. {@code efConstruction} is the build's beam width; {@code alpha}
 * is the Vamana pruning slack (1.0 = HNSW's heuristic) and {@code overflow} the degree a node may
 * reach before it is pruned back.
 */
public record GraphParams(int m, int efConstruction, float alpha, float overflow) implements java.io.Serializable {

    public static final GraphParams DEFAULT = new GraphParams(16, 200, 1.2f, 1.2f);

    public GraphParams {
        if (m < 2 || m > 512) {
            throw new IllegalArgumentException("--m must be between 2 and 512, not " + m);
        }
        if (efConstruction < 1) {
            throw new IllegalArgumentException("--ef-construction must be at least 1, not " + efConstruction);
        }
        if (!(alpha >= 1.0f && alpha <= 2.0f)) {
            throw new IllegalArgumentException("--alpha must be between 1.0 and 2.0, not " + alpha);
        }
        if (!(overflow >= 1.0f && overflow <= 2.0f)) {
            throw new IllegalArgumentException("overflow must be between 1.0 and 2.0, not " + overflow);
        }
    }
}
