package io.flotilla.client;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded polling: the only kind of waiting the tests do. */
public final class Poll {
    private Poll() {
    }

    /** Waits until {@code condition} holds, checking every 10 ms; fails with {@code what} after {@code limit}. */
    public static void until(Duration limit, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + limit.toMillis() + " ms: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what);
            }
        }
    }
}
