package io.cnnlens.jobs.spark;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.image.DecodeException;
import io.cnnlens.pipeline.DecodeAhead;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.TaskCompletionListener;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * The executor side of every job that reads images: a partition's input rows in, batches of
 * decoded items out, lazily (one batch in memory at a time, never the partition). An input that
 * fails to read or decode goes to the task's {@link ErrorChannel} writer with its stage and
 * reason; every input, good or bad, counts once on the progress counter. When the rows run out
 * the error writer is published, so a task that fails half-way publishes nothing. Inputs may be
 * decoded on a pool of threads ahead of the consumer (the executor pipeline, {@link DecodeAhead}):
 * rows and error rows still come in input order, one per input.
 */
public final class ImageBatches<T> implements Iterator<List<T>>, AutoCloseable {

    /** Turns one input into the item a job batches; a {@link DecodeException} makes it an error row. */
    @FunctionalInterface
    public interface Decoder<T> {
        T decode(InputRow input) throws DecodeException;
    }

    private final DecodeAhead<InputRow, T> decoded;
    private final int batchSize;
    private final ErrorStash.Writer errors;
    private final LongAccumulator progress;
    private List<T> next;
    private boolean published;

    /** Decodes on the calling thread, one batch at a time (no pipeline). */
    public ImageBatches(Iterator<Row> rows, int batchSize, Decoder<T> decoder, ErrorStash.Writer errors, LongAccumulator progress) {
        this(rows, batchSize, decoder, errors, progress, 0, 0);
    }

    /**
     * Decodes on {@code decodeThreads} threads, up to {@code decodeQueue} batches ahead of the
     * consumer ({@link DecodeAhead}; 0 for either decodes on the calling thread). The decoder must
     * then be thread-safe. Inside a Spark task the threads are stopped by a task-completion
     * listener whatever the task's end; outside one, by {@link #close()} or the last input.
     */
    public ImageBatches(Iterator<Row> rows, int batchSize, Decoder<T> decoder, ErrorStash.Writer errors, LongAccumulator progress,
                        int decodeThreads, int decodeQueue) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive");
        }
        if (decodeThreads < 0 || decodeQueue < 0) {
            throw new IllegalArgumentException("decode threads and queue depth must be 0 or positive");
        }
        Iterator<InputRow> inputs = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public InputRow next() {
                return InputRow.of(rows.next()); // on the task thread: Spark's row iterator is tied to it
            }
        };
        this.decoded = new DecodeAhead<>(inputs, decoder::decode, decodeThreads,
                (int) Math.min(Integer.MAX_VALUE, (long) decodeQueue * batchSize), "cnnlens-decode");
        this.batchSize = batchSize;
        this.errors = errors;
        this.progress = progress;
        TaskContext tc = TaskContext.get();
        if (tc != null && decoded.pipelined()) {
            tc.addTaskCompletionListener((TaskCompletionListener) ctx -> close());
        }
    }

    @Override
    public boolean hasNext() {
        while (next == null && decoded.hasNext()) {
            List<T> batch = new ArrayList<>(batchSize);
            while (batch.size() < batchSize && decoded.hasNext()) {
                DecodeAhead.Decoded<InputRow, T> d = decoded.next();
                if (d.ok()) {
                    batch.add(d.value());
                } else {
                    errors.add(ErrorRow.of(d.input().path(), d.failure(), "decode"));
                }
                if (progress != null) {
                    progress.add(1);
                }
            }
            if (!batch.isEmpty()) {
                next = batch;
            }
        }
        if (next == null && !published) {
            errors.publish();
            published = true;
        }
        return next != null;
    }

    /** The decode threads alive now. */
    public int liveDecodeThreads() {
        return decoded.liveThreads();
    }

    /** Stops the decode threads (idempotent); publishes nothing. */
    @Override
    public void close() {
        decoded.close();
    }

    @Override
    public List<T> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        List<T> b = next;
        next = null;
        return b;
    }

    /** The rows each batch gives, one batch at a time: {@code batches} flattened through {@code rowsOf}. */
    public static <T, R> Iterator<R> flatten(Iterator<List<T>> batches, Function<List<T>, List<R>> rowsOf) {
        return new Iterator<>() {
            private Iterator<R> current = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && batches.hasNext()) {
                    current = rowsOf.apply(batches.next()).iterator();
                }
                return current.hasNext();
            }

            @Override
            public R next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }
}
