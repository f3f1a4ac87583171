package io.cnnlens.tests;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a run's time goes, Spark job by Spark job: each job's wall time by the call site that
 * started it (the name Spark gives the job's result stage), summed per call site. For the benches, which
 * print the costliest sites beside their step timings.
 */
final class SparkJobProfile extends SparkListener implements AutoCloseable {

    private final SparkContext context;
    private final Map<Integer, long[]> started = new ConcurrentHashMap<>();
    private final Map<Integer, String> sites = new ConcurrentHashMap<>();
    private final Map<Long, String> executions = new ConcurrentHashMap<>();
    private final Map<String, double[]> bySite = new LinkedHashMap<>();

    private SparkJobProfile(SparkContext context) {
        this.context = context;
    }

    static SparkJobProfile start(SparkContext context) {
        SparkJobProfile p = new SparkJobProfile(context);
        context.addSparkListener(p);
        return p;
    }

    @Override
    public void onJobStart(SparkListenerJobStart start) {
        // the result stage (the last one) is named after the call site: "count at AuditJob.java:207"
        String site = "(unknown)";
        int last = -1;
        for (org.apache.spark.scheduler.StageInfo info : scala.jdk.javaapi.CollectionConverters.asJava(start.stageInfos())) {
            if (info.stageId() > last) {
                last = info.stageId();
                site = info.name();
            }
        }
        // a job an SQL query started on another thread (adaptive execution's stages): the query's call site
        String execution = start.properties() == null ? null : start.properties().getProperty("spark.sql.execution.id");
        if (execution != null && executions.containsKey(Long.parseLong(execution))) {
            site = executions.get(Long.parseLong(execution));
        }
        sites.put(start.jobId(), site);
        long tasks = 0;
        for (org.apache.spark.scheduler.StageInfo info : scala.jdk.javaapi.CollectionConverters.asJava(start.stageInfos())) {
            tasks += info.numTasks();
        }
        started.put(start.jobId(), new long[] {start.time(), tasks});
    }

    @Override
    public void onOtherEvent(org.apache.spark.scheduler.SparkListenerEvent event) {
        if (event instanceof org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart e) {
            executions.put(e.executionId(), e.description());
        }
    }

    @Override
    public synchronized void onJobEnd(SparkListenerJobEnd end) {
        long[] t = started.remove(end.jobId());
        String site = sites.remove(end.jobId());
        if (t != null) {
            double[] s = bySite.computeIfAbsent(site, x -> new double[3]);
            s[0] += (end.time() - t[0]) / 1000.0;
            s[1]++;
            s[2] += t[1];
        }
    }

    /** The {@code top} call sites by summed job seconds, one line each, after the number of jobs and their total. */
    synchronized List<String> lines(int top) {
        List<String> out = new ArrayList<>();
        double total = bySite.values().stream().mapToDouble(s -> s[0]).sum();
        long jobs = Math.round(bySite.values().stream().mapToDouble(s -> s[1]).sum());
        out.add(String.format(Locale.ROOT, "%d Spark jobs, %.1f s in jobs", jobs, total));
        bySite.entrySet().stream().sorted(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> -e.getValue()[0])).limit(top)
                .forEach(e -> out.add(String.format(Locale.ROOT, "%6.2f s in %3.0f jobs (%4.0f tasks) at %s", e.getValue()[0], e.getValue()[1],
                        e.getValue()[2], e.getKey())));
        return out;
    }

    @Override
    public void close() {
        context.removeSparkListener(this);
    }
}
