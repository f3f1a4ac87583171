package io.cnnlens.tests;

import io.cnnlens.index.GraphShard;
import io.cnnlens.index.Hit;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.ShardedSearch;
import io.cnnlens.jobs.index.IndexStore;
import io.cnnlens.jobs.spark.TableCommitter;
import io.cnnlens.jobs.spark.TableLog;
import io.cnnlens.jobs.spark.TableReader;
import io.cnnlens.jobs.spark.TableVacuum;

import io.delta.tables.DeltaTable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code features} with its input and output on a store other than the local disk (HDFS, S3A),
 * a driver killed mid-commit there, then {@code index} over the table with its shards on the store,
 * searched from there (docs/tables.md, "Object stores and HDFS"). The store's
 * test server is started by the subclass; its Hadoop settings go into the test's Spark session
 * (the in-process runs) and, as {@code -Dspark.hadoop.*}, into the child driver that is killed.
 */
abstract class StoreTablesScenario extends SparkTestBase {

    private static final Pattern SUMMARY = Pattern.compile("features: inputs (\\d+), rows (\\d+), errors (\\d+)");

    /** Applies the store's settings to the test's session (the executors of local mode share them). */
    static void configure(Map<String, String> hadoop) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        hadoop.forEach(conf::set);
    }

    /** The counts a {@code features} run printed. */
    record Counts(long inputs, long rows, long errors) {
        static Counts of(CommandLineRun r) {
            Matcher m = SUMMARY.matcher(r.out());
            assertTrue(m.find(), r.out() + r.err());
            return new Counts(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
        }
    }

    /**
     * Uploads every 100th bundled sample image and one file that is no image to {@code base/images},
     * runs {@code features} into {@code base/out}, halts a second run's driver after its features
     * table's Delta commit (before the commit log row), and runs it once more.
     */
    static void featuresOnTheStoreAndADriverKilledMidCommit(String base, Map<String, String> hadoop, Path tmp)
            throws Exception {
        String scheme = new org.apache.hadoop.fs.Path(base).toUri().getScheme();
        Path local = tmp.resolve("images");
        copySample(local, 100);
        Files.write(local.resolve("bag").resolve("not-an-image.png"), "no PNG here".getBytes(StandardCharsets.UTF_8));
        long inputs;
        try (var w = Files.walk(local)) {
            inputs = w.filter(Files::isRegularFile).count();
        }
        String images = base + "/images";
        String out = base + "/out";
        FileSystem fs = new org.apache.hadoop.fs.Path(base).getFileSystem(spark.sparkContext().hadoopConfiguration());
        fs.copyFromLocalFile(false, true, new org.apache.hadoop.fs.Path(local.toUri()), new org.apache.hadoop.fs.Path(images));

        long t0 = System.nanoTime();
        CommandLineRun first = CommandLineRun.of("features", "--images", images, "--out", out, "--master", "local[2]");
        assertEquals(0, first.code(), first.err());
        Counts c = Counts.of(first);
        assertEquals(inputs, c.inputs(), "every uploaded file listed");
        assertEquals(1, c.errors(), "the file that is no image is an error row");
        assertEquals(c.inputs(), c.rows() + c.errors(), "inputs = rows + errors");
        Dataset<Row> before = TableReader.read(spark, out);
        assertEquals(c.rows(), before.count());
        assertEquals(c.rows(), before.select("image_id").distinct().count(), "distinct ids");
        assertEquals(c.errors(), TableReader.table(spark, out, "errors").orElseThrow().count());
        assertTrue(before.select("path").first().getString(0).startsWith(scheme + "://"), "rows name the store's paths");
        List<Row> ids = before.select("image_id").orderBy("image_id").collectAsList();
        double firstS = (System.nanoTime() - t0) / 1e9;

        long t1 = System.nanoTime();
        Path errFile = tmp.resolve("child.err");
        Process killed = childFeatures(images, out, hadoop, "after-table:features", errFile);
        assertTrue(killed.waitFor(4, TimeUnit.MINUTES), "the child driver ended");
        String err = Files.readString(errFile);
        assertEquals(137, killed.exitValue(), err);
        assertTrue(err.contains("halting at commit point after-table:features"), err);
        long latest = DeltaTable.forPath(spark, out + "/features").history(1).select("version").first().getLong(0);
        assertEquals(1, latest, "the killed driver did commit its features table");
        Dataset<Row> seen = TableReader.read(spark, out);
        assertEquals(c.rows(), seen.count());
        assertEquals(c.rows(), seen.select("image_id").distinct().count());
        assertEquals(c.errors(), TableReader.table(spark, out, "errors").orElseThrow().count());
        Map<String, Long> afterKill = new TableLog(spark, out).current();
        assertEquals(Map.of("features", 0L, "errors", 0L), afterKill, "the log still names the first run's versions");
        double killS = (System.nanoTime() - t1) / 1e9;

        long t2 = System.nanoTime();
        CommandLineRun next = CommandLineRun.of("features", "--images", images, "--out", out, "--master", "local[2]");
        assertEquals(0, next.code(), next.err());
        assertEquals(c, Counts.of(next));
        Dataset<Row> after = TableReader.read(spark, out);
        assertEquals(ids, after.select("image_id").orderBy("image_id").collectAsList());
        assertEquals(c.errors(), TableReader.table(spark, out, "errors").orElseThrow().count());
        Map<String, Long> afterRerun = new TableLog(spark, out).current();
        // the rerun writes features version 2; errors version 1, as the killed run never got to it
        assertEquals(Map.of("features", 2L, "errors", 1L), afterRerun);
        assertEquals(List.of(1L, 2L), new TableLog(spark, out).entries().stream().map(TableLog.Entry::seq).toList());
        // the dead run's staging folder is on the store until vacuum's retention removes it
        org.apache.hadoop.fs.Path staging = new org.apache.hadoop.fs.Path(out, "_staging");
        assertTrue(fs.exists(staging) && fs.listStatus(staging).length > 0, "the killed driver's staging folder");
        // Delta's VACUUM lists a table in spark.sql.sources.parallelPartitionDiscovery.parallelism
        // tasks (10,000 by default): minutes for these three small tables on two cores
        String parallelism = "spark.sql.sources.parallelPartitionDiscovery.parallelism";
        spark.conf().set(parallelism, "4");
        try {
            TableVacuum.vacuumFolder(spark, out, 0);
        } finally {
            spark.conf().unset(parallelism);
        }
        // the dead run's folder is gone; the shared _staging folder itself may stay (empty)
        assertTrue(!fs.exists(staging) || fs.listStatus(staging).length == 0, "the killed driver's staging folder is removed");
        assertEquals(c.rows(), TableReader.read(spark, out).count());
        double nextS = (System.nanoTime() - t2) / 1e9;

        // the search index of that table, its shards written to the store by the tasks and read back from it
        long t3 = System.nanoTime();
        String search = base + "/search";
        CommandLineRun index = CommandLineRun.of("index", "--features", out, "--out", search, "--master", "local[2]",
                "--partitions", "2", "--m", "8", "--ef-construction", "100");
        assertEquals(0, index.code(), index.err());
        IndexStore store = new IndexStore(search + "/index", spark.sparkContext().hadoopConfiguration());
        IndexManifest manifest = store.require();
        assertEquals(c.rows(), manifest.live(), "every features row indexed");
        for (IndexManifest.Shard shard : manifest.shards()) {
            for (String file : GraphShard.FILES) {
                assertTrue(fs.exists(new org.apache.hadoop.fs.Path(search + "/index/shards/" + shard.name() + "/" + file)), file + " on the store");
            }
        }
        List<Row> vectors = TableReader.read(spark, out).select("image_id", "fc7").collectAsList();
        try (ShardedSearch s = store.open(manifest)) {
            for (Row r : vectors) {
                List<Float> v = r.getList(1);
                float[] q = new float[v.size()];
                for (int i = 0; i < q.length; i++) {
                    q[i] = v.get(i);
                }
                Hit nearest = s.search(q, 1, 64, false).get(0);
                assertEquals(0f, nearest.distance(), 1e-3f, "an indexed image finds itself (or an exact copy) first");
            }
        }
        CommandLineRun add = CommandLineRun.of("index", "--mode", "add", "--features", out, "--out", search, "--master", "local[2]");
        assertEquals(0, add.code(), add.err());
        assertEquals(manifest.live(), store.require().live(), "adding the same table again adds nothing");
        double indexS = (System.nanoTime() - t3) / 1e9;
        System.out.printf(Locale.ROOT, "%s: inputs %d, rows %d, errors %d; after the kill: features latest %d, log %s;"
                        + " after the rerun: log %s; first run %.1f s, killed child %.1f s, rerun and vacuum %.1f s,"
                        + " index (%d shards) and searches %.1f s%n",
                scheme, c.inputs(), c.rows(), c.errors(), latest, afterKill, afterRerun, firstS, killS, nextS,
                manifest.shards().size(), indexS);
    }

    /** {@code cnnlens features} in a JVM of its own, with the store's settings, halting at {@code haltAt}. */
    private static Process childFeatures(String images, String out, Map<String, String> hadoop, String haltAt, Path err)
            throws java.io.IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.add("-XX:TieredStopAtLevel=1"); // a short run: C1 only starts faster
        // SparkConf reads spark.* system properties; spark.hadoop.* go into the Hadoop configuration
        hadoop.forEach((k, v) -> cmd.add("-Dspark.hadoop." + k + "=" + v));
        cmd.add("-D" + TableCommitter.HALT_AT + "=" + haltAt);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.cnnlens.jobs.cli.Cli");
        cmd.addAll(List.of("features", "--images", images, "--out", out, "--master", "local[2]"));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
    }
}
