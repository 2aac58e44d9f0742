package io.flotilla.core;

import java.util.Objects;

/** One entry of the replicated log. */
public record LogEntry(long index, long term, EntryType type, Bytes data) {
    public LogEntry {
        if (index < 1 || term < 1) {
            throw new IllegalArgumentException("entry index and term start at 1: " + index + "/" + term);
        }
        Objects.requireNonNull(type);
        Objects.requireNonNull(data);
    }

    /** Bytes this entry costs in a batch: payload plus a fixed header. */
    public int sizeEstimate() {
        return data.length() + 24;
    }

    @Override
    public String toString() {
        return index + "/" + term + (type == EntryType.NORMAL ? " " + data : " " + type);
    }
}
