package io.flotilla.core.protocol;

import io.flotilla.core.LogEntry;
import io.flotilla.core.StorageReader;
import java.util.ArrayList;
import java.util.List;

/**
 * The log as the protocol sees it: what storage holds, overlaid by the entries not yet known to be
 * durable ("unstable": appended since the last {@link Ready}, or handed out in a Ready whose write
 * is still running). They are read from here, never from storage, so storage may write them on
 * another thread meanwhile. Unstable entries may start below storage's last index; persisting them
 * then overwrites the conflicting suffix.
 */
final class RaftLog {
    private final StorageReader storage;
    private final List<LogEntry> unstable = new ArrayList<>();
    long committed;
    /** Last index handed out to be applied. */
    long applied;

    RaftLog(StorageReader storage) {
        this.storage = storage;
        this.committed = storage.firstIndex() - 1;
        this.applied = committed;
    }

    long firstIndex() {
        return storage.firstIndex();
    }

    long lastIndex() {
        return unstable.isEmpty() ? storage.lastIndex() : unstable.get(unstable.size() - 1).index();
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /** The term at {@code index}, or -1 if the log does not hold it (beyond the end, or compacted). */
    long term(long index) {
        if (index > lastIndex() || index < firstIndex() - 1) {
            return -1;
        }
        if (!unstable.isEmpty() && index >= unstable.get(0).index()) {
            return unstable.get((int) (index - unstable.get(0).index())).term();
        }
        return storage.term(index);
    }

    boolean matchTerm(long index, long term) {
        return term(index) == term;
    }

    /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
    boolean isUpToDate(long lastIndex, long lastTerm) {
        long myTerm = lastTerm();
        return lastTerm > myTerm || (lastTerm == myTerm && lastIndex >= lastIndex());
    }

    /** Entries from {@code from}, at most {@code maxCount} and about {@code maxBytes} (at least one if any). */
    List<LogEntry> entries(long from, int maxCount, long maxBytes) {
        long end = Math.min(lastIndex() + 1, from + maxCount);
        List<LogEntry> out = new ArrayList<>();
        if (from >= end) {
            return out;
        }
        long unstableStart = unstable.isEmpty() ? Long.MAX_VALUE : unstable.get(0).index();
        long bytes = 0;
        if (from < unstableStart) {
            for (LogEntry e : storage.entries(from, Math.min(end, unstableStart), maxBytes)) {
                out.add(e);
                bytes += e.sizeEstimate();
            }
            if (out.size() < Math.min(end, unstableStart) - from) {
                return out;
            }
        }
        for (long i = Math.max(from, unstableStart); i < end; i++) {
            LogEntry e = unstable.get((int) (i - unstableStart));
            bytes += e.sizeEstimate();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** The leader's own append. */
    void append(LogEntry entry) {
        if (entry.index() != lastIndex() + 1) {
            throw new IllegalStateException("append of " + entry + " after " + lastIndex());
        }
        unstable.add(entry);
    }

    /**
     * A follower's append after a successful consistency check at {@code prevIndex}: skips entries it
     * already has, truncates at the first conflict and appends the rest (Raft §5.3, rules 3 and 4).
     *
     * @return the index of the first entry that replaced or extended the log, or 0 if none did
     */
    long appendFromLeader(long prevIndex, List<LogEntry> entries) {
        for (LogEntry e : entries) {
            if (e.index() <= lastIndex() && term(e.index()) == e.term()) {
                continue;
            }
            if (e.index() <= committed) {
                throw new IllegalStateException("conflict at committed index " + e.index() + " (commit " + committed + ")");
            }
            truncateFrom(e.index());
            int from = (int) (e.index() - prevIndex - 1);
            unstable.addAll(entries.subList(from, entries.size()));
            return e.index();
        }
        return 0;
    }

    private void truncateFrom(long index) {
        if (!unstable.isEmpty() && index >= unstable.get(0).index()) {
            unstable.subList((int) (index - unstable.get(0).index()), unstable.size()).clear();
        } else {
            unstable.clear(); // the persisted suffix from index is overwritten when the new entries are stored
        }
    }

    /**
     * The largest index at or below {@code index} whose term is at most {@code term} (0 at the start
     * of history). Both sides of a rejected AppendEntries use it to skip a conflicting term at once.
     */
    long lastIndexUpToTerm(long index, long term) {
        long i = Math.min(index, lastIndex());
        while (i >= firstIndex()) {
            if (term(i) <= term) {
                return i;
            }
            i--;
        }
        return firstIndex() - 1;
    }

    void commitTo(long index) {
        if (index > committed) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
            }
            committed = index;
        }
    }

    boolean hasUnstable() {
        return !unstable.isEmpty();
    }

    List<LogEntry> unstableEntries() {
        return List.copyOf(unstable);
    }

    /**
     * Storage now holds {@code written} (the entries of one {@link Ready}); events since may have
     * appended more or replaced some of them. Drops the unstable prefix that is still exactly those
     * entries (an index and a term name one entry) and returns its last index, or 0 if none is.
     */
    long stableTo(List<LogEntry> written) {
        if (unstable.isEmpty() || written.isEmpty() || unstable.get(0).index() != written.get(0).index()) {
            return 0; // nothing written, or all of it replaced since
        }
        int same = 0;
        while (same < written.size() && same < unstable.size() && unstable.get(same).term() == written.get(same).term()) {
            same++;
        }
        if (same == 0) {
            return 0;
        }
        long last = unstable.get(same - 1).index();
        unstable.subList(0, same).clear();
        return last;
    }

    /**
     * Storage now holds a snapshot up to {@code index} (and, if it matched, the entries after it):
     * everything up to there is committed and applied.
     */
    void installedSnapshot(long index) {
        unstable.clear();
        committed = Math.max(committed, index);
        applied = Math.max(applied, index);
    }

    List<LogEntry> nextCommitted(int maxCount) {
        if (committed <= applied) {
            return List.of();
        }
        return entries(applied + 1, (int) Math.min(maxCount, committed - applied), Long.MAX_VALUE);
    }
}
