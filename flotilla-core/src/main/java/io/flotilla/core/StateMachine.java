package io.flotilla.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The application's replicated state. Every node applies the same commands in the same order, so
 * {@link #apply} must be deterministic: no clock, no randomness, no I/O, no dependence on anything
 * but the state and the command. It runs on the node's single Raft thread, never concurrently with
 * any other method here, so implementations need no locks.
 *
 * @param <C> commands, written to the log (encoded by a {@link Codec})
 * @param <Q> queries, served locally without touching the log
 * @param <R> results of both
 */
public interface StateMachine<C, Q, R> {
    /**
     * Applies a committed command and returns its result. A command that is invalid for the current
     * state should return an error result, not throw: an exception stops the node.
     *
     * @param index the command's log index, increasing by at least one between calls; usable as a
     *              deterministic clock (for example to expire sessions)
     */
    R apply(long index, C command);

    /** Answers a query from the current state without changing it. */
    R query(Q query);

    /**
     * Captures the state as it is now, for a snapshot. Called on the node's thread between two
     * {@link #apply} calls, so it must be quick: take a copy (or a copy-on-write view) and return a
     * writer for it. The writer then runs on another thread while {@code apply} goes on, so it must
     * not touch the live state. Equal states should write equal bytes (iterate in a defined order).
     */
    Snapshot snapshot();

    /** Replaces the whole state with one written by a {@link Snapshot}. */
    void restore(InputStream in) throws IOException;

    /** A captured state, ready to be written. */
    @FunctionalInterface
    interface Snapshot {
        void writeTo(OutputStream out) throws IOException;
    }
}
