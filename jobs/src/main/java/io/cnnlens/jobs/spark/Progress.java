package io.cnnlens.jobs.spark;

import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of a job's pass over its inputs while it runs: images done of total, rate and time
 * left. Executors add one to {@link #counter()} per input they finish; the driver learns the
 * counts of running tasks from the executors' heartbeats and of finished ones from their task
 * ends (a Spark listener: failed attempts are not counted, their inputs are redone). On a
 * terminal it draws a bar on stderr every second; otherwise it logs a line every
 * {@value #LOG_SECONDS_DEFAULT} s (system property {@code cnnlens.progress.seconds}). The counter
 * is for display only: no result count is taken from it.
 */
public final class Progress implements AutoCloseable {

    public static final int LOG_SECONDS_DEFAULT = 10;

    private final SparkSession spark;
    private final String job;
    private final long total;
    private final LongAccumulator counter;
    private final Listener listener;
    private final ScheduledExecutorService printer;
    private final boolean terminal = System.console() != null;
    private final long t0 = System.nanoTime();
    private final PrintStream err = System.err;

    private Progress(SparkSession spark, String job, long total) {
        this.spark = spark;
        this.job = job;
        this.total = total;
        this.counter = spark.sparkContext().longAccumulator("cnnlens progress " + job);
        this.listener = new Listener(counter.id());
        spark.sparkContext().addSparkListener(listener);
        this.printer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cnnlens-progress");
            t.setDaemon(true);
            return t;
        });
        long every = terminal ? 1 : Long.getLong("cnnlens.progress.seconds", LOG_SECONDS_DEFAULT);
        printer.scheduleAtFixedRate(this::print, every, every, TimeUnit.SECONDS);
    }

    public static Progress start(SparkSession spark, String job, long total) {
        return new Progress(spark, job, total);
    }

    /** What executors add to, one per input done. */
    public LongAccumulator counter() {
        return counter;
    }

    /** Inputs done so far, as far as the driver knows. */
    public long done() {
        return Math.min(total, listener.done());
    }

    /** The progress line: {@code saliency: 1,234 of 10,000 images (12%), 45.3 images/s, 3 min 14 s left}. */
    public String line() {
        long d = done();
        double s = (System.nanoTime() - t0) / 1e9;
        double rate = s > 0 ? d / s : 0;
        String left = rate > 0 ? duration((total - d) / rate) + " left" : "time left unknown";
        return String.format(Locale.ROOT, "%s: %,d of %,d images (%d%%), %.1f images/s, %s", job, d, total,
                total == 0 ? 100 : d * 100 / total, rate, left);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return (s / 60) + " min " + (s % 60) + " s";
        }
        return (s / 3600) + " h " + (s % 3600) / 60 + " min";
    }

    private void print() {
        if (terminal) {
            int width = 30;
            long d = done();
            int filled = total == 0 ? width : (int) (d * width / total);
            err.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + line() + "   ");
            err.flush();
        } else {
            err.println(line());
        }
    }

    /** Stops reporting; a terminal's bar is finished with a newline. */
    @Override
    public void close() {
        printer.shutdownNow();
        spark.sparkContext().removeSparkListener(listener);
        if (terminal) {
            print();
            err.println();
        }
    }

    /** Counts from task ends (finished attempts) and heartbeats (running ones). */
    static final class Listener extends SparkListener {
        private final long accumulatorId;
        private final AtomicLong finished = new AtomicLong();
        private final Map<Long, Long> running = new ConcurrentHashMap<>();
        private final java.util.Set<Long> ended = ConcurrentHashMap.newKeySet();

        Listener(long accumulatorId) {
            this.accumulatorId = accumulatorId;
        }

        long done() {
            long r = 0;
            for (long v : running.values()) {
                r += v;
            }
            return finished.get() + r;
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            ended.add(end.taskInfo().taskId());
            running.remove(end.taskInfo().taskId());
            if (end.taskInfo().successful()) {
                for (AccumulableInfo a : CollectionConverters.asJava(end.taskInfo().accumulables())) {
                    if (a.id() == accumulatorId && a.update().isDefined()) {
                        finished.addAndGet(((Number) a.update().get()).longValue());
                    }
                }
            }
        }

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                    : CollectionConverters.asJava(update.accumUpdates())) {
                for (AccumulableInfo a : CollectionConverters.asJava(t._4())) {
                    if (a.id() == accumulatorId && a.update().isDefined() && !ended.contains((Long) t._1())) {
                        running.put((Long) t._1(), ((Number) a.update().get()).longValue());
                    }
                }
            }
        }
    }
}
