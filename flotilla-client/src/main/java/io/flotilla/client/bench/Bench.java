package io.flotilla.client.bench;

import io.flotilla.client.FlotillaClient;
import io.flotilla.client.ReadConsistency;
import io.flotilla.core.Bytes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Drives a cluster through a {@link FlotillaClient}: keeps {@code clients} calls in flight until
 * {@code requests} have completed, each one issued as soon as another finishes, and records every
 * successful call's latency in an HdrHistogram.
 */
public final class Bench {
    private final FlotillaClient client;
    private final BenchConfig config;
    private final Bytes value;

    public Bench(FlotillaClient client, BenchConfig config) {
        this.client = client;
        this.config = config;
        byte[] v = new byte[config.valueSize()];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < v.length; i++) {
            v[i] = (byte) ('a' + random.nextInt(26));
        }
        this.value = Bytes.wrap(v);
    }

    /**
     * Runs the warmup, then the measured requests; {@code progress} (may be null) gets a one-line
     * display now and then, rewritten in place ({@code \r}) if {@code inPlace}.
     */
    public BenchResult run(PrintWriter progress, boolean inPlace) throws InterruptedException {
        if (config.warmup() > 0) {
            new Round(config.warmup()).run(null, inPlace);
        }
        return new Round(config.requests()).run(progress, inPlace);
    }

    /** One batch of calls with its own counters. */
    private final class Round {
        private final long total;
        private final AtomicLong issued = new AtomicLong();
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        private final Map<BenchResult.Failure, LongAdder> failures = new EnumMap<>(BenchResult.Failure.class);
        private final AtomicReference<String> firstError = new AtomicReference<>();
        private final Histogram latency = new ConcurrentHistogram(3);
        private final CountDownLatch finished = new CountDownLatch(1);

        Round(long total) {
            this.total = total;
            for (BenchResult.Failure kind : BenchResult.Failure.values()) {
                failures.put(kind, new LongAdder());
            }
        }

        BenchResult run(PrintWriter progress, boolean inPlace) throws InterruptedException {
            long start = System.nanoTime();
            for (int i = 0; i < Math.min(config.clients(), total); i++) {
                next();
            }
            while (!finished.await(inPlace ? 250 : 1000, TimeUnit.MILLISECONDS)) {
                long now = System.nanoTime();
                if (progress != null) {
                    double seconds = (now - start) / 1e9;
                    progress.printf(java.util.Locale.ROOT, "%s%d/%d requests, %.0f requests/s, %d errors, %.1f s elapsed%s",
                            inPlace ? "\r" : "", done.get(), total, done.get() / seconds, errors.get(), seconds, inPlace ? "   " : "\n");
                    progress.flush();
                }
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (progress != null && inPlace) {
                progress.print("\r\033[K");
                progress.flush();
            }
            Map<BenchResult.Failure, Long> counted = new EnumMap<>(BenchResult.Failure.class);
            failures.forEach((kind, count) -> counted.put(kind, count.sum()));
            return new BenchResult(config, done.get() - errors.get(), errors.get(), counted, firstError.get(), elapsed, latency);
        }

        /** Issues calls until one is still in flight or all are issued; its completion continues the chain. */
        private void next() {
            while (issued.getAndIncrement() < total) {
                long begin = System.nanoTime();
                CompletableFuture<?> call = issue();
                if (!call.isDone()) {
                    call.whenComplete((r, e) -> {
                        record(begin, e);
                        next();
                    });
                    return;
                }
                record(begin, call.handle((r, e) -> e).join());
            }
        }

        private CompletableFuture<?> issue() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            Bytes key = key(random.nextInt(config.keys()));
            if (random.nextDouble() < config.workload().readFraction()) {
                return client.getAsync(key, config.stale() ? ReadConsistency.STALE : ReadConsistency.LINEARIZABLE);
            }
            return client.setAsync(key, value);
        }

        private void record(long begin, Throwable error) {
            if (error == null) {
                latency.recordValue(Math.max(1, (System.nanoTime() - begin) / 1000));
            } else {
                errors.incrementAndGet();
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                failures.get(BenchResult.Failure.of(cause)).increment();
                firstError.compareAndSet(null, cause.getMessage());
            }
            if (done.incrementAndGet() == total) {
                finished.countDown();
            }
        }
    }

    /** Key number {@code n}: its decimal digits, zero-padded to the key size. */
    Bytes key(int n) {
        byte[] k = new byte[config.keySize()];
        java.util.Arrays.fill(k, (byte) '0');
        for (int i = k.length - 1; n > 0; i--, n /= 10) {
            k[i] = (byte) ('0' + n % 10);
        }
        return Bytes.wrap(k);
    }
}
