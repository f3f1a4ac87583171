package io.cnnlens.jobs.spark;

import java.util.List;

/** A vector column's value (Spark's array of floats, as a Row's getList gives it) as a float array. */
public final class VectorColumn {

    private VectorColumn() {
    }

    public static float[] floats(List<?> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = ((Number) values.get(i)).floatValue();
        }
        return f;
    }
}
