package io.cnnlens.tests;

import io.cnnlens.jobs.spark.Progress;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Progress while a job runs: counts of running tasks arrive by heartbeat, finished ones by task end. */
class ProgressTest extends SparkTestBase {

    @Test
    void showsInputsDoneWhileTheJobRunsAndAllOfThemAtTheEnd() throws Exception {
        int n = 200;
        List<Long> seen = new CopyOnWriteArrayList<>();
        Progress progress = Progress.start(spark, "test", n);
        try (progress) {
            LongAccumulator counter = progress.counter();
            Thread watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    seen.add(progress.done());
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            watcher.start();
            List<Integer> items = new ArrayList<>(IntStream.range(0, n).boxed().toList());
            JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(items, 4).foreach(x -> {
                Thread.sleep(30); // 50 items a task: 1.5 s, so heartbeats (1 s in the tests) arrive mid-task
                counter.add(1);
            });
            for (int i = 0; i < 50 && progress.done() < n; i++) {
                Thread.sleep(100); // the listener bus is asynchronous
            }
            watcher.interrupt();
            watcher.join();
        }
        assertEquals(n, progress.done(), "every input counted once at the end");
        assertTrue(seen.stream().anyMatch(d -> d > 0 && d < n), "progress seen while the job ran: " + seen);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1) - 50, "progress does not fall back by more than a task: " + seen);
        }
        assertTrue(progress.line().matches("test: 200 of 200 images \\(100%\\), [0-9.]+ images/s, .*"), progress.line());
    }
}
