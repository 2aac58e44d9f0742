package io.flotilla.faults;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * A randomized sequence of faults: quiet for {@code quietMs}, one fault of a kind drawn from
 * {@code kinds} held for {@code holdMs}, healed, and so on until {@code duration} is spent. Every
 * choice (kind, victim, partition mode, times) comes from {@code seed}, so the same seed replays the
 * same schedule (the timing of the system under test still varies).
 */
record FaultSchedule(String name, List<FaultKind> kinds, Duration duration, long seed, int minQuietMs, int maxQuietMs,
                     int minHoldMs, int maxHoldMs) {
    FaultSchedule {
        kinds = List.copyOf(kinds);
        if (kinds.isEmpty() || minQuietMs > maxQuietMs || minHoldMs > maxHoldMs) {
            throw new IllegalArgumentException("bad schedule " + name);
        }
    }

    static FaultSchedule of(String name, Duration duration, long seed, FaultKind... kinds) {
        return new FaultSchedule(name, List.of(kinds), duration, seed, 1000, 3000, 1500, 4000);
    }

    /** Runs the schedule to its end, leaving no fault active. */
    void run(Nemesis nemesis) throws IOException, InterruptedException {
        Random random = new Random(seed);
        long end = System.nanoTime() + duration.toNanos();
        long maxFaults = duration.toMillis() / (minQuietMs + minHoldMs) + 1;
        try {
            for (long n = 0; n < maxFaults && System.nanoTime() < end; n++) {
                sleepUntilBefore(between(random, minQuietMs, maxQuietMs), end);
                if (System.nanoTime() >= end) {
                    break;
                }
                FaultKind kind = kinds.get(random.nextInt(kinds.size()));
                Fault f = nemesis.inject(kind, random);
                System.out.println("[faults] " + f);
                sleepUntilBefore(between(random, minHoldMs, maxHoldMs), end);
                nemesis.heal();
            }
        } finally {
            nemesis.heal();
        }
    }

    private static int between(Random random, int min, int max) {
        return min + random.nextInt(max - min + 1);
    }

    /** Sleeps {@code ms}, but not past {@code end}. */
    private static void sleepUntilBefore(long ms, long end) throws InterruptedException {
        long left = Math.min(ms, Math.max(0, (end - System.nanoTime()) / 1_000_000));
        Thread.sleep(left);
    }

    @Override
    public String toString() {
        return name + " " + kinds + " for " + duration.toSeconds() + " s, seed " + seed;
    }
}
