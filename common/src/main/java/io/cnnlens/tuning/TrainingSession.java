package io.cnnlens.tuning;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.cnnlens.model.FashionAlexNet;
import io.cnnlens.model.TorchRuntime;

import java.io.IOException;
import java.nio.file.Path;

/**
 * One network of the family being trained through DJL (PyTorch engine): the model, its trainer
 * (Xavier-initialised weights, softmax cross-entropy on the {@code logits} tap, Adam or SGD with
 * momentum 0.9, L2 weight decay in the optimiser) and a learning-rate tracker. The jobs drive it a
 * step at a time ({@link #step}); every NDArray of a step lives in a sub-manager closed with it.
 */
public final class TrainingSession implements AutoCloseable {

    /** What one step saw: the mean data loss of the batch (no weight-decay term) and how many it got right. */
    public record Step(float loss, int correct, int size) {
    }

    /**
     * DJL's PyTorch engine allows one gradient collector at a time per JVM, so sessions in the same JVM (two Spark tasks
     * of one executor) take turns step by step; parallel trials need one task slot per executor JVM (docs/tuning.md).
     */
    private static final java.util.concurrent.locks.ReentrantLock GRADIENTS = new java.util.concurrent.locks.ReentrantLock(true);

    private final Model model;
    private final Trainer trainer;
    private final Loss loss = Loss.softmaxCrossEntropyLoss();
    private final float mean;
    private final float invStd;

    /**
     * @param tracker the learning rate per update (see {@link #schedule})
     */
    public TrainingSession(Recipe r, int classes, float mean, float std, Tracker tracker, long seed, int threads) {
        TorchRuntime.setIntraOpThreads(threads);
        Engine.getInstance().setRandomSeed((int) seed);
        this.mean = mean;
        this.invStd = 1f / std;
        this.model = Model.newInstance("tune", "PyTorch");
        try {
            io.cnnlens.model.TappedSequence net = FashionAlexNet.build(classes, (float) r.dropout(), r.width());
            model.setBlock(net);
            Parameter last = net.stages().get(net.stageNames().indexOf("fc8")).getParameters().get("weight");
            Optimizer opt = "sgd".equals(r.optimizer())
                    ? Optimizer.sgd().setLearningRateTracker(tracker).optMomentum(0.9f).optWeightDecays((float) r.weightDecay()).build()
                    : Optimizer.adam().optLearningRateTracker(tracker).optWeightDecays((float) r.weightDecay()).build();
            DefaultTrainingConfig config = new DefaultTrainingConfig(loss)
                    .optInitializer(new XavierInitializer(), p -> p.getType() == Parameter.Type.WEIGHT)
                    .optOptimizer(opt);
            if ("small-last".equals(r.init())) {
                config.optInitializer(new ai.djl.training.initializer.NormalInitializer(0.01f), p -> p == last);
            }
            this.trainer = model.newTrainer(config);
            trainer.initialize(new Shape(1, 1, LabelledImages.SIDE, LabelledImages.SIDE));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The recipe's schedule over {@code steps} updates: cosine to lr/100, ×0.1 at 50 % and 75 %, or constant. */
    public static Tracker schedule(Recipe r, int steps) {
        float lr = (float) r.lr();
        return switch (r.schedule()) {
            case "cosine" -> Tracker.cosine().setBaseValue(lr).optFinalValue(lr / 100).setMaxUpdates(Math.max(1, steps)).build();
            case "step" -> Tracker.multiFactor().setBaseValue(lr)
                    .setSteps(new int[] {Math.max(1, steps / 2), Math.max(2, steps * 3 / 4)}).optFactor(0.1f).build();
            default -> Tracker.fixed(lr);
        };
    }

    /** One update on these images (gradients, optimiser step); returns the batch's loss before the update. */
    public Step step(byte[][] images, int[] labels) {
        Step s;
        GRADIENTS.lock();
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = normalised(m, images);
            NDArray y = labels(m, labels);
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDArray logits = trainer.forward(new NDList(x)).get("logits");
                NDArray l = loss.evaluate(new NDList(y), new NDList(logits));
                gc.backward(l);
                s = new Step(l.getFloat(), correct(logits, labels), labels.length);
            }
            trainer.step();
        } finally {
            GRADIENTS.unlock();
        }
        return s;
    }

    /** The mean data loss on these images with the network in evaluation mode (no dropout), no update. */
    public double evalLoss(byte[][] images, int[] labels) {
        return evaluate(images, labels)[0];
    }

    /** Accuracy on these images in evaluation mode, batched. */
    public double accuracy(byte[][] images, int[] labels) {
        return evaluate(images, labels)[1];
    }

    /** {mean loss, accuracy} in evaluation mode, batches of 500. */
    public double[] evaluate(byte[][] images, int[] labels) {
        if (labels.length == 0) {
            return new double[] {Double.NaN, Double.NaN};
        }
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        double lossSum = 0;
        long right = 0;
        try (NDManager m = model.getNDManager().newSubManager()) {
            ParameterStore ps = new ParameterStore(m, false);
            for (int start = 0; start < labels.length; start += 500) {
                int n = Math.min(500, labels.length - start);
                try (NDManager b = m.newSubManager()) {
                    byte[][] xs = java.util.Arrays.copyOfRange(images, start, start + n);
                    int[] ys = java.util.Arrays.copyOfRange(labels, start, start + n);
                    NDArray logits = model.getBlock().forward(ps, new NDList(normalised(b, xs)), false).get("logits");
                    lossSum += loss.evaluate(new NDList(labels(b, ys)), new NDList(logits)).getFloat() * n;
                    right += correct(logits, ys);
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
        return new double[] {lossSum / labels.length, right / (double) labels.length};
    }

    /** Saves the weights as {@code <dir>/<name>-0000.params} (DJL's format, as the bundled model's). */
    public Path save(Path dir, String name) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        model.setProperty("Epoch", "0");
        model.save(dir, name);
        return dir.resolve(name + "-0000.params");
    }

    private static int correct(NDArray logits, int[] labels) {
        long[] pred = logits.argMax(1).toLongArray();
        int c = 0;
        for (int i = 0; i < labels.length; i++) {
            if (pred[i] == labels[i]) {
                c++;
            }
        }
        return c;
    }

    private NDArray labels(NDManager m, int[] labels) {
        return m.create(labels).toType(DataType.INT64, false);
    }

    private NDArray normalised(NDManager m, byte[][] images) {
        int per = LabelledImages.SIDE * LabelledImages.SIDE;
        float[] flat = new float[images.length * per];
        for (int i = 0; i < images.length; i++) {
            byte[] img = images[i];
            for (int j = 0; j < per; j++) {
                flat[i * per + j] = ((img[j] & 0xff) / 255f - mean) * invStd;
            }
        }
        return m.create(flat, new Shape(images.length, 1, LabelledImages.SIDE, LabelledImages.SIDE));
    }

    @Override
    public void close() {
        try {
            trainer.close();
        } finally {
            model.close();
        }
    }
}
