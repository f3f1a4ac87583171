package io.cnnlens.tests;

import io.cnnlens.jobs.spark.TableCommitter;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The soak variant of {@link StandaloneClusterFaultTest}: {@code cnnlens.soak.rounds} (default
 * 10) runs of {@code cnnlens.soak.job} ({@code features}, the default, or {@code saliency}, the
 * vanilla gradient of every image) on a loopback standalone cluster of two one-core workers, each
 * round with one fault, in turn: an executor killed mid-job, a worker killed mid-job with its
 * executor (started again after the round), and the driver halted at each commit point
 * ({@code after-table:<the job's table>}, {@code before-log}, {@code after-log}). The kill point moves from round to round. After every
 * round a reader must see every input exactly once, at the versions the commit log names: the
 * previous ones after a halt before the log row, the new ones otherwise. One line per round:
 * fault, exit code, rows, distinct image ids, errors, the versions read, seconds.
 * {@code mvn -B -Pbench -pl tests -am verify -Dtest=StandaloneClusterSoakBench [-Dcnnlens.soak.job=saliency]}.
 */
@Tag("bench")
class StandaloneClusterSoakBench extends SparkTestBase {

    static final int EVERY = Integer.getInteger("cnnlens.soak.every", 1);   // all 2,000 sample images
    static final int BROKEN = 5;
    static final int PARTITIONS = 48;

    @TempDir
    static Path tmp;

    static StandaloneCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = StandaloneCluster.start(tmp.resolve("cluster"), 2, "2g");
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
            cluster.keepLogs(home().resolve("tests/target/standalone-soak-logs"));
            cluster = null;
        }
    }

    enum Fault { EXECUTOR, WORKER, HALT_AFTER_TABLE, HALT_BEFORE_LOG, HALT_AFTER_LOG }

    @Test
    void repeatedKillsNeverLeaveIncompleteOrDuplicateRows() throws Exception {
        int rounds = Integer.getInteger("cnnlens.soak.rounds", 10);
        Path images = tmp.resolve("images");
        Set<String> inputs = StandaloneClusterFaultTest.writeInputs(images, EVERY, BROKEN);
        Path jar = StandaloneCluster.jobJar();
        String out = tmp.resolve("out").toString();
        StandaloneClusterFaultTest.ClusterJob job = switch (System.getProperty("cnnlens.soak.job", "features")) {
            case "features" -> StandaloneClusterFaultTest.ClusterJob.FEATURES;
            case "saliency" -> StandaloneClusterFaultTest.ClusterJob.SALIENCY;
            default -> throw new IllegalArgumentException("cnnlens.soak.job: features or saliency");
        };
        List<String> args = new ArrayList<>(job.args(images, out));
        args.set(args.indexOf("--partitions") + 1, String.valueOf(PARTITIONS));

        // a clean first run, so that every fault has a previous version to keep
        StandaloneCluster.Submission seed = cluster.submit("seed", jar, List.of(), Map.of(), args);
        assertEquals(0, seed.await(10), StandaloneCluster.tail(seed.log()));
        StandaloneClusterFaultTest.Counts previous = StandaloneClusterFaultTest.counts(job, out);
        previous.assertComplete(inputs, BROKEN);

        List<String> report = new ArrayList<>();
        report.add(String.format(Locale.ROOT, "%-5s %-16s %4s %6s %6s %6s %6s  %-28s %6s", "round", "fault", "exit",
                "rows", "ids", "errors", "log", "versions read", "s"));
        Fault[] faults = Fault.values();
        for (int r = 0; r < rounds; r++) {
            Fault fault = faults[r % faults.length];
            long t = System.nanoTime();
            List<String> driverFlags = switch (fault) {
                case HALT_AFTER_TABLE -> List.of("-D" + TableCommitter.HALT_AT + "=after-table:" + job.table());
                case HALT_BEFORE_LOG -> List.of("-D" + TableCommitter.HALT_AT + "=before-log");
                case HALT_AFTER_LOG -> List.of("-D" + TableCommitter.HALT_AT + "=after-log");
                default -> List.of();
            };
            Set<String> staged = job.taskFiles(out);
            StandaloneCluster.Submission run = cluster.submit("round-" + r, jar, driverFlags, Map.of(), args);
            int killedWorker = -1;
            if (fault == Fault.EXECUTOR || fault == Fault.WORKER) {
                // the kill point moves: after 1, 5, 9, ... committed tasks (of 48)
                int after = 1 + (4 * r) % (PARTITIONS / 2);
                StandaloneClusterFaultTest.awaitTasks(job, out, staged, after, run);
                if (fault == Fault.EXECUTOR) {
                    assertTrue(cluster.killExecutor().isPresent(), "an executor to kill in round " + r);
                } else {
                    killedWorker = r % 2;
                    cluster.killWorker(killedWorker);
                }
            }
            int code = run.await(10);
            if (killedWorker >= 0) {
                cluster.startWorker(killedWorker);
            }
            StandaloneClusterFaultTest.Counts now = StandaloneClusterFaultTest.counts(job, out);
            report.add(String.format(Locale.ROOT, "%-5d %-16s %4d %6d %6d %6d %6d  %-28s %6.1f", r, fault, code, now.rows(),
                    now.distinctIds(), now.errors(), now.logEntries(), now.versions(), (System.nanoTime() - t) / 1e9));
            System.out.println(report.get(report.size() - 1));
            now.assertComplete(inputs, BROKEN);
            switch (fault) {
                case EXECUTOR, WORKER -> {
                    assertEquals(0, code, StandaloneCluster.tail(run.log()));
                    assertTrue(run.text().contains("Lost executor"), "round " + r + ": the driver lost an executor");
                    assertEquals(previous.logEntries() + 1, now.logEntries());
                }
                case HALT_AFTER_TABLE, HALT_BEFORE_LOG -> {
                    assertEquals(137, code, StandaloneCluster.tail(run.log()));
                    assertEquals(previous.versions(), now.versions(), "round " + r + ": readers keep the logged versions");
                    assertEquals(previous.logEntries(), now.logEntries());
                }
                case HALT_AFTER_LOG -> {
                    assertEquals(137, code, StandaloneCluster.tail(run.log()));
                    assertNotEquals(previous.versions(), now.versions(), "round " + r + ": the log row landed");
                    assertEquals(previous.logEntries() + 1, now.logEntries());
                }
            }
            assertEquals(previous.ids(), now.ids(), "round " + r + ": the same images");
            previous = now;
        }
        System.out.println("standalone cluster soak, " + job.name() + ", " + rounds + " rounds:\n" + String.join("\n", report));
    }
}
