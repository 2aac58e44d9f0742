package io.flotilla.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * A node's log, hard state and snapshots: the read side the protocol core uses ({@link StorageReader})
 * and the write side the driver uses. The core only reads; the driver writes what each {@code Ready}
 * asks for, then calls {@link #sync()} once for the whole batch (group commit), and takes, installs
 * and serves snapshots.
 *
 * <p>Thread safety: the node's thread reads while the thread that carries out a {@code Ready}'s writes
 * (in {@code RaftRuntime}, a storage thread of its own) appends, saves and syncs; a snapshot may be
 * written (through a {@link SnapshotSink}) on yet another thread at the same time, so implementations
 * must allow that.
 */
public interface Storage extends StorageReader {
    /**
     * Appends entries whose indexes continue or overwrite the log: any entries at or after the first
     * new entry's index are dropped first. Need not be durable until {@link #sync()}.
     *
     * @throws IllegalArgumentException if the first entry's index is below {@code firstIndex()} or beyond
     *                                  {@code lastIndex() + 1}, or the entries' indexes do not run on by one
     */
    void append(List<LogEntry> entries);

    /** The preconditions of {@link #append}, for implementations: throws as documented there. */
    static void checkAppend(List<LogEntry> entries, long firstIndex, long lastIndex) {
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < firstIndex || first > lastIndex + 1) {
            throw new IllegalArgumentException("append at " + first + " does not continue or overwrite the log "
                    + firstIndex + ".." + lastIndex);
        }
        for (int k = 1; k < entries.size(); k++) {
            if (entries.get(k).index() != first + k) {
                throw new IllegalArgumentException("entries to append are not consecutive: " + entries.get(k).index()
                        + " at position " + k);
            }
        }
    }

    /** Records the hard state; a no-op if it equals the current one. Need not be durable until {@link #sync()}. */
    void saveHardState(HardState state);

    /** Makes everything appended and saved so far durable. */
    void sync();

    // ---- snapshots and compaction (Raft §7) -------------------------------------------------------

    /** The newest snapshot's size in bytes (0 if none). */
    long snapshotSize();

    /**
     * The newest snapshot's data, to restore a state machine from; the caller closes it. It keeps
     * reading the same snapshot even if a newer one is committed meanwhile.
     *
     * @throws IllegalStateException if there is no snapshot
     */
    InputStream openSnapshot() throws IOException;

    /**
     * Starts writing a snapshot; may be called from a thread other than the one appending entries.
     * Snapshots only move forward: committing one older than the newest fails (see {@link SnapshotSink#commit()}).
     *
     * @throws IllegalArgumentException if {@code meta} is older than the newest snapshot, or has its index
     *                                  with another term
     */
    SnapshotSink beginSnapshot(SnapshotMeta meta) throws IOException;

    /**
     * Forgets the log up to {@code index}, which the newest snapshot must cover: afterwards
     * {@code firstIndex() == index + 1} and {@code term(index)} is still known. An index already
     * forgotten changes nothing.
     *
     * @throws IllegalArgumentException if there is no snapshot, or {@code index} is beyond it or beyond
     *                                  {@code lastIndex()}
     */
    void compact(long index);

    /** The preconditions of {@link #compact}, for implementations: throws as documented there. */
    static void checkCompaction(long index, SnapshotMeta newest, long lastIndex) {
        if (newest == null) {
            throw new IllegalArgumentException("cannot compact the log to " + index + ": there is no snapshot yet");
        }
        if (index > newest.index()) {
            throw new IllegalArgumentException("cannot compact the log to " + index + ", beyond the newest snapshot's index "
                    + newest.index());
        }
        if (index > lastIndex) {
            throw new IllegalArgumentException("cannot compact the log to " + index + ": it ends at " + lastIndex
                    + " (a snapshot beyond the log is installed with resetToSnapshot)");
        }
    }

    /**
     * After a snapshot received from a leader was committed: keeps the entries after it if the log
     * holds the snapshot's last entry with the same term (Raft §7), otherwise drops the whole log.
     * Either way {@code firstIndex() == meta.index() + 1} afterwards. Durable on return.
     *
     * @throws IllegalArgumentException unless {@code meta} is the newest committed snapshot
     */
    void resetToSnapshot(SnapshotMeta meta);

    /**
     * Writes the cluster's first configuration as entry 1 in term 1, identically on every founding
     * node, so their logs agree from the start. Does nothing on a node that already has state.
     */
    default void bootstrap(ClusterConfig config) {
        if (isEmpty()) {
            append(List.of(new LogEntry(1, 1, EntryType.CONFIG, config.encode())));
            saveHardState(new HardState(1, 0));
            sync();
        }
    }
}
