package io.flotilla.core.storage;

import java.time.Duration;

/**
 * A testing aid, never for production: makes every fsync of the storage in this JVM wait first, as
 * a slow disk would ({@code bin/flotilla-server --debug-fsync-delay-ms}). It takes over
 * {@link FileSync}'s test hook, so it does not mix with tests that set that hook themselves.
 */
public final class DebugFsyncDelay {
    private DebugFsyncDelay() {
    }

    /** From now on every fsync (of a file or a directory) waits {@code delay} first; zero ends the delays. */
    public static void set(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("an fsync delay must not be negative, got " + delay);
        }
        long nanos = delay.toNanos();
        FileSync.hook = nanos == 0 ? FileSync.Hook.NONE : path -> pause(nanos);
    }

    private static void pause(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            // The delay is cut short, the fsync still happens: an interrupt must not turn into a failed fsync here.
            Thread.currentThread().interrupt();
        }
    }
}
