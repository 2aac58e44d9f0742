package io.flotilla.core;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A snapshot being written: by the local state machine, or chunk by chunk as a leader sends it.
 * Nothing is visible until {@link #commit()} has made it durable and atomic; {@link #abort()} (or
 * closing without commit) leaves no trace.
 */
public interface SnapshotSink extends AutoCloseable {
    SnapshotMeta meta();

    /** Where the state machine's bytes go. */
    OutputStream out();

    /** Bytes written so far. */
    long size();

    /**
     * Makes the snapshot durable and the newest one; older snapshots beyond the newest two may go.
     *
     * @throws IllegalStateException if already committed or aborted, or if a newer snapshot was committed
     *                               while this one was written (this one is then discarded)
     */
    void commit() throws IOException;

    void abort();

    /** Aborts unless committed. */
    @Override
    default void close() {
        abort();
    }
}
