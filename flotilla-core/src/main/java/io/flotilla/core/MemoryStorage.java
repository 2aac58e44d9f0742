package io.flotilla.core;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Storage in memory: for tests, examples and nodes that may forget everything when they stop. It keeps
 * only the newest snapshot, as a byte array.
 */
public final class MemoryStorage implements Storage {
    private final List<LogEntry> log = new ArrayList<>();
    /** The index just before the log's first entry (0, or the compaction point) and its term. */
    private long offset;
    private long offsetTerm;
    private HardState hardState = HardState.INITIAL;
    private SnapshotMeta snapshot;
    private byte[] snapshotData = new byte[0];
    private int snapshotChecksum;

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        return offset + 1;
    }

    @Override
    public synchronized long lastIndex() {
        return offset + log.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index == offset) {
            return offsetTerm;
        }
        checkRange(index);
        return log.get(slot(index)).term();
    }

    @Override
    public synchronized List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
        List<LogEntry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < toExclusive; i++) {
            checkRange(i);
            LogEntry e = log.get(slot(i));
            bytes += e.sizeEstimate();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public synchronized void append(List<LogEntry> entries) {
        Storage.checkAppend(entries, firstIndex(), lastIndex());
        if (entries.isEmpty()) {
            return;
        }
        log.subList(slot(entries.get(0).index()), log.size()).clear();
        log.addAll(entries);
    }

    @Override
    public synchronized void saveHardState(HardState state) {
        hardState = state;
    }

    @Override
    public void sync() {
        // Memory is as durable as it gets.
    }

    @Override
    public synchronized Optional<SnapshotMeta> latestSnapshot() {
        return Optional.ofNullable(snapshot);
    }

    @Override
    public synchronized long snapshotSize() {
        return snapshotData.length;
    }

    @Override
    public synchronized Optional<SnapshotChunk> readSnapshot(SnapshotMeta meta, long offset, int maxBytes) {
        // Only the newest is kept: a sender pinned to an older one starts over with it.
        return meta.equals(snapshot) ? Optional.of(MemorySnapshotSink.chunk(snapshotData, snapshotChecksum, offset, maxBytes))
                : Optional.empty();
    }

    @Override
    public synchronized InputStream openSnapshot() {
        requireSnapshot();
        return new ByteArrayInputStream(snapshotData);
    }

    @Override
    public synchronized SnapshotSink beginSnapshot(SnapshotMeta meta) {
        String refusal = meta.refusalAfter(snapshot);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        return new MemorySnapshotSink(meta, data -> install(meta, data));
    }

    @Override
    public synchronized void compact(long index) {
        Storage.checkCompaction(index, snapshot, lastIndex());
        if (index > offset) {
            offsetTerm = term(index);
            log.subList(0, slot(index) + 1).clear();
            offset = index;
        }
    }

    @Override
    public synchronized void resetToSnapshot(SnapshotMeta meta) {
        if (!meta.equals(snapshot)) {
            throw new IllegalArgumentException("resetToSnapshot(" + meta + ") needs that snapshot committed as the newest; the newest is "
                    + (snapshot == null ? "none" : snapshot));
        }
        if (meta.index() >= offset && meta.index() <= lastIndex() && term(meta.index()) == meta.term()) {
            compact(meta.index());
            return;
        }
        log.clear();
        offset = meta.index();
        offsetTerm = meta.term();
    }

    private synchronized void install(SnapshotMeta meta, byte[] data) {
        String refusal = meta.refusalAfter(snapshot);
        if (refusal != null) {
            throw new IllegalStateException(refusal + " (committed while this one was being written)");
        }
        snapshot = meta;
        snapshotData = data;
        snapshotChecksum = MemorySnapshotSink.checksum(data);
    }

    private void requireSnapshot() {
        if (snapshot == null) {
            throw new IllegalStateException("there is no snapshot");
        }
    }

    private int slot(long index) {
        return (int) (index - offset - 1);
    }

    private void checkRange(long index) {
        if (index <= offset || index > lastIndex()) {
            throw new IndexOutOfBoundsException("index " + index + " outside " + firstIndex() + ".." + lastIndex());
        }
    }
}
