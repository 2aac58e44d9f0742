package io.flotilla.core;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * When a node takes snapshots, and where the writing runs.
 *
 * @param intervalEntries take a snapshot once this many entries were applied since the last one (0: never)
 * @param trailingEntries entries kept in the log behind a snapshot, so that a follower a little behind
 *                        catches up from the log rather than with a whole snapshot
 * @param writer          runs the state machine's snapshot writer, off the node's thread
 * @param nodeThread      runs a task on the node's thread (how the writer reports back)
 */
record Snapshotting(long intervalEntries, long trailingEntries, Executor writer, Consumer<Runnable> nodeThread) {
    static final Snapshotting NEVER = new Snapshotting(0, 0, Runnable::run, Runnable::run);

    Snapshotting {
        if (intervalEntries < 0 || trailingEntries < 0) {
            throw new IllegalArgumentException("snapshot interval and trailing entries must not be negative");
        }
    }
}
