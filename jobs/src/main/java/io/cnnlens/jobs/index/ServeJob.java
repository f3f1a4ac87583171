package io.cnnlens.jobs.index;

import io.cnnlens.jobs.Job;
import io.cnnlens.jobs.JobContext;
import io.cnnlens.jobs.JobResult;
import io.cnnlens.jobs.OptionKey;
import io.cnnlens.jobs.OptionValues;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The serve job: an HTTP server over an index ({@link IndexServer}); runs until the process is
 * stopped (SIGTERM stops the server first).
 */
public final class ServeJob implements Job<ServeOptions> {

    public static final String NAME = "serve";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String[] description() {
        return new String[] {
                "An HTTP server over an index: POST /search with an image (raw or multipart field 'image') or JSON {\"vector\": [...]} "
                        + "answers the neighbours as JSON; GET / is an upload page with thumbnails; GET /health.",
                "Writes nothing; one log line per request. Runs until stopped."};
    }

    @Override
    public List<OptionKey<?>> options() {
        return ServeOptions.KEYS;
    }

    @Override
    public ServeOptions options(OptionValues values) {
        return ServeOptions.of(values);
    }

    @Override
    public List<String> outputs() {
        return List.of();
    }

    @Override
    public boolean inPipeline() {
        return false;
    }

    @Override
    public JobResult run(JobContext context, ServeOptions options) {
        IndexServer server = new IndexServer(options, context.spark().sparkContext().hadoopConfiguration());
        int port = server.start();
        System.out.println("serve: http://" + options.host() + ":" + port + "/ over " + options.index());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception ignored) {
                // stopping anyway
            } finally {
                stopped.countDown();
            }
        }, "serve-stop"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return JobResult.of("serve: stopped");
    }
}
