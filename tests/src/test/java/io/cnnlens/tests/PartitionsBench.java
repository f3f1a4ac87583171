package io.cnnlens.tests;

import io.cnnlens.jobs.features.FeaturesJob;
import io.cnnlens.jobs.features.FeaturesOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark: what the recovery-sized partitioning costs. The features job over a folder of PNGs
 * ({@code cnnlens.bench.folder}, e.g. {@code bin/cnnlens sample --split test --per-class 1000})
 * with one task per core ({@code --partitions} = cores) against the automatic count, in turn in
 * one warm JVM; the ratio is the median of the rounds'. Run:
 * {@code mvn -B -Pbench -pl tests -am verify -Dtest=PartitionsBench -Dcnnlens.bench.folder=DIR}.
 */
@Tag("bench")
class PartitionsBench extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void automaticPartitionsAgainstOnePerCore() {
        Path images = Path.of(System.getProperty("cnnlens.bench.folder", "/tmp/inputs-fm10k"));
        int rounds = Integer.getInteger("cnnlens.bench.rounds", 5);
        int cores = spark.sparkContext().defaultParallelism();
        run(images, cores, "warmup-a");
        run(images, 0, "warmup-b");
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            double perCore = r % 2 == 0 ? run(images, cores, "c" + r) : 0;
            double auto = run(images, 0, "a" + r);
            if (r % 2 == 1) {
                perCore = run(images, cores, "c" + r);
            }
            ratios.add(auto / perCore);
            System.out.printf(Locale.ROOT, "round %d: %d partitions %.1f images/s, automatic %.1f images/s, ratio %.3f%n",
                    r, cores, perCore, auto, auto / perCore);
        }
        ratios.sort(null);
        System.out.printf(Locale.ROOT, "automatic / one per core, median of %d rounds: %.3f%n", rounds, ratios.get(rounds / 2));
    }

    private double run(Path images, int partitions, String name) {
        FeaturesOptions o = FeaturesOptions.of(FeaturesJobTest.values(images, tmp.resolve(name), "bundled")
                .with(FeaturesOptions.PARTITIONS, partitions));
        FeaturesJob.Summary s = FeaturesJob.run(spark, o);
        return s.imagesPerSecond();
    }
}
