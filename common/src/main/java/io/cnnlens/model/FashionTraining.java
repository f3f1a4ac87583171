package io.cnnlens.model;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import io.cnnlens.data.FashionMnist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Trains the bundled {@link FashionAlexNet} on Fashion-MNIST (DJL, PyTorch engine): Adam with a
 * cosine learning-rate schedule, softmax cross-entropy on the {@code logits} tap, inputs scaled
 * and normalised exactly as {@link io.cnnlens.image.Preprocessor} does for the bundled spec.
 */
public final class FashionTraining {

    /** Training settings; defaults are those of the committed weights. */
    public record Settings(int epochs, int batchSize, float learningRate, float dropout, int seed,
                           float mean, float std, int threads) {
        public static Settings defaults() {
            return new Settings(12, 128, 2e-3f, 0.3f, 42, 0.2860f, 0.3530f,
                    Runtime.getRuntime().availableProcessors());
        }
    }

    /** The result of a run. */
    public record Result(Path weights, double testAccuracy, double seconds) {
    }

    private FashionTraining() {
    }

    public static Result train(Path dataDir, Path outDir, String name, Settings s, Consumer<String> log)
            throws IOException {
        FashionMnist.Split train = FashionMnist.train(dataDir);
        FashionMnist.Split test = FashionMnist.test(dataDir);
        TorchRuntime.setIntraOpThreads(s.threads());
        Engine.getInstance().setRandomSeed(s.seed());
        long t0 = System.nanoTime();
        Files.createDirectories(outDir);
        try (Model model = Model.newInstance(name, "PyTorch");
             NDManager data = NDManager.newBaseManager()) {
            model.setBlock(FashionAlexNet.build(FashionMnist.CLASSES.size(), s.dropout()));
            NDArray x = normalised(data, train.images(), s);
            NDArray y = data.create(train.labels()).toType(DataType.INT64, false);
            ArrayDataset dataset = new ArrayDataset.Builder()
                    .setData(x).optLabels(y)
                    .setSampling(s.batchSize(), true, true)
                    .build();
            int steps = s.epochs() * (train.size() / s.batchSize());
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optInitializer(new XavierInitializer(), p -> p.getType() == ai.djl.nn.Parameter.Type.WEIGHT)
                    .optOptimizer(Optimizer.adam()
                            .optLearningRateTracker(Tracker.cosine()
                                    .setBaseValue(s.learningRate())
                                    .optFinalValue(s.learningRate() / 100)
                                    .setMaxUpdates(steps)
                                    .build())
                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(1, 1, FashionMnist.SIDE, FashionMnist.SIDE));
                Loss loss = Loss.softmaxCrossEntropyLoss();
                for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                    long e0 = System.nanoTime();
                    double lossSum = 0;
                    int batches = 0;
                    for (Batch batch : trainer.iterateDataset(dataset)) {
                        try (batch; GradientCollector gc = trainer.newGradientCollector()) {
                            NDList out = trainer.forward(batch.getData());
                            NDArray l = loss.evaluate(batch.getLabels(), new NDList(out.get("logits")));
                            gc.backward(l);
                            lossSum += l.getFloat();
                            batches++;
                        }
                        trainer.step();
                    }
                    double acc = accuracy(model, test, s);
                    log.accept(String.format("epoch %d/%d  loss %.4f  test accuracy %.4f  (%.0f s)",
                            epoch, s.epochs(), lossSum / batches, acc, (System.nanoTime() - e0) / 1e9));
                }
            } catch (TranslateException e) {
                throw new IOException(e);
            }
            model.setProperty("Epoch", "0");
            model.save(outDir, name);
            double acc = accuracy(model, test, s);
            return new Result(outDir.resolve(name + "-0000.params"), acc, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Accuracy of {@code model} (a bundled-architecture model) on a split, batched, no gradients. */
    public static double accuracy(Model model, FashionMnist.Split split, Settings s) {
        int correct = 0;
        int bs = 500;
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager m = model.getNDManager().newSubManager()) {
            ai.djl.training.ParameterStore ps = new ai.djl.training.ParameterStore(m, false);
            for (int start = 0; start < split.size(); start += bs) {
                int n = Math.min(bs, split.size() - start);
                try (NDManager b = m.newSubManager()) {
                    byte[][] images = java.util.Arrays.copyOfRange(split.images(), start, start + n);
                    NDArray logits = model.getBlock().forward(ps, new NDList(normalised(b, images, s)), false).get("logits");
                    long[] pred = logits.argMax(1).toLongArray();
                    for (int i = 0; i < n; i++) {
                        if (pred[i] == split.labels()[start + i]) {
                            correct++;
                        }
                    }
                }
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
        return correct / (double) split.size();
    }

    static NDArray normalised(NDManager m, byte[][] images, Settings s) {
        int n = images.length;
        int per = FashionMnist.SIDE * FashionMnist.SIDE;
        float[] flat = new float[n * per];
        float inv = 1f / s.std();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                flat[i * per + j] = ((images[i][j] & 0xff) / 255f - s.mean()) * inv;
            }
        }
        return m.create(flat, new Shape(n, 1, FashionMnist.SIDE, FashionMnist.SIDE));
    }
}
