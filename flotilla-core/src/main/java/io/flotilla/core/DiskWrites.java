package io.flotilla.core;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Where a node's log appends and syncs run, and how their end comes back to the node's thread. The
 * runtime writes on a storage thread of its own, so that the node thread goes on ticking, answering
 * heartbeats and replicating while the disk syncs; the simulation writes at a later virtual time.
 *
 * @param writer     runs one batch's append and sync (never more than one at a time)
 * @param nodeThread runs a task on the node's thread (how the writer reports back)
 */
record DiskWrites(Executor writer, Consumer<Runnable> nodeThread) {
    /** Writes on the caller's thread, at once: the node waits for its disk. */
    static final DiskWrites INLINE = new DiskWrites(Runnable::run, Runnable::run);
}
