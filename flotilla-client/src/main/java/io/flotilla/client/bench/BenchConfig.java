package io.flotilla.client.bench;

import java.time.Duration;

/**
 * One benchmark run: {@code requests} calls, or as many as {@code duration} allows (then
 * {@code requests} is 0), after {@code warmup} unmeasured ones, with {@code clients} in flight at a
 * time, over {@code keys} keys of {@code keySize} bytes (zero-padded numbers) and values of
 * {@code valueSize} bytes.
 *
 * @param duration null to run {@code requests} calls
 */
public record BenchConfig(long requests, Duration duration, long warmup, int clients, int keys, int keySize, int valueSize,
                          Workload workload, boolean stale) {
    public BenchConfig {
        if (duration != null && requests != 0) {
            throw new IllegalArgumentException("--requests and --duration exclude each other: run a number of requests or for a time");
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new IllegalArgumentException("--duration must be positive, got " + duration);
        }
        if ((duration == null && requests < 1) || warmup < 0 || clients < 1 || keys < 1 || valueSize < 0) {
            throw new IllegalArgumentException("--requests, --clients and --keys must be positive, --warmup and --value-size not negative");
        }
        int digits = Integer.toString(keys - 1).length();
        if (keySize < digits) {
            throw new IllegalArgumentException("--key-size " + keySize + " is too short to number " + keys + " keys (needs " + digits + ")");
        }
    }

    /** A run of {@code requests} calls. */
    public BenchConfig(long requests, long warmup, int clients, int keys, int keySize, int valueSize, Workload workload, boolean stale) {
        this(requests, null, warmup, clients, keys, keySize, valueSize, workload, stale);
    }

    public boolean timed() {
        return duration != null;
    }

    /** "20000 requests" or "60 s". */
    public String length() {
        return timed() ? String.format(java.util.Locale.ROOT, "%s s", trim(duration.toMillis() / 1000.0)) : requests + " requests";
    }

    private static String trim(double seconds) {
        return seconds == Math.rint(seconds) ? Long.toString((long) seconds) : Double.toString(seconds);
    }
}
