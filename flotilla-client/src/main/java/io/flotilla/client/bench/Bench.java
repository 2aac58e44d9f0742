package io.flotilla.client.bench;

import io.flotilla.client.Futures;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.ReadConsistency;
import io.flotilla.core.Bytes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
 * {@code requests} have completed or the {@code duration} is over, each one issued as soon as another
 * finishes, and records every successful call's latency in an HdrHistogram. Around and during the
 * measured calls it asks the nodes for their status about once a second, to count leader changes.
 */
public final class Bench {
    private static final long POLL_NANOS = TimeUnit.SECONDS.toNanos(1);

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
            new Round(config.warmup(), null).run(null, inPlace, null);
        }
        StatusPolls polls = new StatusPolls();
        polls.pollAndWait(); // the term and leader before the first measured call
        return new Round(config.requests(), config.duration()).run(progress, inPlace, polls);
    }

    /** Status queries to every node, one round at a time, whose answers go to {@link LeaderChanges}. */
    private final class StatusPolls {
        private final LeaderChanges changes = new LeaderChanges();
        private final long start = System.nanoTime();
        private CompletableFuture<Void> last = CompletableFuture.completedFuture(null);
        private long lastStarted;

        void pollIfDue(long now) {
            if (last.isDone() && now - lastStarted >= POLL_NANOS) {
                poll(now);
            }
        }

        void pollAndWait() {
            last.join(); // never fails: see poll
            poll(System.nanoTime()).join();
        }

        private CompletableFuture<Void> poll(long now) {
            lastStarted = now;
            last = client.statusAsync().handle((status, error) -> {
                if (status != null) { // a failed poll says nothing about leaders
                    changes.observe(Math.max(0, System.nanoTime() - start) / 1e9, status);
                }
                return null;
            });
            return last;
        }
    }

    /** One batch of calls with its own counters: {@code total} of them, or as many as {@code duration} allows. */
    private final class Round {
        private final long total;
        private final boolean timed;
        private final long start = System.nanoTime();
        private final long deadline;
        private final AtomicLong issued = new AtomicLong();
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong errors = new AtomicLong();
        private final Map<BenchResult.Failure, LongAdder> failures = new EnumMap<>(BenchResult.Failure.class);
        private final AtomicReference<String> firstError = new AtomicReference<>();
        private final Histogram latency = new ConcurrentHistogram(3);
        /** Each of the {@code clients} chains of calls counts down once it issues no more and its last call completed. */
        private final CountDownLatch chainsEnded;

        /** Construct just before {@link #run}: the duration counts from here. */
        Round(long total, Duration duration) {
            this.timed = duration != null;
            this.total = timed ? Long.MAX_VALUE : total;
            this.deadline = timed ? start + duration.toNanos() : 0;
            this.chainsEnded = new CountDownLatch((int) Math.min(config.clients(), this.total));
            for (BenchResult.Failure kind : BenchResult.Failure.values()) {
                failures.put(kind, new LongAdder());
            }
        }

        BenchResult run(PrintWriter progress, boolean inPlace, StatusPolls polls) throws InterruptedException {
            for (long i = chainsEnded.getCount(); i > 0; i--) {
                next();
            }
            while (!chainsEnded.await(inPlace ? 250 : 1000, TimeUnit.MILLISECONDS)) {
                long now = System.nanoTime();
                if (polls != null) {
                    polls.pollIfDue(now);
                }
                if (progress != null) {
                    double seconds = (now - start) / 1e9;
                    String count = timed ? done.get() + " requests" : done.get() + "/" + total + " requests";
                    String elapsed = timed ? String.format(java.util.Locale.ROOT, "%.1f/%s", seconds, config.length()) : String.format(
                            java.util.Locale.ROOT, "%.1f s", seconds);
                    progress.printf(java.util.Locale.ROOT, "%s%s, %.0f requests/s, %d errors, %s elapsed%s",
                            inPlace ? "\r" : "", count, done.get() / seconds, errors.get(), elapsed, inPlace ? "   " : "\n");
                    progress.flush();
                }
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (progress != null && inPlace) {
                progress.print("\r\033[K");
                progress.flush();
            }
            if (polls != null) {
                polls.pollAndWait(); // and after the last
            }
            Map<BenchResult.Failure, Long> counted = new EnumMap<>(BenchResult.Failure.class);
            failures.forEach((kind, count) -> counted.put(kind, count.sum()));
            return new BenchResult(config, done.get() - errors.get(), errors.get(), counted, firstError.get(), elapsed, latency,
                    polls == null ? new LeaderChanges() : polls.changes);
        }

        /** Issues calls until one is still in flight (its completion continues the chain) or none is left to issue. */
        private void next() {
            while (claim()) {
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
            chainsEnded.countDown();
        }

        /** Whether another call may be issued. */
        private boolean claim() {
            if (timed) {
                return System.nanoTime() - deadline < 0;
            }
            return issued.getAndIncrement() < total;
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
                Throwable cause = Futures.cause(error);
                failures.get(BenchResult.Failure.of(cause)).increment();
                firstError.compareAndSet(null, cause.getMessage());
            }
            done.incrementAndGet();
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
