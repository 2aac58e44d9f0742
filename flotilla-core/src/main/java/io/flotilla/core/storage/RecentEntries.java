package io.flotilla.core.storage;

import io.flotilla.core.LogEntry;

/**
 * The newest entries, kept in memory because they are the ones read back soon: a leader sends what
 * it just wrote to followers a moment later. A ring of a contiguous run ending at the last entry,
 * bounded in count and bytes; anything older is read from the segment files.
 */
final class RecentEntries {
    private final LogEntry[] ring;
    private final long maxBytes;
    private long first;
    private int count;
    private long bytes;

    RecentEntries(int capacity, long maxBytes) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.ring = new LogEntry[capacity];
        this.maxBytes = maxBytes;
    }

    /** The entry at {@code index}, or null if it is not cached. */
    LogEntry get(long index) {
        return index >= first && index < first + count ? ring[slot(index)] : null;
    }

    /** The first cached index, or {@code Long.MAX_VALUE} if nothing is cached. */
    long firstIndex() {
        return count == 0 ? Long.MAX_VALUE : first;
    }

    /** Caches the entry that follows the cached run (anything else restarts the run). */
    void add(LogEntry entry) {
        if (count > 0 && entry.index() != first + count) {
            clear();
        }
        if (entry.sizeEstimate() > maxBytes) {
            clear();
            return;
        }
        while (count == ring.length || (count > 0 && bytes + entry.sizeEstimate() > maxBytes)) {
            LogEntry evicted = ring[slot(first)];
            ring[slot(first)] = null;
            bytes -= evicted.sizeEstimate();
            first++;
            count--;
        }
        if (count == 0) {
            first = entry.index();
        }
        ring[slot(entry.index())] = entry;
        bytes += entry.sizeEstimate();
        count++;
    }

    /** Drops {@code index} and everything after it. */
    void truncateFrom(long index) {
        while (count > 0 && first + count - 1 >= index) {
            int s = slot(first + count - 1);
            bytes -= ring[s].sizeEstimate();
            ring[s] = null;
            count--;
        }
    }

    void clear() {
        truncateFrom(Long.MIN_VALUE);
    }

    private int slot(long index) {
        return (int) (index & (ring.length - 1));
    }
}
