package io.cnnlens.jobs.spark;

import io.cnnlens.image.DecodeException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor pipeline inside Spark tasks ({@link ImageBatches} on decode threads): order and the
 * error-row contract, decode threads stopped when a task ends early or fails; and the task plan
 * ({@link TaskResources}) for the resources Spark assigns, GPUs included, without a GPU.
 */
class ExecutorPipelineTest {

    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("executor-pipeline")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    static long decodeThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("cnnlens-decode")).count();
    }

    /** Decode threads end a little after their task: the listener waits for them, but the driver may look first. */
    static void assertNoDecodeThreadsSoon() throws InterruptedException {
        for (int i = 0; i < 100 && decodeThreads() > 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(0, decodeThreads(), "decode threads left after the tasks ended");
    }

    /** Rows as ImageSource gives them: "img-i" holds the text "i", every 5th "bad", every 11th a listing error. */
    static JavaRDD<Row> inputs(int n, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] content = (i % 5 == 3 ? "bad" : String.valueOf(i)).getBytes(StandardCharsets.UTF_8);
            rows.add(RowFactory.create("img-" + i, null, (long) content.length, content, null, i % 11 == 7 ? "a FIFO" : null));
        }
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions);
    }

    /** The decoder: the number the content holds, slowly, out of order across threads; "bad" fails. */
    static int decode(InputRow in) throws DecodeException {
        byte[] b = in.bytes(1 << 20, new Configuration());
        String s = new String(b, StandardCharsets.UTF_8);
        try {
            Thread.sleep((s.hashCode() & 3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (s.equals("bad")) {
            throw new DecodeException("decode", "not an image");
        }
        return Integer.parseInt(s);
    }

    static JavaRDD<String> pipeline(JavaRDD<Row> rows, String stash, int threads, int queue, int batch) {
        return rows.mapPartitions(it -> {
            org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
            ErrorStash.Writer errors = new ErrorStash.Writer(stash, new Configuration(), tc.partitionId(), tc.taskAttemptId());
            tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> errors.close());
            ImageBatches<Integer> batches = new ImageBatches<>(it, batch, ExecutorPipelineTest::decode, errors, null, threads, queue);
            return ImageBatches.flatten(batches, b -> {
                List<String> out = new ArrayList<>();
                for (int v : b) {
                    out.add("img-" + v + "@" + tc.partitionId());
                }
                return out;
            });
        });
    }

    @Test
    void rowsAndErrorRowsAreOnePerInputInOrderWithOrWithoutThePipeline() throws Exception {
        int n = 300;
        List<List<String>> runs = new ArrayList<>();
        List<List<Row>> stashes = new ArrayList<>();
        int[][] settings = {{0, 0}, {1, 2}, {3, 1}, {3, 4}};
        for (int[] s : settings) {
            String stash = tmp.resolve("stash-" + s[0] + "-" + s[1]).toString();
            runs.add(pipeline(inputs(n, 3), stash, s[0], s[1], 16).collect());
            StructType schema = new StructType().add("path", DataTypes.StringType).add("stage", DataTypes.StringType)
                    .add("reason", DataTypes.StringType);
            stashes.add(ErrorStash.read(spark, stash, schema, new Configuration()).orderBy("path").collectAsList());
        }
        List<String> expected = new ArrayList<>();
        List<Integer> good = IntStream.range(0, n).filter(i -> i % 5 != 3 && i % 11 != 7).boxed().toList();
        int bad = n - good.size();
        for (int i : good) {
            expected.add("img-" + i + "@" + (i * 3 / n)); // parallelize slices contiguous ranges
        }
        for (int k = 0; k < settings.length; k++) {
            assertEquals(expected, runs.get(k), "rows in input order, decode threads/queue " + settings[k][0] + "/" + settings[k][1]);
            assertEquals(bad, stashes.get(k).size(), "one error row per bad input");
            assertEquals(n, runs.get(k).size() + stashes.get(k).size(), "inputs = rows + errors");
            assertEquals(stashes.get(0), stashes.get(k), "same error rows with the pipeline");
        }
        long lists = stashes.get(1).stream().filter(r -> r.getString(1).equals(ImageSource.LIST_STAGE)).count();
        assertEquals(IntStream.range(0, n).filter(i -> i % 11 == 7).count(), lists);
        assertNoDecodeThreadsSoon();
    }

    @Test
    void aConsumerThatStopsEarlyLeavesNoDecodeThreads() throws Exception {
        List<String> first = pipeline(inputs(5_000, 1), tmp.resolve("early").toString(), 3, 4, 8).take(5);
        assertEquals(List.of("img-0@0", "img-1@0", "img-2@0", "img-4@0", "img-5@0"), first);
        assertNoDecodeThreadsSoon();
    }

    @Test
    void aFailingTaskLeavesNoDecodeThreadsAndPublishesNothing() throws Exception {
        String stash = tmp.resolve("failing").toString();
        JavaRDD<String> failing = pipeline(inputs(2_000, 2), stash, 2, 2, 8).map(s -> {
            if (s.equals("img-900@0")) {
                throw new IllegalStateException("downstream failure");
            }
            return s;
        });
        Exception e = assertThrows(Exception.class, failing::collect);
        assertTrue(String.valueOf(e.getMessage()).contains("downstream failure"), e.getMessage());
        assertNoDecodeThreadsSoon();
        assertTrue(!java.nio.file.Files.exists(Path.of(stash).resolve("part-0.json")), "a failed attempt publishes no errors");
    }

    // ---- the task plan ----

    static Map<String, ResourceInformation> gpu(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    static SparkConf conf(String... kv) {
        SparkConf c = new SparkConf(false);
        for (int i = 0; i < kv.length; i += 2) {
            c.set(kv[i], kv[i + 1]);
        }
        return c;
    }

    @Test
    void aCpuTaskDecodesAndRunsTheNetworkOnItsCpuShare() {
        TaskResources.Plan one = TaskResources.of(Map.of(), 1, conf("spark.executor.cores", "4")).plan(0, 0, 2);
        assertEquals(new TaskResources.Plan(-1, TaskResources.CPU_BATCH_DEFAULT, 1, 2, 1), one);
        assertEquals("cpu", one.device());
        TaskResources.Plan two = TaskResources.of(Map.of(), 2, conf("spark.executor.cores", "4")).plan(0, 0, 2);
        assertEquals(new TaskResources.Plan(-1, 64, 2, 2, 2), two);
        // the options win over the defaults
        assertEquals(new TaskResources.Plan(-1, 16, 3, 0, 2), TaskResources.of(Map.of(), 2, conf()).plan(16, 3, 0));
        // no executor cores set (local mode): this JVM's processors, never fewer than the task's cpus
        assertEquals(Math.max(8, Runtime.getRuntime().availableProcessors()), TaskResources.of(Map.of(), 8, conf()).executorCores());
        assertThrows(IllegalArgumentException.class, () -> TaskResources.cpu(1, 4).plan(-1, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> TaskResources.cpu(1, 4).plan(0, 0, -1));
    }

    @Test
    void aGpuTaskBindsItsFirstAddressAndSharesTheExecutorsCoresForDecoding() {
        // the shipped GPU defaults: one GPU per executor, 0.25 of it per task, 16 cores: 4 tasks, 4 decode threads each
        SparkConf quarter = conf("spark.executor.cores", "16", "spark.executor.resource.gpu.amount", "1",
                "spark.task.resource.gpu.amount", "0.25");
        TaskResources r = TaskResources.of(gpu("1"), 1, quarter);
        assertEquals(4, r.concurrentTasks());
        TaskResources.Plan p = r.plan(0, 0, 2);
        assertEquals(new TaskResources.Plan(1, TaskResources.GPU_BATCH_DEFAULT, 4, 2, 1), p);
        assertEquals("gpu:1", p.device());
        assertTrue(p.onGpu());
        // cores limit the tasks before the GPU does: 8 cores, 4 cpus per task, 0.25 GPU: 2 tasks, 4 threads each
        TaskResources byCores = TaskResources.of(gpu("0"), 4, conf("spark.executor.cores", "8",
                "spark.executor.resource.gpu.amount", "1", "spark.task.resource.gpu.amount", "0.25"));
        assertEquals(2, byCores.concurrentTasks());
        assertEquals(4, byCores.plan(0, 0, 2).decodeThreads());
        // a whole GPU per task, two GPUs on a 32-core executor: 2 tasks, 16 decode threads each; the task's own address
        TaskResources whole = TaskResources.of(gpu(" 3 "), 1, conf("spark.executor.cores", "32",
                "spark.executor.resource.gpu.amount", "2", "spark.task.resource.gpu.amount", "1"));
        assertEquals(new TaskResources.Plan(3, 256, 16, 2, 1), whole.plan(0, 0, 2));
        // half a GPU, one GPU, 12 cores: 2 tasks, 6 threads; a set decode-thread count wins
        TaskResources half = TaskResources.of(gpu("0"), 1, conf("spark.executor.cores", "12",
                "spark.executor.resource.gpu.amount", "1", "spark.task.resource.gpu.amount", "0.5"));
        assertEquals(6, half.plan(0, 0, 2).decodeThreads());
        assertEquals(new TaskResources.Plan(0, 128, 2, 3, 1), half.plan(128, 2, 3));
        // no gpu resource: the CPU plan, whatever the conf says about GPUs
        assertEquals(-1, TaskResources.of(Map.of(), 1, quarter).plan(0, 0, 2).gpu());
    }

    @Test
    void theCurrentTasksResourcesAreWhatSparkGaveIt() {
        List<String> seen = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(1, 2), 2)
                .map(x -> {
                    TaskResources r = TaskResources.current();
                    TaskResources.Plan p = r.plan(0, 0, 2);
                    return r.taskCpus() + "/" + r.hasGpu() + "/" + p.device() + "/" + p.decodeThreads() + "/" + p.intraOpThreads();
                }).collect();
        assertEquals(List.of("1/false/cpu/1/1", "1/false/cpu/1/1"), seen);
    }
}
