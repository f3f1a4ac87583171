package io.cnnlens.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Process-wide PyTorch settings. PyTorch's intra-op thread count is global to the process, so a
 * JVM running several one-core Spark tasks sets it once to the task's CPU share.
 */
public final class TorchRuntime {

    private TorchRuntime() {
    }

    /** Loads the PyTorch engine (natives from the classpath; nothing is downloaded offline). */
    public static Engine engine() {
        return Engine.getEngine("PyTorch");
    }

    public static synchronized void setIntraOpThreads(int threads) {
        engine();
        if (threads > 0 && JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads);
        }
    }

    public static int intraOpThreads() {
        engine();
        return JniUtils.getNumThreads();
    }
}
