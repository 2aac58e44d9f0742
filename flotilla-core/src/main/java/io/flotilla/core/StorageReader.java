package io.flotilla.core;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the protocol core reads of a node's storage: its hard state, its log and its newest snapshot.
 * {@code RaftNode} takes only this view and never writes; the driver writes through {@link Storage},
 * which extends it.
 *
 * <p>Indexes: the log holds {@code firstIndex()..lastIndex()}; {@code term(firstIndex() - 1)} is also
 * known (0 at the start of history, the snapshot's term after compaction). An empty log has
 * {@code lastIndex() == firstIndex() - 1}.
 */
public interface StorageReader {
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
     * The newest committed snapshot, if any. A durable storage reopens with its log starting right after
     * it: {@code firstIndex() == latestSnapshot().index() + 1}.
     */
    Optional<SnapshotMeta> latestSnapshot();

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

    /** True for a node that has never been started: no hard state, no log. */
    default boolean isEmpty() {
        return hardState().equals(HardState.INITIAL) && lastIndex() == 0 && latestSnapshot().isEmpty();
    }
}
