package io.cnnlens.pipeline;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Inputs in, one {@link Decoded} per input out, in input order, decoded on {@code threads}
 * threads while the caller works on earlier ones: the decode half of the executor pipeline
 * (decode on several threads, the forward on the calling thread, a bounded window between).
 *
 * <p>The calling thread pulls inputs from the source iterator itself (a Spark partition's
 * iterator is tied to its task thread) and hands each to the pool; at most {@code window}
 * inputs are in flight or decoded and not yet taken, so memory is bounded by the window, never
 * by the partition. A decode that throws an {@link Exception} becomes a {@link Decoded} carrying
 * it (the caller turns it into that input's error row); an {@link Error} is rethrown on the
 * calling thread. Results come out in input order whatever the threads' timing.
 *
 * <p>With {@code threads == 0} or {@code window == 0} there is no pool: each input is decoded on
 * the calling thread when it is taken (the pipeline switched off).
 *
 * <p>Threads are started on the first {@link #hasNext()}, end when the inputs run out, and are
 * stopped by {@link #close()} (idempotent) when the consumer stops early or its task fails; the
 * caller must close it (a Spark task does so in a task-completion listener).
 */
public final class DecodeAhead<I, T> implements Iterator<DecodeAhead.Decoded<I, T>>, AutoCloseable {

    /** Turns one input into its decoded value; any exception becomes that input's failure. */
    @FunctionalInterface
    public interface Decoder<I, T> {
        T decode(I input) throws Exception;
    }

    /** One input and either its value or the exception its decode threw. */
    public record Decoded<I, T>(I input, T value, Exception failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    private static final AtomicInteger POOLS = new AtomicInteger();
    private static final long CLOSE_WAIT_MS = 5_000;

    private final Iterator<I> inputs;
    private final Decoder<I, T> decoder;
    private final int threads;
    private final int window;
    private final String threadName;
    private final ArrayDeque<Pending<I, T>> pending = new ArrayDeque<>();
    private ExecutorService pool;
    private volatile boolean closed;

    private record Pending<I, T>(I input, Future<T> future) {
    }

    /**
     * @param threads    decode threads; 0 decodes on the calling thread
     * @param window     inputs in flight or decoded ahead of the consumer; 0 decodes on the calling thread
     * @param threadName prefix of the decode threads' names
     */
    public DecodeAhead(Iterator<I> inputs, Decoder<I, T> decoder, int threads, int window, String threadName) {
        if (threads < 0 || window < 0) {
            throw new IllegalArgumentException("decode threads and window must be 0 or positive");
        }
        this.inputs = inputs;
        this.decoder = decoder;
        this.threads = threads;
        this.window = window;
        this.threadName = threadName;
    }

    /** True when inputs are decoded on a pool, false when on the calling thread. */
    public boolean pipelined() {
        return threads > 0 && window > 0;
    }

    @Override
    public boolean hasNext() {
        if (closed) {
            return false;
        }
        if (!pipelined()) {
            return inputs.hasNext();
        }
        fill();
        if (pending.isEmpty()) {
            close();
            return false;
        }
        return true;
    }

    @Override
    public Decoded<I, T> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        if (!pipelined()) {
            I in = inputs.next();
            try {
                return new Decoded<>(in, decoder.decode(in), null);
            } catch (Exception e) {
                return new Decoded<>(in, null, e);
            }
        }
        Pending<I, T> head = pending.poll();
        fill(); // keep the window full while the caller works on this one
        try {
            return new Decoded<>(head.input(), head.future().get(), null);
        } catch (ExecutionException e) {
            if (closed) {
                // closed under the consumer (its task ends): an interrupted decode is no input's fault
                throw new IllegalStateException("decode pipeline closed", e);
            }
            Throwable cause = e.getCause();
            if (cause instanceof Error err) {
                close();
                throw err;
            }
            return new Decoded<>(head.input(), null, cause instanceof Exception ex ? ex : new RuntimeException(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while waiting for a decode", e);
        } catch (CancellationException e) {
            throw new IllegalStateException("decode pipeline closed", e);
        }
    }

    private void fill() {
        while (!closed && pending.size() < window && inputs.hasNext()) {
            I in = inputs.next();
            try {
                pending.add(new Pending<>(in, pool().submit(() -> decoder.decode(in))));
            } catch (RejectedExecutionException e) {
                throw new IllegalStateException("decode pipeline closed", e);
            }
        }
    }

    private synchronized ExecutorService pool() {
        if (closed) {
            throw new IllegalStateException("decode pipeline closed");
        }
        if (pool == null) {
            int id = POOLS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, threadName + "-" + id + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            pool = new ThreadPoolExecutor(threads, threads, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), factory);
        }
        return pool;
    }

    /** The decode threads alive now (0 once closed or exhausted, after they finish their current input). */
    public synchronized int liveThreads() {
        return pool instanceof ThreadPoolExecutor tpe && !tpe.isTerminated() ? tpe.getPoolSize() : 0;
    }

    /**
     * Stops the pool: queued decodes are dropped, running ones interrupted, and this waits (up to
     * a few seconds) for the threads to end. Later calls to {@link #hasNext()} answer false. Safe
     * to call from another thread than the consumer's (a task-completion listener).
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (pool != null) {
            for (Runnable queued : pool.shutdownNow()) {
                if (queued instanceof Future<?> f) {
                    f.cancel(false);
                }
            }
            try {
                pool.awaitTermination(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
