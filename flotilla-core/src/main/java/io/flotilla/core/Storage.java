package io.flotilla.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * A node's log and hard state. The protocol core only reads it; the runtime writes what each
 * {@code Ready} asks for, then calls {@link #sync()} once for the whole batch (group commit).
 *
 * <p>Indexes: the log holds {@code firstIndex()..lastIndex()}; {@code term(firstIndex() - 1)} is also
 * known (0 at the start of history, the snapshot's term after compaction). An empty log has
 * {@code lastIndex() == firstIndex() - 1}.
 *
 * <p>Thread safety: the node's thread appends, syncs and reads; a snapshot may be written (through a
 * {@link SnapshotSink}) on another thread at the same time, so implementations must allow that.
 */
public interface Storage {
    HardState hardState();

    long firstIndex();

    long lastIndex();

    /** The term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}. */
    long term(long index);

    /**
     * Entries from {@code from} up to {@code toExclusive}, stopping early once {@code maxBytes} is
     * reached but always returning at least one entry if any is in range.
     */
    List<LogEntry> entries(long from, long toExclusive, long maxBytes);

    /**
     * Appends entries whose indexes continue or overwrite the log: any entries at or after the first
     * new entry's index are dropped first. Need not be durable until {@link #sync()}.
     */
    void append(List<LogEntry> entries);

    /** Records the hard state; a no-op if it equals the current one. Need not be durable until {@link #sync()}. */
    void saveHardState(HardState state);

    /** Makes everything appended and saved so far durable. */
    void sync();

    // ---- snapshots and compaction (Raft §7) -------------------------------------------------------

    /**
     * The newest committed snapshot, if any. A durable storage reopens with its log starting right after
     * it: {@code firstIndex() == latestSnapshot().index() + 1}.
     */
    Optional<SnapshotMeta> latestSnapshot();

    /** The newest snapshot's size in bytes (0 if none). */
    long snapshotSize();

    /**
     * Up to {@code maxBytes} of the data of the snapshot {@code meta} from {@code offset} (empty at the
     * end), with that snapshot's size and checksum, for sending it to a follower in chunks. Every chunk
     * of a transfer names the snapshot it belongs to, so a newer snapshot committed meanwhile can never
     * be sent under the older one's label: while the older one is still stored it is read, and once it
     * is gone the answer is empty and the sender starts over with the newest.
     *
     * @return empty if {@code meta} is not (or no longer) a stored snapshot
     * @throws IndexOutOfBoundsException if {@code offset} is negative or beyond the data
     * @throws IllegalArgumentException  if {@code maxBytes < 1}
     */
    Optional<SnapshotChunk> readSnapshot(SnapshotMeta meta, long offset, int maxBytes) throws IOException;

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

    /** True for a node that has never been started: no hard state, no log. */
    default boolean isEmpty() {
        return hardState().equals(HardState.INITIAL) && lastIndex() == 0 && latestSnapshot().isEmpty();
    }

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
