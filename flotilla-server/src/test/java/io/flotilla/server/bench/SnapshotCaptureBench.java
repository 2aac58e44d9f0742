package io.flotilla.server.bench;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.StateMachine;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvStateMachine;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The node thread's pause for a snapshot capture (a benchmark, not a test): a store of {@code keys}
 * keys (16-byte keys, 128-byte values); then {@code rounds} times: a capture timed on this thread,
 * its writer on another thread (to a stream that counts and drops the bytes) while this thread
 * applies overwrites of random keys as fast as it can, and as many overwrites again once the writer
 * is done. Prints the capture pause (median and max), the apply throughput with no snapshot, while
 * a writer runs and just after it (when the changes made meanwhile fold back), a capture taken right
 * after a writer ends, and the live heap (after a full GC) at each stage, one of them while a
 * writer is held at its first byte.
 *
 * <p>Run after {@code ./mvnw -DskipTests package}: {@code java -Xmx512m -cp "flotilla-server/target/test-classes:flotilla-server/target/flotilla-server.jar:flotilla-server/target/lib/*" io.flotilla.server.bench.SnapshotCaptureBench [keys] [rounds]}.
 * To measure the store as it was before FreezableMap (a copy of the map per capture), compile the
 * KvStateMachine of the commit before it into a directory and put that first on the class path:
 * {@code c=$(git log --diff-filter=A --format=%h -- flotilla-server/src/main/java/io/flotilla/server/kv/FreezableMap.java);
 * mkdir -p /tmp/old; git show "$c~1:flotilla-server/src/main/java/io/flotilla/server/kv/KvStateMachine.java" > /tmp/old/KvStateMachine.java;
 * javac -cp "flotilla-server/target/flotilla-server.jar:flotilla-server/target/lib/*" -d /tmp/old/classes /tmp/old/KvStateMachine.java},
 * then the same command with {@code /tmp/old/classes:} in front of the class path.
 *
 * <p>On the development machine (2 vCPUs shared with other work, -Xmx512m, three runs of each):
 * the copy paused the node a median of 84-122 ms per capture (up to 680 ms), the frozen map
 * 0.07-0.11 ms (up to 31 ms, the first capture of a run); live heap 261 MiB filled, 301 MiB with a
 * copy held and 345 MiB while its writer ran, against 261 and 288 MiB; applies while a writer runs
 * 290,000-400,000/s against 210,000-300,000/s (writes during the writer's pass go above the map
 * and fold back later, see FreezableMap).
 */
public final class SnapshotCaptureBench {
    private static final long CLIENT = 7;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Bytes[] keys;
    private final KvStateMachine store = new KvStateMachine();
    private final SplittableRandom random = new SplittableRandom(42);
    private long index;

    private SnapshotCaptureBench(int keys) {
        this.keys = new Bytes[keys];
        for (int i = 0; i < keys; i++) {
            this.keys[i] = Bytes.utf8(String.format("%016d", i));
        }
    }

    public static void main(String[] args) throws Exception {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        System.out.printf("%s, max heap %d MiB, %d cpus%n", KvStateMachine.class.getProtectionDomain().getCodeSource().getLocation(),
                Runtime.getRuntime().maxMemory() >> 20, Runtime.getRuntime().availableProcessors());
        new SnapshotCaptureBench(keys).run(rounds);
    }

    private void run(int rounds) throws Exception {
        long start = System.nanoTime();
        for (Bytes key : keys) {
            set(key);
        }
        System.out.printf("filled %,d keys in %.1f s; live heap %d MiB%n", keys.length, (System.nanoTime() - start) / 1e9, liveHeapMiB());
        for (int warm = 0; warm < 3; warm++) {
            applyFor(300_000);
        }
        System.out.printf("applies with no snapshot: %,.0f/s%n", applyFor(500_000));

        ExecutorService writerThread = Executors.newSingleThreadExecutor();
        long[] pauses = new long[rounds];
        double[] during = new double[rounds];
        double[] after = new double[rounds];
        long[] writesDuring = new long[rounds];
        long bytes = 0;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            StateMachine.Snapshot snapshot = store.snapshot();
            pauses[r] = System.nanoTime() - t0;
            if (r == 0) {
                System.out.printf("live heap with a capture held, before its writer runs: %d MiB%n", liveHeapMiB());
            }
            CountingStream out = new CountingStream();
            long[] writerCpu = new long[1];
            Future<?> writer = writerThread.submit(() -> {
                long cpu = THREADS.getCurrentThreadCpuTime();
                write(snapshot, out);
                writerCpu[0] = THREADS.getCurrentThreadCpuTime() - cpu;
            });
            long t1 = System.nanoTime();
            long nodeCpu = THREADS.getCurrentThreadCpuTime();
            long gc = gcMillis();
            long applied = 0;
            while (!writer.isDone()) {
                overwrite();
                applied++;
            }
            writer.get();
            long writeNanos = System.nanoTime() - t1;
            nodeCpu = THREADS.getCurrentThreadCpuTime() - nodeCpu;
            gc = gcMillis() - gc;
            during[r] = applied / (writeNanos / 1e9);
            writesDuring[r] = applied;
            bytes = out.count;
            if (r == 0) {
                System.out.printf("live heap after the writer, before its changes fold back: %d MiB%n", liveHeapMiB());
            }
            after[r] = applyFor(Math.max(applied, 100_000));
            System.out.printf("round %d: capture %.2f ms; writer %.0f ms (CPU: writer %.0f ms, this thread %.0f ms; GC %d ms),"
                    + " %,d applies during it (%,.0f/s), %,.0f/s after it%n", r, pauses[r] / 1e6, writeNanos / 1e6, writerCpu[0] / 1e6,
                    nodeCpu / 1e6, gc, applied, during[r], after[r]);
        }
        System.out.printf("capture pause: median %.2f ms, max %.2f ms (%d captures); snapshot %d MiB%n", median(pauses) / 1e6,
                Arrays.stream(pauses).max().orElse(0) / 1e6, rounds, bytes >> 20);
        System.out.printf("applies: %,.0f/s while a writer runs, %,.0f/s just after (medians), %,d applies during a write (median)%n",
                median(during), median(after), median(writesDuring));

        // The worst case for the overlay: a capture right after a writer ends, its changes not folded yet.
        StateMachine.Snapshot snapshot = store.snapshot();
        CountingStream out = new CountingStream();
        Future<?> writer = writerThread.submit(() -> write(snapshot, out));
        long applied = 0;
        while (!writer.isDone()) {
            overwrite();
            applied++;
        }
        writer.get();
        long t0 = System.nanoTime();
        StateMachine.Snapshot next = store.snapshot();
        long pause = System.nanoTime() - t0;
        System.out.printf("capture right after a writer during which %,d applies ran: %.2f ms; live heap %d MiB%n", applied, pause / 1e6,
                liveHeapMiB());
        writerThread.submit(() -> write(next, new CountingStream())).get();

        // The heap while a writer holds what it writes, held at its first byte.
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        StateMachine.Snapshot held = store.snapshot();
        Future<?> holding = writerThread.submit(() -> write(held, new CountingStream() {
            @Override
            public void write(byte[] b, int off, int len) {
                started.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(b, off, len);
            }
        }));
        started.await();
        System.out.printf("live heap while a writer holds what it writes: %d MiB%n", liveHeapMiB());
        go.countDown();
        holding.get();
        writerThread.shutdown();
        writerThread.awaitTermination(1, TimeUnit.MINUTES);
    }

    private static void write(StateMachine.Snapshot snapshot, OutputStream out) {
        try {
            snapshot.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Applies {@code count} overwrites; returns how many per second. */
    private double applyFor(long count) {
        long t0 = System.nanoTime();
        for (long i = 0; i < count; i++) {
            overwrite();
        }
        return count / ((System.nanoTime() - t0) / 1e9);
    }

    private void overwrite() {
        set(keys[random.nextInt(keys.length)]);
    }

    private void set(Bytes key) {
        long seq = ++index;
        byte[] value = new byte[128];
        value[0] = (byte) seq;
        value[1] = (byte) (seq >> 8);
        store.apply(seq, new KvCommand.Write(1, new Request.Set(new Session(CLIENT, seq, seq), key, Bytes.wrap(value))));
    }

    /** Time the collectors took so far (pauses and concurrent work as the JVM counts it). */
    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }

    private static long liveHeapMiB() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
