package io.cnnlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One thread's way to run a {@link LoadedModel}: its own NDManager and parameter store (DJL
 * predictors and stores are not thread-safe; the model is). Every batch's tensors live in a
 * sub-manager that is closed before {@link #run} returns, so only plain Java arrays leave it.
 */
public final class ModelForward implements AutoCloseable {

    private final LoadedModel model;
    private final NDManager manager;
    private final ParameterStore parameterStore;

    ModelForward(LoadedModel model) {
        this.model = model;
        this.manager = model.model().getNDManager().newSubManager(model.device());
        this.parameterStore = new ParameterStore(manager, false);
    }

    /** What one forward pass returns, per requested tap, one row per image. */
    public record Outputs(Map<String, float[][]> values, Map<String, float[][]> spatialMax) {
        public float[][] values(String tap) {
            return require(values, tap);
        }

        public float[][] spatialMax(String tap) {
            return require(spatialMax, tap);
        }

        private static float[][] require(Map<String, float[][]> m, String tap) {
            float[][] v = m.get(tap);
            if (v == null) {
                throw new IllegalArgumentException("tap " + tap + " was not requested");
            }
            return v;
        }
    }

    /**
     * Runs {@code n} preprocessed images (NCHW, concatenated in {@code input}) through the network.
     *
     * @param taps       taps whose full values are returned, flattened per image
     * @param spatialMax conv taps whose per-channel spatial maximum is returned
     */
    public Outputs run(float[] input, int n, Collection<String> taps, Collection<String> spatialMax) {
        ModelSpec spec = model.spec();
        int per = spec.channels() * spec.height() * spec.width();
        if (input.length < n * per) {
            throw new IllegalArgumentException("input holds " + input.length + " floats, need " + n * per);
        }
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager batch = manager.newSubManager()) {
            NDArray x = batch.create(FloatBuffer.wrap(input, 0, n * per),
                    new Shape(n, spec.channels(), spec.height(), spec.width()));
            NDList out = model.block().forward(parameterStore, new NDList(x), false);
            Map<String, float[][]> values = new LinkedHashMap<>();
            for (String tap : taps) {
                values.put(tap, rows(tap(out, tap), n));
            }
            Map<String, float[][]> maxima = new LinkedHashMap<>();
            for (String tap : spatialMax) {
                NDArray a = tap(out, tap);
                if (a.getShape().dimension() != 4) {
                    throw new IllegalArgumentException("tap " + tap + " is not a conv layer (shape " + a.getShape() + ")");
                }
                Shape sh = a.getShape();
                maxima.put(tap, rows(a.reshape(sh.get(0), sh.get(1), sh.get(2) * sh.get(3)).max(new int[] {2}), n));
            }
            return new Outputs(values, maxima);
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /** Names of the taps this model's forward returns. */
    public List<String> tapNames(NDList out) {
        List<String> names = new ArrayList<>();
        for (NDArray a : out) {
            names.add(a.getName());
        }
        return names;
    }

    private NDArray tap(NDList out, String name) {
        NDArray a = out.get(name);
        if (a == null) {
            throw new IllegalArgumentException("model " + model.spec().name() + " has no output '" + name
                    + "'; it has " + tapNames(out));
        }
        return a;
    }

    private static float[][] rows(NDArray a, int n) {
        float[] flat = a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        int d = flat.length / n;
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
