package io.flotilla.server.net;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One log line for the first of a kind of event, then at most one per interval saying how many
 * happened since: a flood of refused connections must not flood the log too.
 */
final class RateLimitedLog {
    private final long intervalNanos;
    private long nextNanos = Long.MIN_VALUE;
    private long suppressed;

    RateLimitedLog(long interval, TimeUnit unit) {
        this.intervalNanos = unit.toNanos(interval);
    }

    /** Passes the number of events this line stands for (1, or more after quiet lines) to {@code line}, if it is time. */
    void event(Consumer<Long> line) {
        long count;
        synchronized (this) {
            long now = System.nanoTime();
            suppressed++;
            if (nextNanos != Long.MIN_VALUE && now - nextNanos < 0) {
                return;
            }
            nextNanos = now + intervalNanos;
            count = suppressed;
            suppressed = 0;
        }
        line.accept(count);
    }
}
