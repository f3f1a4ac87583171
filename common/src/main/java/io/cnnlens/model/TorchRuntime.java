package io.cnnlens.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/** PyTorch settings for the threads that run models. */
public final class TorchRuntime {

    private TorchRuntime() {
    }

    /** Loads the PyTorch engine (natives from the classpath; nothing is downloaded offline). */
    public static Engine engine() {
        return Engine.getEngine("PyTorch");
    }

    /**
     * Sets PyTorch's intra-op thread count. With PyTorch's OpenMP backend the setting also binds
     * the calling thread's OpenMP team size, so every thread that runs the model calls this (a
     * task thread that did not would run with all cores, and tasks would oversubscribe them).
     */
    public static void setIntraOpThreads(int threads) {
        engine();
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
    }

    public static int intraOpThreads() {
        engine();
        return JniUtils.getNumThreads();
    }
}
