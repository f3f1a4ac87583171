package io.cnnlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
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

    /**
     * What one forward pass returns, per requested tap, one row per image; {@code shapes} gives
     * each returned tap's shape without the batch axis (e.g. {C, H, W} for a conv layer).
     */
    public record Outputs(Map<String, float[][]> values, Map<String, float[][]> spatialMax, Map<String, int[]> shapes) {
        public int[] shape(String tap) {
            int[] s = shapes.get(tap);
            if (s == null) {
                throw new IllegalArgumentException("tap " + tap + " was not requested");
            }
            return s.clone();
        }

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

    public ModelSpec spec() {
        return model.spec();
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
            NDArray x = images(batch, input, n);
            NDList out = model.block().forward(parameterStore, new NDList(x), false);
            Map<String, float[][]> values = new LinkedHashMap<>();
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (String tap : taps) {
                NDArray a = tap(out, tap);
                values.put(tap, rows(a, n));
                long[] sh = a.getShape().getShape();
                int[] s = new int[sh.length - 1];
                for (int i = 1; i < sh.length; i++) {
                    s[i - 1] = (int) sh[i];
                }
                shapes.put(tap, s);
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
            return new Outputs(values, maxima, shapes);
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /**
     * Every tap the network gives, in its output order, with its shape per image (e.g. {C, H, W}
     * for a conv layer), from one forward pass of a blank image: what a job asks before it
     * relies on a tap the spec or the user named.
     */
    public Map<String, int[]> tapShapes() {
        ModelSpec spec = model.spec();
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager batch = manager.newSubManager()) {
            NDArray x = images(batch, new float[spec.channels() * spec.height() * spec.width()], 1);
            NDList out = model.block().forward(parameterStore, new NDList(x), false);
            Map<String, int[]> shapes = new LinkedHashMap<>();
            for (NDArray a : out) {
                long[] sh = a.getShape().getShape();
                int[] s = new int[Math.max(0, sh.length - 1)];
                for (int i = 1; i < sh.length; i++) {
                    s[i - 1] = (int) sh[i];
                }
                shapes.put(a.getName(), s);
            }
            return shapes;
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /**
     * The gradient of {@code sum_i tap[i, targets[i]]} (e.g. one class's unnormalised score per
     * image; for a conv tap, channel {@code targets[i]} summed over positions) with respect to the input, NCHW like {@code input}. Needs a model loaded with
     * gradients (TorchScript: {@code trainParam=true}); the network runs in inference mode
     * (dropout off).
     */
    public float[] inputGradient(float[] input, int n, String tap, int[] targets) {
        requireGradients();
        try (NDManager batch = manager.newSubManager(); Autograd gc = new Autograd()) {
            NDArray x = images(batch, input, n);
            x.setRequiresGradient(true);
            NDArray out = tap(forwardWithGradients(new NDList(x)), tap);
            NDArray oneHot = batch.create(targetsAsLong(targets)).oneHot((int) out.getShape().get(1)).toType(out.getDataType(), false);
            if (out.getShape().dimension() == 4) { // a conv tap: the target channel summed over its positions
                oneHot = oneHot.reshape(n, out.getShape().get(1), 1, 1);
            }
            gc.backward(out.mul(oneHot).sum());
            return x.getGradient().toFloatArray();
        }
    }

    /**
     * The gradient of {@code Σ_i log softmax(logits_i)[targets[i]]} (minus the cross-entropy) with
     * respect to the input, NCHW; the logits tap's values come back in {@code logitsOut} ([n][classes])
     * when it is not null. Used by attacks (PGD, universal perturbations).
     */
    public float[] logProbabilityGradient(float[] input, int n, int[] targets, float[][] logitsOut) {
        requireGradients();
        ModelSpec spec = model.spec();
        try (NDManager batch = manager.newSubManager(); Autograd gc = new Autograd()) {
            NDArray x = images(batch, input, n);
            x.setRequiresGradient(true);
            NDArray logits = tap(forwardWithGradients(new NDList(x)), spec.logitsTap());
            NDArray oneHot = batch.create(targetsAsLong(targets)).oneHot((int) logits.getShape().get(1));
            gc.backward(logits.logSoftmax(1).mul(oneHot.toType(logits.getDataType(), false)).sum());
            if (logitsOut != null) {
                float[][] l = rows(logits.duplicate(), n);
                System.arraycopy(l, 0, logitsOut, 0, n);
            }
            return x.getGradient().toFloatArray();
        }
    }

    /**
     * Feature matching for one image: {@code loss = ‖tap(x) − target‖² / ‖target‖²} and its gradient
     * with respect to the input x (CHW). Returns the gradient; the loss goes to {@code lossOut[0]}.
     */
    public float[] featureLossGradient(float[] input, String tap, float[] target, double[] lossOut) {
        requireGradients();
        double norm = 0;
        for (float v : target) {
            norm += (double) v * v;
        }
        double scale = norm > 0 ? 1 / norm : 1;
        try (NDManager batch = manager.newSubManager(); Autograd gc = new Autograd()) {
            NDArray x = images(batch, input, 1);
            x.setRequiresGradient(true);
            NDArray out = tap(forwardWithGradients(new NDList(x)), tap);
            NDArray t = batch.create(target, out.getShape());
            NDArray loss = out.sub(t).square().sum().mul((float) scale);
            lossOut[0] = loss.getFloat();
            gc.backward(loss);
            return x.getGradient().toFloatArray();
        }
    }

    /**
     * Autograd on this thread only. DJL's {@code GradientCollector} allows one collector per JVM
     * (a static flag) and zeroes the gradients of every array on close, so two Spark task threads
     * computing saliency at once would collide; libtorch's grad mode itself is thread-local, so
     * this switches it for the calling thread and runs the backward pass directly.
     */
    private static final class Autograd implements AutoCloseable {
        private final boolean previous = JniUtils.isGradMode();

        Autograd() {
            JniUtils.setGradMode(true);
        }

        void backward(NDArray scalar) {
            try (NDArray ones = scalar.onesLike()) {
                JniUtils.backward((ai.djl.pytorch.engine.PtNDArray) scalar, (ai.djl.pytorch.engine.PtNDArray) ones, false, false);
            }
        }

        @Override
        public void close() {
            JniUtils.setGradMode(previous);
        }
    }

    /** What guided backprop starts from at the chosen tap. */
    public enum Seed {
        /** one entry per image: a class of a 2-D tap (e.g. logits), or a channel's sum over positions of a conv tap */
        UNIT,
        /** a conv tap's channel at its strongest position only (one neuron) */
        NEURON
    }

    /**
     * Guided backpropagation (Springenberg et al. 2015): the input gradient of {@code tap[i,
     * targets[i]]} (a class score, a channel's sum, or with {@link Seed#NEURON} the channel's
     * strongest unit), where each ReLU passes gradient back only where its forward input was
     * positive <em>and</em> the incoming gradient is positive. Autograd cannot change a ReLU's
     * backward rule, so the network is walked stage by stage backwards: a vector-Jacobian
     * product through each non-ReLU stage, the guided rule at each ReLU. Needs the network as a
     * {@link TappedSequence} (the built-in architectures); memory: every stage's input for the
     * batch.
     *
     * @throws UnsupportedOperationException for a model without stages (TorchScript)
     */
    public float[] guidedGradient(float[] input, int n, String tap, int[] targets, Seed seed) {
        return stagewiseGradient(input, n, tap, targets, seed, true);
    }

    /**
     * The stage-by-stage backward walk of {@link #guidedGradient}; with {@code guided} false the
     * ReLUs use their ordinary rule, which gives the plain input gradient (a check of the walk).
     */
    public float[] stagewiseGradient(float[] input, int n, String tap, int[] targets, Seed seed, boolean guided) {
        if (!(model.block() instanceof TappedSequence net)) {
            throw new UnsupportedOperationException("guided backprop needs the network as an ordered list of stages; model "
                    + model.spec().name() + " (" + model.spec().format().name().toLowerCase(java.util.Locale.ROOT)
                    + ") does not expose them");
        }
        int last = net.tapStage(tap);
        if (last < 0) {
            throw new IllegalArgumentException("model " + model.spec().name() + " has no tap '" + tap + "'; it has " + net.tapNames());
        }
        boolean grad = JniUtils.isGradMode();
        try (NDManager batch = manager.newSubManager()) {
            JniUtils.setGradMode(false);
            List<NDArray> inputs = new ArrayList<>();
            NDArray x = images(batch, input, n);
            for (int i = 0; i <= last; i++) {
                inputs.add(x);
                x = net.stages().get(i).forward(parameterStore, new NDList(x), false).singletonOrThrow();
            }
            NDArray g = seed(x, targets, seed, batch);
            for (int i = last; i >= 0; i--) {
                NDArray in = inputs.get(i);
                if (net.isRelu(i)) {
                    g = g.mul(in.gt(0).toType(g.getDataType(), false));
                    if (guided) {
                        g = g.mul(g.gt(0).toType(g.getDataType(), false));
                    }
                    continue;
                }
                try (Autograd gc = new Autograd()) {
                    NDArray xin = in.duplicate();
                    xin.setRequiresGradient(true);
                    NDArray y = net.stages().get(i).forward(parameterStore, new NDList(xin), false).singletonOrThrow();
                    gc.backward(y.mul(g).sum());
                    g = xin.getGradient().duplicate();
                }
            }
            return g.toFloatArray();
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /** The starting gradient at the tap: one-hot per image (class, channel sum or channel's max unit). */
    private static NDArray seed(NDArray out, int[] targets, Seed seed, NDManager m) {
        Shape sh = out.getShape();
        int n = (int) sh.get(0);
        if (sh.dimension() == 2) {
            return m.create(targetsAsLong(targets)).oneHot((int) sh.get(1)).toType(out.getDataType(), false);
        }
        if (sh.dimension() != 4) {
            throw new IllegalArgumentException("guided backprop starts from a 2-D (class) or 4-D (conv) tap, not " + sh);
        }
        int c = (int) sh.get(1);
        int plane = (int) (sh.get(2) * sh.get(3));
        float[] v = out.toFloatArray();
        float[] s = new float[v.length];
        for (int i = 0; i < n; i++) {
            int base = (i * c + targets[i]) * plane;
            if (seed == Seed.UNIT) {
                java.util.Arrays.fill(s, base, base + plane, 1f);
            } else {
                int best = 0;
                for (int j = 1; j < plane; j++) {
                    if (v[base + j] > v[base + best]) {
                        best = j;
                    }
                }
                s[base + best] = 1f;
            }
        }
        return m.create(s, sh);
    }

    /**
     * A forward pass that records autograd but keeps inference behaviour (dropout off, batch-norm
     * running statistics). DJL runs a TorchScript module without autograd unless asked to train,
     * and asking it to train also switches the module to training mode; so for TorchScript the
     * module is held in eval mode and run with gradients on.
     */
    private NDList forwardWithGradients(NDList input) {
        if (model.block() instanceof PtSymbolBlock script) {
            JniUtils.enableInferenceMode(script);
            return IValueUtils.forward(script, input, true);
        }
        return model.block().forward(parameterStore, input, false);
    }

    private static long[] targetsAsLong(int[] targets) {
        long[] t = new long[targets.length];
        for (int i = 0; i < targets.length; i++) {
            t[i] = targets[i];
        }
        return t;
    }

    private static List<String> tapNames(NDList out) {
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

    private void requireGradients() {
        if (!model.gradients()) {
            throw new IllegalStateException("model " + model.spec().name() + " was loaded without gradients");
        }
    }

    /** {@code n} preprocessed images (NCHW, concatenated in {@code input}) as a tensor in {@code batch}. */
    private NDArray images(NDManager batch, float[] input, int n) {
        ModelSpec spec = model.spec();
        return batch.create(FloatBuffer.wrap(input, 0, n * spec.channels() * spec.height() * spec.width()),
                new Shape(n, spec.channels(), spec.height(), spec.width()));
    }
}
