package io.flotilla.core;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/** A storage that hands every call to another, for tests that change a few of them (faults, races). */
public abstract class ForwardingStorage implements Storage {
    protected final Storage delegate;

    protected ForwardingStorage(Storage delegate) {
        this.delegate = delegate;
    }

    @Override
    public HardState hardState() {
        return delegate.hardState();
    }

    @Override
    public long firstIndex() {
        return delegate.firstIndex();
    }

    @Override
    public long lastIndex() {
        return delegate.lastIndex();
    }

    @Override
    public long term(long index) {
        return delegate.term(index);
    }

    @Override
    public List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
        return delegate.entries(from, toExclusive, maxBytes);
    }

    @Override
    public void append(List<LogEntry> entries) {
        delegate.append(entries);
    }

    @Override
    public void saveHardState(HardState state) {
        delegate.saveHardState(state);
    }

    @Override
    public void sync() {
        delegate.sync();
    }

    @Override
    public Optional<SnapshotMeta> latestSnapshot() {
        return delegate.latestSnapshot();
    }

    @Override
    public long snapshotSize() {
        return delegate.snapshotSize();
    }

    @Override
    public Optional<SnapshotChunk> readSnapshot(SnapshotMeta meta, long offset, int maxBytes) throws IOException {
        return delegate.readSnapshot(meta, offset, maxBytes);
    }

    @Override
    public InputStream openSnapshot() throws IOException {
        return delegate.openSnapshot();
    }

    @Override
    public SnapshotSink beginSnapshot(SnapshotMeta meta) throws IOException {
        return delegate.beginSnapshot(meta);
    }

    @Override
    public void compact(long index) {
        delegate.compact(index);
    }

    @Override
    public void resetToSnapshot(SnapshotMeta meta) {
        delegate.resetToSnapshot(meta);
    }
}
