package io.flotilla.core;

import java.util.ArrayList;
import java.util.List;

/** Storage in memory: for tests, examples and nodes that may forget everything when they stop. */
public final class MemoryStorage implements Storage {
    private final List<LogEntry> log = new ArrayList<>();
    private HardState hardState = HardState.INITIAL;

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public long firstIndex() {
        return 1;
    }

    @Override
    public synchronized long lastIndex() {
        return log.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index == 0) {
            return 0;
        }
        checkRange(index);
        return log.get((int) index - 1).term();
    }

    @Override
    public synchronized List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
        List<LogEntry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < toExclusive; i++) {
            checkRange(i);
            LogEntry e = log.get((int) i - 1);
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
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < 1 || first > log.size() + 1) {
            throw new IllegalArgumentException("append at " + first + " leaves a gap after " + log.size());
        }
        log.subList((int) first - 1, log.size()).clear();
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

    private void checkRange(long index) {
        if (index < 1 || index > log.size()) {
            throw new IndexOutOfBoundsException("index " + index + " outside 1.." + log.size());
        }
    }
}
