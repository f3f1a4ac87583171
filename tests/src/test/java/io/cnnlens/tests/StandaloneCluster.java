package io.cnnlens.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on loopback for fault tests: a {@code Master} and {@code Worker}s
 * started from Spark's classes as child JVMs, and {@code spark-submit} ({@code SparkSubmit},
 * client mode, so the driver is the submitting JVM) of the job jar into it.
 *
 * <p>There is no Spark distribution here, so the cluster gets a {@code SPARK_HOME} of its own: a
 * {@code RELEASE} marker, {@code conf/log4j2.properties} (the project's, plus the master's and
 * workers' INFO lines), and {@code jars/} with a
 * link to every jar of this test JVM's classpath except cnnlens's own modules. A worker builds an
 * executor's command from {@code SPARK_HOME/jars/*} as it would on a real installation, and the
 * cnnlens code reaches the executors only through the submitted job jar. (The jars folder also
 * holds the libraries the job jar carries — DJL, Delta —, the same versions twice.)
 */
final class StandaloneCluster implements AutoCloseable {

    /** The flags of this test JVM that cnnlens needs in every JVM: Spark's module opens and DJL's settings. */
    static final List<String> JVM_FLAGS = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-opens") || a.startsWith("-Dai.djl.") || a.startsWith("-Djdk.reflect.")
                    || a.startsWith("-Dio.netty."))
            .toList();

    private final Path dir;
    private final Path sparkHome;
    private final int port;
    private final String workerMemory;
    private Process master;
    private final List<Process> workers = new ArrayList<>();
    private final List<Process> submitted = new ArrayList<>();

    private StandaloneCluster(Path dir, String workerMemory) throws IOException {
        this.dir = dir;
        this.sparkHome = dir.resolve("spark-home");
        this.port = freePort();
        this.workerMemory = workerMemory;
    }

    /** A master and {@code workers} workers of one core and {@code workerMemory} each, registered. */
    static StandaloneCluster start(Path dir, int workers, String workerMemory) throws IOException, InterruptedException {
        StandaloneCluster c = new StandaloneCluster(dir, workerMemory);
        try {
            c.makeSparkHome();
            c.master = c.spawn("master", List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                            "-Dspark.master.rest.enabled=false"),
                    "org.apache.spark.deploy.master.Master",
                    List.of("--host", "127.0.0.1", "--port", String.valueOf(c.port), "--webui-port", "0"));
            for (int i = 0; i < workers; i++) {
                c.workers.add(null);
                c.startWorker(i);
            }
            return c;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    String url() {
        return "spark://127.0.0.1:" + port;
    }

    /** Starts worker {@code i} (again, after {@link #killWorker}) and waits for it to register. */
    void startWorker(int i) throws IOException, InterruptedException {
        Path work = Files.createDirectories(dir.resolve("work-" + i));
        String name = "worker-" + i;
        Path log = dir.resolve(name + ".log");
        long before = Files.exists(log) ? countIn(log, "Successfully registered with master") : 0;
        // the master and workers only pass messages: a small heap, no optimizing JIT, one GC thread
        Process w = spawn(name, List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                "org.apache.spark.deploy.worker.Worker",
                List.of(url(), "--host", "127.0.0.1", "--cores", "1", "--memory", workerMemory,
                        "--work-dir", work.toString(), "--webui-port", "0"));
        workers.set(i, w);
        await(90, "worker " + i + " registered with the master (" + log + ")", () -> {
            if (!w.isAlive() || !master.isAlive()) {
                throw new IllegalStateException("cluster JVM exited; " + tail(log) + "\nmaster: " + tail(dir.resolve("master.log")));
            }
            return countIn(log, "Successfully registered with master") > before;
        });
    }

    /** {@code SparkSubmit} of {@code jar} (main class {@code Cli}) with {@code args}, in a JVM with {@code driverFlags}. */
    Submission submit(String name, Path jar, List<String> driverFlags, Map<String, String> conf, List<String> args)
            throws IOException {
        // short jobs on 2 cores: the optimizing JIT's compile time costs more than it saves
        List<String> flags = new ArrayList<>(List.of("-Xmx1g", "-XX:TieredStopAtLevel=1", "-Dcnnlens.progress.seconds=1"));
        flags.addAll(driverFlags);
        List<String> a = new ArrayList<>(List.of("--master", url(), "--class", "io.cnnlens.jobs.cli.Cli", "--name", name));
        Map<String, String> all = new java.util.LinkedHashMap<>();
        all.put("spark.driver.host", "127.0.0.1");
        all.put("spark.driver.bindAddress", "127.0.0.1");
        all.put("spark.ui.enabled", "false");
        all.put("spark.executor.cores", "1");
        all.put("spark.executor.memory", "1g");
        all.put("spark.cores.max", String.valueOf(workers.size()));
        all.put("spark.executor.extraJavaOptions", String.join(" ", JVM_FLAGS) + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        all.put("spark.executor.heartbeatInterval", "1s");
        all.put("spark.sql.shuffle.partitions", "4");
        all.putAll(conf);
        all.forEach((k, v) -> {
            a.add("--conf");
            a.add(k + "=" + v);
        });
        a.add(jar.toString());
        a.addAll(args);
        Process p = spawn(name, flags, "org.apache.spark.deploy.SparkSubmit", a);
        return new Submission(p, dir.resolve(name + ".log"));
    }

    /** A submitted driver and its log (stdout and stderr). */
    record Submission(Process process, Path log) {
        int await(int minutes) throws InterruptedException {
            if (!process.waitFor(minutes, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("driver still running after " + minutes + " min; " + tail(log));
            }
            return process.exitValue();
        }

        String text() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The live executor JVMs ({@code CoarseGrainedExecutorBackend}) that worker {@code i} started. */
    List<ProcessHandle> executors(int i) {
        Process w = workers.get(i);
        if (w == null) {
            return List.of();
        }
        return w.descendants().filter(ProcessHandle::isAlive)
                .filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                .toList();
    }

    /** Kills (SIGKILL) one live executor, the first worker's that has one; returns its worker, empty if none ran. */
    Optional<Integer> killExecutor() throws InterruptedException {
        for (int i = 0; i < workers.size(); i++) {
            for (ProcessHandle e : executors(i)) {
                kill(e);
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    /** Kills (SIGKILL) worker {@code i} and the executors it started. */
    void killWorker(int i) throws InterruptedException {
        List<ProcessHandle> execs = executors(i);
        kill(workers.get(i).toHandle());
        for (ProcessHandle e : execs) {
            kill(e);
        }
    }

    private static void kill(ProcessHandle h) throws InterruptedException {
        h.destroyForcibly();
        try {
            h.onExit().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("process " + h.pid() + " did not die", e);
        }
    }

    /** Every JVM this cluster started, executors included, killed. */
    @Override
    public void close() {
        List<Process> all = new ArrayList<>(submitted);
        all.addAll(workers.stream().filter(java.util.Objects::nonNull).toList());
        if (master != null) {
            all.add(master);
        }
        for (Process p : all) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : all) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Copies the logs of the master, workers, drivers and executors (the workers' {@code stderr}
     * files) into {@code to}, replacing what an earlier run left there.
     */
    void keepLogs(Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> old = Files.walk(to)) {
                for (Path p : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(to);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String f = p.getFileName().toString();
                if (f.endsWith(".log") || f.equals("stderr")) {
                    Path rel = dir.relativize(p);
                    Files.copy(p, to.resolve(rel.toString().replace('/', '_')));
                }
            }
        }
    }

    private void makeSparkHome() throws IOException {
        Path jars = Files.createDirectories(sparkHome.resolve("jars"));
        Files.createDirectories(sparkHome.resolve("conf"));
        Files.writeString(sparkHome.resolve("RELEASE"), "Spark from the cnnlens test classpath\n");
        // the project's log settings, with the master's and workers' own lines (registration, executors)
        Files.writeString(sparkHome.resolve("conf/log4j2.properties"),
                Files.readString(SparkTestBase.home().resolve("conf/log4j2.properties"))
                        + "logger.deploy.name = org.apache.spark.deploy\nlogger.deploy.level = info\n");
        int n = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            String f = p.getFileName() == null ? "" : p.getFileName().toString();
            if (f.endsWith(".jar") && !f.startsWith("cnnlens-") && Files.isRegularFile(p)) {
                // numbered: two artifacts may share a file name (e.g. api-0.36.0.jar)
                Files.createSymbolicLink(jars.resolve(String.format("%03d-%s", n++, f)), p.toAbsolutePath());
            }
        }
        if (n == 0) {
            throw new IllegalStateException("no jars on the test classpath for SPARK_HOME/jars");
        }
    }

    private Process spawn(String name, List<String> flags, String mainClass, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(sparkHome.resolve("conf") + java.io.File.pathSeparator + sparkHome.resolve("jars") + "/*");
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()));
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARK_") || k.startsWith("HADOOP_") || k.startsWith("PYSPARK"));
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_CONF_DIR", sparkHome.resolve("conf").toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        if (mainClass.endsWith("SparkSubmit")) {
            submitted.add(p);
        }
        return p;
    }

    static void await(int seconds, String what, BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + seconds + " s waiting for: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static long countIn(Path log, String s) {
        try {
            return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1).stream().filter(l -> l.contains(s)).count() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "(no log " + log + ")";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** The job jar that {@code package} built ({@code jobs/target/cnnlens-jobs-*-job.jar}). */
    static Path jobJar() throws IOException {
        Path target = SparkTestBase.home().resolve("jobs/target");
        try (Stream<Path> s = Files.exists(target) ? Files.list(target) : Stream.empty()) {
            return s.filter(p -> p.getFileName().toString().matches("cnnlens-jobs-.*-job\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no job jar in " + target
                            + ": build it first (mvn -B -pl tests -am verify packages it before the tests run)"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
