package io.cnnlens.pipeline;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decode pipeline: order, error results, the window bound, early stop and thread cleanup. */
class DecodeAheadTest {

    /** Live threads whose name starts with {@code prefix}. */
    /**
     * The threads named {@code prefix}… still alive after each was given up to 5 s to end. A pool
     * reports itself terminated from its last worker, just before that thread returns, so a thread
     * can look alive for a moment after {@link DecodeAhead#close()}; a leaked one stays alive.
     */
    private static long threadsNamed(String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix)) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        }
        return threadsAlive(prefix);
    }

    private static long threadsAlive(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    /** Decodes i to i*i after a random short sleep; multiples of 7 fail. */
    private static Integer slowSquare(Integer i, long seed) throws Exception {
        Thread.sleep(new Random(seed * 31 + i).nextInt(3));
        if (i % 7 == 0) {
            throw new IllegalArgumentException("bad " + i);
        }
        return i * i;
    }

    @Test
    void resultsComeInInputOrderWithFailuresInPlace() {
        for (int threads : new int[] {0, 1, 3}) {
            List<Integer> inputs = IntStream.range(0, 200).boxed().toList();
            List<DecodeAhead.Decoded<Integer, Integer>> out = new ArrayList<>();
            try (DecodeAhead<Integer, Integer> d = new DecodeAhead<>(inputs.iterator(), i -> slowSquare(i, threads), threads, 16,
                    "test-order")) {
                d.forEachRemaining(out::add);
            }
            assertEquals(inputs.size(), out.size(), "one result per input");
            for (int i = 0; i < inputs.size(); i++) {
                DecodeAhead.Decoded<Integer, Integer> r = out.get(i);
                assertEquals(i, r.input(), "input order, " + threads + " threads");
                if (i % 7 == 0) {
                    assertFalse(r.ok());
                    assertNull(r.value());
                    assertEquals("bad " + i, r.failure().getMessage());
                } else {
                    assertTrue(r.ok());
                    assertEquals(i * i, r.value());
                }
            }
        }
    }

    @Test
    void decodesOnThePoolAheadOfTheConsumerButNoFurtherThanTheWindow() throws Exception {
        AtomicInteger started = new AtomicInteger();
        java.util.Set<String> threads = ConcurrentHashMap.newKeySet();
        int window = 10;
        Iterator<Integer> inputs = IntStream.range(0, 100).iterator();
        try (DecodeAhead<Integer, Integer> d = new DecodeAhead<>(inputs, i -> {
            started.incrementAndGet();
            threads.add(Thread.currentThread().getName());
            return i;
        }, 2, window, "test-window")) {
            int taken = 0;
            while (d.hasNext()) {
                d.next();
                taken++;
                // the consumer is slow: the pool decodes ahead, but never more than the window past what was taken
                Thread.sleep(1);
                assertTrue(started.get() <= taken + window, started.get() + " started with " + taken + " taken");
            }
            assertEquals(100, taken);
        }
        assertFalse(threads.contains(Thread.currentThread().getName()), "decoded on the pool, not the caller");
        assertTrue(threads.stream().allMatch(n -> n.startsWith("test-window")), threads.toString());
    }

    @Test
    void nothingIsReadFromTheSourceOnAnotherThread() {
        Thread caller = Thread.currentThread();
        Iterator<Integer> source = new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                assertEquals(caller, Thread.currentThread());
                return i < 50;
            }

            @Override
            public Integer next() {
                assertEquals(caller, Thread.currentThread());
                return i++;
            }
        };
        try (DecodeAhead<Integer, Integer> d = new DecodeAhead<>(source, i -> i, 3, 8, "test-source")) {
            int n = 0;
            while (d.hasNext()) {
                assertEquals(n++, d.next().value());
            }
            assertEquals(50, n);
        }
    }

    @Test
    void threadsEndWhenTheInputsRunOut() throws Exception {
        DecodeAhead<Integer, Integer> d = new DecodeAhead<>(IntStream.range(0, 30).iterator(), i -> i, 3, 6, "test-exhaust");
        int n = 0;
        while (d.hasNext()) {
            d.next();
            n++;
            assertTrue(d.liveThreads() <= 3);
        }
        assertEquals(30, n);
        assertEquals(0, d.liveThreads());
        assertEquals(0, threadsNamed("test-exhaust"), "no decode thread outlives the last input");
    }

    @Test
    void closingEarlyStopsTheThreadsAndDropsQueuedWork() throws Exception {
        AtomicInteger decoded = new AtomicInteger();
        CountDownLatch running = new CountDownLatch(1);
        DecodeAhead<Integer, Integer> d = new DecodeAhead<>(IntStream.range(0, 1_000_000).iterator(), i -> {
            running.countDown();
            Thread.sleep(5);
            decoded.incrementAndGet();
            return i;
        }, 2, 64, "test-early");
        assertTrue(d.hasNext());
        assertEquals(0, d.next().value());
        assertTrue(running.await(5, TimeUnit.SECONDS));
        assertTrue(threadsAlive("test-early") > 0);
        d.close();
        assertEquals(0, threadsNamed("test-early"), "close waits for the decode threads to end");
        int after = decoded.get();
        assertTrue(after <= 64 + 1, "the window bounds the work started: " + after);
        Thread.sleep(30);
        assertEquals(after, decoded.get(), "nothing decodes after close");
        assertFalse(d.hasNext(), "a closed pipeline has nothing more");
        d.close(); // idempotent
    }

    @Test
    void closeFromAnotherThreadReleasesAConsumerWaitingOnADecode() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        DecodeAhead<Integer, Integer> d = new DecodeAhead<>(IntStream.range(0, 10).iterator(), i -> {
            started.countDown();
            Thread.sleep(60_000);
            return i;
        }, 1, 4, "test-kill");
        assertTrue(d.hasNext());
        Thread killer = new Thread(() -> {
            try {
                started.await();
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            d.close(); // as a task-completion listener of a killed task would
        });
        killer.start();
        long t0 = System.nanoTime();
        // the running decode is interrupted; the consumer is told the pipeline closed, not given an error row
        IllegalStateException e = assertThrows(IllegalStateException.class, d::next);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "released well before the decode's sleep ends");
        killer.join();
        assertFalse(d.hasNext());
        assertEquals(0, threadsNamed("test-kill"));
    }

    @Test
    void anErrorInADecodeIsRethrownOnTheConsumerAndStopsThePool() throws Exception {
        DecodeAhead<Integer, Integer> d = new DecodeAhead<>(IntStream.range(0, 100).iterator(), i -> {
            if (i == 5) {
                throw new OutOfMemoryError("test");
            }
            return i;
        }, 2, 8, "test-error");
        for (int i = 0; i < 5; i++) {
            assertEquals(i, d.next().value());
        }
        assertThrows(OutOfMemoryError.class, d::next);
        assertEquals(0, threadsNamed("test-error"));
        assertFalse(d.hasNext());
    }

    @Test
    void zeroThreadsOrWindowDecodesOnTheCallingThreadLazily() throws Exception {
        for (int[] tw : new int[][] {{0, 8}, {2, 0}}) {
            AtomicInteger pulled = new AtomicInteger();
            Iterator<Integer> src = IntStream.range(0, 10).peek(i -> pulled.incrementAndGet()).iterator();
            Thread caller = Thread.currentThread();
            try (DecodeAhead<Integer, Integer> d = new DecodeAhead<>(src, i -> {
                assertEquals(caller, Thread.currentThread());
                return -i;
            }, tw[0], tw[1], "test-inline")) {
                assertFalse(d.pipelined());
                assertEquals(0, d.next().value());
                assertTrue(pulled.get() <= 2, "inline decode pulls one input at a time: " + pulled.get());
                int n = 1;
                while (d.hasNext()) {
                    assertEquals(-n, d.next().value());
                    n++;
                }
                assertEquals(10, n);
            }
            assertEquals(0, threadsNamed("test-inline"));
        }
        assertThrows(IllegalArgumentException.class, () -> new DecodeAhead<>(List.<Integer>of().iterator(), i -> i, -1, 1, "x"));
    }
}
