package io.flotilla.server.net;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One log line per event, for at most {@code lines} events in each interval; events beyond that are
 * only counted, and the next line that is logged says how many were left out: anyone who can reach
 * the port can cause refusals, and must not flood the log with them.
 */
public final class RateLimitedLog {
    /** Ten lines per ten seconds: every refusal of a quiet node is seen, a flood costs one line a second. */
    static final int LINES = 10;
    static final long INTERVAL_SECONDS = 10;

    private final int lines;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private long windowStart;
    private int logged;
    private long suppressed;

    public RateLimitedLog() {
        this(LINES, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    RateLimitedLog(int lines, long interval, TimeUnit unit) {
        this(lines, interval, unit, System::nanoTime);
    }

    /** With the clock a test drives. */
    RateLimitedLog(int lines, long interval, TimeUnit unit, LongSupplier nanoTime) {
        if (lines <= 0) {
            throw new IllegalArgumentException("lines must be positive: " + lines);
        }
        this.lines = lines;
        this.intervalNanos = unit.toNanos(interval);
        this.nanoTime = nanoTime;
    }

    /**
     * Passes the number of events this line stands for (1, plus those left out before it) to
     * {@code line}, if the interval has room for another line.
     */
    void event(Consumer<Long> line) {
        long count;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (logged == 0 || now - windowStart >= intervalNanos) {
                windowStart = now;
                logged = 0;
            }
            if (logged >= lines) {
                suppressed++;
                return;
            }
            logged++;
            count = suppressed + 1;
            suppressed = 0;
        }
        line.accept(count);
    }

    /** A WARN line on {@code log}, if there is room for it, saying how many like it were left out before it. */
    public void warn(Logger log, String format, Object... args) {
        event(n -> log.warn(n <= 1 ? format : format + " (" + (n - 1) + " similar lines left out)", args));
    }
}
