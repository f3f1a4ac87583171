package io.cnnlens.jobs.spark;

import ai.djl.Device;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.TorchRuntime;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an executor JVM holds across tasks: one loaded model per (model, device), shared by all
 * task threads and closed when the JVM exits. Each task then runs it through its own
 * {@link io.cnnlens.model.ModelForward}. A task runs on the GPU Spark assigned it (its
 * {@code gpu} resource), else on the CPU with PyTorch's intra-op threads set to the task's CPU
 * share ({@code spark.task.cpus}).
 */
public final class ExecutorRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorRuntime.class);
    private static final Map<String, LoadedModel> MODELS = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorRuntime::closeAll, "cnnlens-models-close"));
    }

    private ExecutorRuntime() {
    }

    /** The model for the current task, on the task's device; loaded on first use in this JVM. */
    public static LoadedModel model(String location, Configuration hadoop, boolean gradients) {
        Device device = taskDevice();
        if (!device.isGpu()) {
            TorchRuntime.setIntraOpThreads(taskCpus());
        }
        String key = location + "|" + device + "|" + gradients;
        return MODELS.computeIfAbsent(key, k -> {
            ModelSpec spec = ModelLocator.load(location, hadoop);
            LOG.info("loading model {} on {}", spec.name(), device);
            return LoadedModel.load(spec, device, gradients);
        });
    }

    /**
     * How the current task runs ({@link TaskResources#plan}) for a job's batch-size, decode-thread
     * and decode-queue options; on the CPU this also sets this thread's PyTorch intra-op threads
     * to the plan's. Call on the task thread.
     */
    public static TaskResources.Plan plan(int batchSize, int decodeThreads, int decodeQueue) {
        TaskResources.Plan plan = TaskResources.current().plan(batchSize, decodeThreads, decodeQueue);
        if (!plan.onGpu()) {
            TorchRuntime.setIntraOpThreads(plan.intraOpThreads());
        }
        return plan;
    }

    /** The GPU Spark assigned to this task, or the CPU. */
    public static Device taskDevice() {
        TaskContext tc = TaskContext.get();
        if (tc == null) {
            return Device.cpu();
        }
        Option<ResourceInformation> gpu = tc.resources().get("gpu");
        if (gpu.isEmpty() || gpu.get().addresses().length == 0) {
            return Device.cpu();
        }
        int id = Integer.parseInt(gpu.get().addresses()[0].trim());
        if (TorchRuntime.engine().getGpuCount() <= id) {
            throw new IllegalStateException("Spark assigned GPU " + id + " but PyTorch sees "
                    + TorchRuntime.engine().getGpuCount() + " GPU(s): are DJL's CUDA natives installed? (deploy/README.md)");
        }
        return Device.gpu(id);
    }

    public static int taskCpus() {
        TaskContext tc = TaskContext.get();
        return tc == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, tc.cpus());
    }

    public static void closeAll() {
        MODELS.values().forEach(m -> {
            try {
                m.close();
            } catch (RuntimeException e) {
                // the JVM is going away; nothing more to do
            }
        });
        MODELS.clear();
    }
}
