package io.cnnlens.jobs.neighbors;

import io.cnnlens.jobs.spark.ModelLocator;
import io.cnnlens.jobs.spark.SparkSessions;

import io.cnnlens.embedding.ExactKnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cnnlens neighbors}: exact k nearest neighbours in FC7 space and in pixel space. */
@Command(name = "neighbors", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Exact k nearest neighbours of every image (or of a sample of queries) among all images, in FC7 space "
                        + "and in pixel space (images stretched to one small size), by blocked matrix products on executors.",
                "Writes <out>/neighbors/ (query_id, query_path, query_label, space, metric, rank, neighbor_id, neighbor_path, "
                        + "neighbor_label, distance) and <out>/pictures/neighbors/neighbors.png; prints the kNN label "
                        + "agreement in each space."})
public final class NeighborsCommand implements Callable<Integer> {

    @Option(names = "--features", defaultValue = "cnnlens-out",
            description = "The features job's output (its --out, or the features/ table). Default: ${DEFAULT-VALUE}")
    String features;

    @Option(names = "--out", defaultValue = "cnnlens-out", description = "Output folder or URI. Default: ${DEFAULT-VALUE}")
    String out;

    @Option(names = "--model", defaultValue = ModelLocator.BUNDLED,
            description = "Model spec: its input channels set the pixel space's colour. Default: bundled")
    String model;

    @Option(names = "--k", defaultValue = "10", description = "Neighbours per query. Default: ${DEFAULT-VALUE}")
    int k;

    @Option(names = "--metric", defaultValue = "l2", description = "l2, cosine or both. Default: ${DEFAULT-VALUE}")
    String metric;

    @Option(names = "--queries", defaultValue = "0", description = "Number of query images (a seeded sample); 0 = all. Default: ${DEFAULT-VALUE}")
    int queries;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for the query sample and the picture. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--pixel-size", defaultValue = "0", description = "Pixel space: images stretched to this square size; 0 = min(32, model input).")
    int pixelSize;

    @Option(names = "--no-pixels", description = "Skip pixel space (FC7 only; images are not re-read).")
    boolean noPixels;

    @Option(names = "--query-block", defaultValue = "1024", description = "Query rows per matrix product. Default: ${DEFAULT-VALUE}")
    int queryBlock;

    @Option(names = "--ref-block", defaultValue = "8192", description = "Reference rows per matrix product. Default: ${DEFAULT-VALUE}")
    int refBlock;

    @Option(names = "--picture-queries", defaultValue = "6", description = "Queries shown in the picture. Default: ${DEFAULT-VALUE}")
    int pictureQueries;

    @Option(names = "--max-pixels", defaultValue = "50000000", description = "Decode limit per image. Default: ${DEFAULT-VALUE}")
    long maxPixels;

    @Option(names = "--master", description = "Spark master when run outside spark-submit. Default: local[*]")
    String master;

    @Override
    public Integer call() {
        List<ExactKnn.Metric> metrics = switch (metric.toLowerCase(Locale.ROOT)) {
            case "l2" -> List.of(ExactKnn.Metric.L2);
            case "cosine" -> List.of(ExactKnn.Metric.COSINE);
            case "both" -> List.of(ExactKnn.Metric.L2, ExactKnn.Metric.COSINE);
            default -> throw new IllegalArgumentException("--metric must be l2, cosine or both, not " + metric);
        };
        if (queryBlock < 1 || refBlock < 1) {
            throw new IllegalArgumentException("--query-block and --ref-block must be positive");
        }
        try (SparkSessions.Handle h = SparkSessions.open("cnnlens neighbors", master)) {
            NeighborsJob.Summary s = NeighborsJob.run(h.spark(), new NeighborsJob.Settings(features, out, model, k, metrics,
                    queries, seed, pixelSize, queryBlock, refBlock, pictureQueries, maxPixels, !noPixels));
            System.out.println(s.line());
            for (NeighborsJob.Agreement a : s.agreement()) {
                System.out.printf(Locale.ROOT, "neighbors: %-6s %-6s label agreement of the %d neighbours %.4f, kNN-%d accuracy %.4f (%d labelled queries)%n",
                        a.space(), a.metric(), k, a.labelAgreement(), k, a.knnAccuracy(), a.queries());
            }
            System.out.printf(Locale.ROOT, "neighbors: search %.1f s, %.1f GFLOP/s in the distance products%n",
                    s.searchSeconds(), s.flops() / s.searchSeconds() / 1e9);
            System.out.println("neighbors: " + s.table());
            System.out.println("picture:   " + s.picture());
            return 0;
        }
    }
}
