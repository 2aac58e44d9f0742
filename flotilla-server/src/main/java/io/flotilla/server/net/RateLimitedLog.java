package io.flotilla.server.net;

import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * One log line for the first of a kind of event, then at most one per interval saying how many
 * happened since: anyone who can reach the port can cause refusals, and must not flood the log too.
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

    /** A WARN line on {@code log}, if it is time, saying how many like it were left out before it. */
    void warn(Logger log, String format, Object... args) {
        event(n -> log.warn(n <= 1 ? format : format + " (" + (n - 1) + " similar lines left out)", args));
    }
}
