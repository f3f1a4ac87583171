package io.cnnlens.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import java.util.List;
import java.util.Map;

/**
 * What Spark gave one task — its GPU addresses, {@code spark.task.cpus}, the executor's cores and
 * GPUs, the task's share of a GPU — and, by a pure function of that and the job's options, how the
 * task runs: its device, batch size, decode threads, decode queue and PyTorch intra-op threads
 * ({@link #plan}). Kept apart from the {@link TaskContext} so the GPU rules are tested without a GPU.
 *
 * <ul>
 *   <li>CPU task: batch {@value #CPU_BATCH_DEFAULT}; decode threads and intra-op threads both
 *       {@code spark.task.cpus} (decode and forward take turns on the task's cores: the forward
 *       blocks in native code while decode threads fill the queue; docs/executor-runtime.md).</li>
 *   <li>GPU task: device {@code gpu:<first address>}, batch {@value #GPU_BATCH_DEFAULT}; decode
 *       threads = the executor's cores divided among the tasks that run on it at once (so all
 *       its cores decode for its GPUs); one intra-op thread (the forward runs on the GPU).</li>
 * </ul>
 */
public record TaskResources(List<String> gpuAddresses, int taskCpus, int executorCores, int executorGpus, double gpuAmount) {

    public static final int CPU_BATCH_DEFAULT = 64;
    public static final int GPU_BATCH_DEFAULT = 256;

    public TaskResources {
        gpuAddresses = List.copyOf(gpuAddresses);
        if (taskCpus < 1 || executorCores < 1) {
            throw new IllegalArgumentException("task cpus and executor cores must be positive");
        }
        if (gpuAmount < 0 || executorGpus < 0) {
            throw new IllegalArgumentException("GPU amounts must not be negative");
        }
    }

    /** A CPU-only task with {@code taskCpus} of an executor's {@code executorCores}. */
    public static TaskResources cpu(int taskCpus, int executorCores) {
        return new TaskResources(List.of(), taskCpus, executorCores, 0, 0);
    }

    /** How one task runs. {@code gpu} is -1 on the CPU. */
    public record Plan(int gpu, int batchSize, int decodeThreads, int decodeQueue, int intraOpThreads) {
        public boolean onGpu() {
            return gpu >= 0;
        }

        public String device() {
            return onGpu() ? "gpu:" + gpu : "cpu";
        }
    }

    public boolean hasGpu() {
        return !gpuAddresses.isEmpty();
    }

    /**
     * Tasks of this kind that run on the executor at once: its cores over the task's cpus, and on
     * a GPU executor no more than its GPUs hold at {@code gpuAmount} each.
     */
    public int concurrentTasks() {
        int byCores = Math.max(1, executorCores / taskCpus);
        if (!hasGpu() || gpuAmount <= 0) {
            return byCores;
        }
        int perGpu = gpuAmount >= 1 ? 1 : (int) Math.floor(1.0 / gpuAmount + 1e-9);
        int gpus = Math.max(1, executorGpus);
        int byGpus = gpuAmount >= 1 ? Math.max(1, (int) Math.floor(gpus / gpuAmount + 1e-9)) : gpus * perGpu;
        return Math.max(1, Math.min(byCores, byGpus));
    }

    /**
     * The task's plan: the options where set (positive; the queue 0 or more), else the defaults.
     *
     * @param batchSize     0 = {@value #CPU_BATCH_DEFAULT} on the CPU, {@value #GPU_BATCH_DEFAULT} on a GPU
     * @param decodeThreads 0 = automatic (see the class comment)
     * @param decodeQueue   batches decoded ahead of the forward; 0 = decode on the task thread (no pipeline)
     */
    public Plan plan(int batchSize, int decodeThreads, int decodeQueue) {
        if (batchSize < 0 || decodeThreads < 0 || decodeQueue < 0) {
            throw new IllegalArgumentException("batch size, decode threads and decode queue must be 0 or positive");
        }
        int gpu = hasGpu() ? Integer.parseInt(gpuAddresses.get(0).trim()) : -1;
        int batch = batchSize > 0 ? batchSize : gpu >= 0 ? GPU_BATCH_DEFAULT : CPU_BATCH_DEFAULT;
        int threads;
        int intraOp;
        if (gpu >= 0) {
            threads = decodeThreads > 0 ? decodeThreads : Math.max(1, executorCores / concurrentTasks());
            intraOp = 1;
        } else {
            threads = decodeThreads > 0 ? decodeThreads : taskCpus;
            intraOp = taskCpus;
        }
        return new Plan(gpu, batch, threads, decodeQueue, intraOp);
    }

    /** The current task's resources (outside any task, e.g. on the driver: a CPU task with all cores). */
    public static TaskResources current() {
        TaskContext tc = TaskContext.get();
        int cores = Runtime.getRuntime().availableProcessors();
        if (tc == null) {
            return cpu(cores, cores);
        }
        SparkEnv env = SparkEnv.get();
        return of(scala.jdk.javaapi.CollectionConverters.asJava(tc.resources()), tc.cpus(),
                env == null ? new SparkConf(false) : env.conf());
    }

    /**
     * The resources of a task that Spark gave {@code resources} (its {@code TaskContext.resources()})
     * and {@code taskCpus}, on an executor configured by {@code conf}: {@code spark.executor.cores}
     * (unset, as in local mode: this JVM's processors), {@code spark.executor.resource.gpu.amount},
     * {@code spark.task.resource.gpu.amount}.
     */
    public static TaskResources of(Map<String, ResourceInformation> resources, int taskCpus, SparkConf conf) {
        int cpus = Math.max(1, taskCpus);
        int executorCores = conf.getInt("spark.executor.cores", Runtime.getRuntime().availableProcessors());
        int executorGpus = (int) Math.ceil(conf.getDouble("spark.executor.resource.gpu.amount", 0));
        double gpuAmount = conf.getDouble("spark.task.resource.gpu.amount", 0);
        ResourceInformation gpu = resources.get("gpu");
        List<String> addresses = gpu == null ? List.of() : List.of(gpu.addresses());
        return new TaskResources(addresses, cpus, Math.max(executorCores, cpus), executorGpus, gpuAmount);
    }
}
