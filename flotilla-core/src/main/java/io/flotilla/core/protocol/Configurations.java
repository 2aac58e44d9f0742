package io.flotilla.core.protocol;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configurations in a node's log and snapshot, by the index that introduced each. The node uses
 * the newest, committed or not (dissertation §4.1); when a new leader cuts entries off the log, the
 * newest one left takes over. A leader appends a configuration only once the one before it is
 * committed, and Log Matching makes every log a copy of some leader's, so in any log only the newest
 * configuration can be uncommitted. Older ones are kept only as far back as the applied index, for
 * the snapshots taken there.
 */
final class Configurations {
    private final TreeMap<Long, ClusterConfig> byIndex = new TreeMap<>();

    /** The newest configuration, or {@link ClusterConfig#NONE} before any is known. */
    ClusterConfig latest() {
        return byIndex.isEmpty() ? ClusterConfig.NONE : byIndex.lastEntry().getValue();
    }

    /** The index of the newest configuration's entry (the snapshot's index for a snapshot's), 0 if none. */
    long latestIndex() {
        return byIndex.isEmpty() ? 0 : byIndex.lastKey();
    }

    /** The configuration in force at {@code index}, which must not be below the applied index. */
    ClusterConfig at(long index) {
        Map.Entry<Long, ClusterConfig> e = byIndex.floorEntry(index);
        return e == null ? ClusterConfig.NONE : e.getValue();
    }

    /** A configuration entry joined the log at its index (replacing anything from there on). */
    void appended(LogEntry entry, long applied) {
        if (entry.type() == EntryType.CONFIG) {
            byIndex.tailMap(entry.index(), true).clear();
            byIndex.put(entry.index(), ClusterConfig.decode(entry.data()));
            Long floor = byIndex.floorKey(applied);
            if (floor != null) {
                byIndex.headMap(floor, false).clear();
            }
        }
    }

    /** The log was cut from {@code index} on. */
    void truncatedFrom(long index) {
        byIndex.tailMap(index, true).clear();
    }

    /** Starts over from a snapshot's configuration, or from none. */
    void reset(long index, ClusterConfig config) {
        byIndex.clear();
        if (config != null) {
            byIndex.put(index, config);
        }
    }
}
