package io.cnnlens.jobs.spark;

import io.cnnlens.features.ErrorRow;
import io.cnnlens.image.DecodeException;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

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
 * the error writer is published, so a task that fails half-way publishes nothing.
 */
public final class ImageBatches<T> implements Iterator<List<T>> {

    /** Turns one input into the item a job batches; a {@link DecodeException} makes it an error row. */
    @FunctionalInterface
    public interface Decoder<T> {
        T decode(InputRow input) throws DecodeException;
    }

    private final Iterator<Row> rows;
    private final int batchSize;
    private final Decoder<T> decoder;
    private final ErrorStash.Writer errors;
    private final LongAccumulator progress;
    private List<T> next;
    private boolean published;

    public ImageBatches(Iterator<Row> rows, int batchSize, Decoder<T> decoder, ErrorStash.Writer errors, LongAccumulator progress) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be positive");
        }
        this.rows = rows;
        this.batchSize = batchSize;
        this.decoder = decoder;
        this.errors = errors;
        this.progress = progress;
    }

    @Override
    public boolean hasNext() {
        while (next == null && rows.hasNext()) {
            List<T> batch = new ArrayList<>(batchSize);
            while (batch.size() < batchSize && rows.hasNext()) {
                InputRow in = InputRow.of(rows.next());
                try {
                    batch.add(decoder.decode(in));
                } catch (DecodeException e) {
                    errors.add(new ErrorRow(in.path(), e.stage(), e.getMessage()));
                } catch (RuntimeException e) {
                    errors.add(new ErrorRow(in.path(), "decode", e.getClass().getSimpleName() + ": " + e.getMessage()));
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
