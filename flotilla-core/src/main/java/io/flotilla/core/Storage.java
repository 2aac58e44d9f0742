package io.flotilla.core;

import java.util.List;

/**
 * A node's log and hard state. The protocol core only reads it; the runtime writes what each
 * {@code Ready} asks for, then calls {@link #sync()} once for the whole batch (group commit).
 *
 * <p>Indexes: the log holds {@code firstIndex()..lastIndex()}; {@code term(firstIndex() - 1)} is also
 * known (0 at the start of history, the snapshot's term after compaction). An empty log has
 * {@code lastIndex() == firstIndex() - 1}.
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

    /** True for a node that has never been started: no hard state, no log. */
    default boolean isEmpty() {
        return hardState().equals(HardState.INITIAL) && lastIndex() == 0;
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
