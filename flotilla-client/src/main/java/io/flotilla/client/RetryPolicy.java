package io.flotilla.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a call retries: at most {@code maxAttempts} attempts, waiting between them with exponential
 * backoff from {@code initialBackoff} up to {@code maxBackoff}, with jitter so that many clients do
 * not retry in step. The call's deadline ({@link ClientOptions#deadline()}) bounds it as well.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(16, Duration.ofMillis(20), Duration.ofMillis(500));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
        }
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("backoff must satisfy 0 <= initial (" + initialBackoff + ") <= max (" + maxBackoff + ")");
        }
    }

    /** No retries at all: one attempt per call. */
    public static RetryPolicy once() {
        return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
    }

    /** The wait before the next attempt after {@code failures} failed ones in a row (1 = the first). */
    public Duration backoff(int failures) {
        if (failures < 1 || initialBackoff.isZero()) {
            return Duration.ZERO;
        }
        long nominal = initialBackoff.toNanos() << Math.min(failures - 1, 20);
        long capped = Math.min(nominal, maxBackoff.toNanos());
        return Duration.ofNanos(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1)); // 50-100%
    }
}
