package io.flotilla.core;

import io.flotilla.core.protocol.Role;

/**
 * What a node reports as it works, for an embedder's metrics (the server turns these into Prometheus
 * metrics). Every method has a no-op default, so an implementation picks what it wants.
 *
 * <p>Called at the edges of the protocol core ({@link NodeDriver} and the snapshotter), never inside
 * it: durations are measured there with {@link System#nanoTime()} and never steer anything. Most calls
 * come on the node's thread; {@link #synced} and {@link #appendEntriesSent} may also come on the
 * storage thread, so implementations must be thread-safe. They must be quick and must not block or
 * call back into the node; an exception thrown here stops the node.
 */
public interface RaftMetrics {
    /** Reports nothing. */
    RaftMetrics NONE = new RaftMetrics() {
    };

    /**
     * One batch was made durable (group commit: one {@link Storage#sync()} after appending).
     *
     * @param entries log entries in the batch (0 when only the term or vote changed)
     * @param nanos   how long the sync took
     */
    default void synced(int entries, long nanos) {
    }

    /** An AppendEntries carrying {@code entries} entries (at least one; heartbeats are not reported) went to a follower. */
    default void appendEntriesSent(int entries) {
    }

    /** This node wrote a snapshot of its own state machine: {@code bytes} of data, {@code nanos} from capture to durable. */
    default void snapshotTaken(long bytes, long nanos) {
    }

    /**
     * This node installed a snapshot a leader sent: {@code bytes} of data, {@code nanos} from its first
     * chunk until the state machine was restored from it.
     */
    default void snapshotInstalled(long bytes, long nanos) {
    }

    /** The node's role, term or known leader changed ({@code leader} is 0 when none is known). */
    default void roleChanged(Role role, long term, int leader) {
    }
}
