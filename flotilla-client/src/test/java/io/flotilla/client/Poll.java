package io.flotilla.client;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Bounded polling: the one way the tests of every module wait (flotilla-server's through this
 * module's test-jar). A test waits for a condition, never for a stretch of time standing in for one.
 */
public final class Poll {
    /** What a healthy cluster does in milliseconds (an election, replication), with room for a loaded machine. */
    public static final Duration PATIENCE = Duration.ofSeconds(20);

    private Poll() {
    }

    /** Waits up to {@link #PATIENCE} until {@code condition} holds; fails naming {@code what}. */
    public static void until(String what, BooleanSupplier condition) {
        until(PATIENCE, what, condition, () -> "");
    }

    /** As above; a failure also reports {@code state} (for instance every node's status). */
    public static void until(String what, BooleanSupplier condition, Supplier<String> state) {
        until(PATIENCE, what, condition, state);
    }

    public static void until(Duration limit, String what, BooleanSupplier condition) {
        until(limit, what, condition, () -> "");
    }

    public static void until(Duration limit, String what, BooleanSupplier condition, Supplier<String> state) {
        if (!within(limit, condition)) {
            throw new AssertionError("not within " + limit.toMillis() + " ms: " + what + state.get());
        }
    }

    /** Whether {@code condition} held within {@code limit}, checked every 10 ms; for a test that asserts on it itself. */
    public static boolean within(Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting");
            }
        }
        return true;
    }
}
