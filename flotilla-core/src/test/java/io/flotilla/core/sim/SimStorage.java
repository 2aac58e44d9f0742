package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.Storage;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Storage on a simulated disk. Writes land in a volatile cache and become durable only at
 * {@link #sync()}; {@link #crash} throws away what was not synced, except that a torn crash may
 * keep some of it, as a real disk that wrote part of its cache before losing power would.
 *
 * <p>It also keeps a hash chain over the log ({@link #chainAt}): equal chain values at an index
 * mean equal logs up to there, which lets the invariants compare logs in constant time.
 */
final class SimStorage implements Storage {
    /** Decides whether the node crashes at a given point of a disk write. */
    interface CrashPoint {
        CrashPoint NEVER = where -> false;

        boolean crashesAt(String where);
    }

    /** Sees every entry written to the log, with its chain value. */
    interface AppendObserver {
        void appended(LogEntry entry, long chain);
    }

    private final List<LogEntry> log = new ArrayList<>();
    private long[] chain = new long[64];
    private HardState hardState = HardState.INITIAL;

    private final List<LogEntry> durableLog = new ArrayList<>();
    private HardState durableHardState = HardState.INITIAL;
    /** The lowest index written since the last sync; everything below it is durable. */
    private long dirtyFrom = Long.MAX_VALUE;

    private AppendObserver observer = (entry, chain) -> { };
    private CrashPoint crashPoint = CrashPoint.NEVER;
    /** A broken disk for self-tests: after bootstrap, sync() makes the log durable but not the hard state. */
    private final boolean lyingSync;

    SimStorage() {
        this(false);
    }

    SimStorage(boolean lyingSync) {
        this.lyingSync = lyingSync;
    }

    void observeAppends(AppendObserver observer) {
        this.observer = observer;
    }

    void crashAt(CrashPoint crashPoint) {
        this.crashPoint = crashPoint;
    }

    @Override
    public HardState hardState() {
        return hardState;
    }

    HardState durableHardState() {
        return durableHardState;
    }

    @Override
    public long firstIndex() {
        return 1;
    }

    @Override
    public long lastIndex() {
        return log.size();
    }

    @Override
    public long term(long index) {
        return index == 0 ? 0 : entry(index).term();
    }

    /** The hash of the log up to and including {@code index} (0 for the empty prefix). */
    long chainAt(long index) {
        if (index < 0 || index > log.size()) {
            throw new IndexOutOfBoundsException("index " + index + " outside 0.." + log.size());
        }
        return chain[(int) index];
    }

    LogEntry entry(long index) {
        if (index < 1 || index > log.size()) {
            throw new IndexOutOfBoundsException("index " + index + " outside 1.." + log.size());
        }
        return log.get((int) index - 1);
    }

    @Override
    public List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
        List<LogEntry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < toExclusive; i++) {
            LogEntry e = entry(i);
            bytes += e.sizeEstimate();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public void append(List<LogEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        if (first < 1 || first > log.size() + 1) {
            throw new IllegalArgumentException("append at " + first + " leaves a gap after " + log.size());
        }
        if (crashPoint.crashesAt("append")) {
            throw new SimulatedCrash("while appending at " + first);
        }
        log.subList((int) first - 1, log.size()).clear();
        log.addAll(entries);
        dirtyFrom = Math.min(dirtyFrom, first);
        rechainFrom(first);
        for (LogEntry e : entries) {
            observer.appended(e, chain[(int) e.index()]);
        }
    }

    @Override
    public void saveHardState(HardState state) {
        hardState = state;
    }

    @Override
    public void sync() {
        if (crashPoint.crashesAt("sync")) {
            throw new SimulatedCrash("before a sync completed");
        }
        makeDurable();
        if (crashPoint.crashesAt("after sync")) {
            throw new SimulatedCrash("just after a sync");
        }
    }

    private void makeDurable() {
        if (dirtyFrom != Long.MAX_VALUE) {
            int from = (int) dirtyFrom - 1;
            durableLog.subList(Math.min(from, durableLog.size()), durableLog.size()).clear();
            durableLog.addAll(log.subList(from, log.size()));
            dirtyFrom = Long.MAX_VALUE;
        }
        if (!lyingSync || durableHardState.equals(HardState.INITIAL)) {
            durableHardState = hardState;
        }
    }

    // Snapshots are not simulated yet: the nodes run with Snapshotting.NEVER and never get one.

    @Override
    public Optional<SnapshotMeta> latestSnapshot() {
        return Optional.empty();
    }

    @Override
    public long snapshotSize() {
        return 0;
    }

    @Override
    public Bytes readSnapshot(long offset, int maxBytes) {
        throw new IllegalStateException("there is no snapshot");
    }

    @Override
    public InputStream openSnapshot() {
        throw new IllegalStateException("there is no snapshot");
    }

    @Override
    public SnapshotSink beginSnapshot(SnapshotMeta meta) {
        throw new UnsupportedOperationException("the simulated disk does not store snapshots yet");
    }

    @Override
    public void compact(long index) {
        throw new IllegalArgumentException("cannot compact the log to " + index + ": there is no snapshot");
    }

    @Override
    public void resetToSnapshot(SnapshotMeta meta) {
        throw new IllegalArgumentException("resetToSnapshot(" + meta + "): there is no snapshot");
    }

    /**
     * Loses power: only durable state survives, unless {@code torn}, in which case a random part of
     * what was written since the last sync made it to the platter too (a prefix of the new entries;
     * the hard state or not).
     *
     * @return entries lost
     */
    int crash(SplittableRandom random, boolean torn) {
        int before = log.size();
        boolean unsyncedEntries = dirtyFrom != Long.MAX_VALUE;
        if (torn && random.nextBoolean()) {
            durableHardState = hardState;
        }
        if (torn && unsyncedEntries) {
            int from = (int) dirtyFrom - 1;
            int kept = random.nextInt(log.size() - from + 1);
            if (kept > 0) {
                durableLog.subList(Math.min(from, durableLog.size()), durableLog.size()).clear();
                durableLog.addAll(log.subList(from, from + kept));
            }
        }
        log.clear();
        log.addAll(durableLog);
        hardState = durableHardState;
        dirtyFrom = Long.MAX_VALUE;
        rechainFrom(1);
        return Math.max(0, before - log.size());
    }

    private void rechainFrom(long first) {
        if (chain.length <= log.size()) {
            chain = Arrays.copyOf(chain, Math.max(chain.length * 2, log.size() + 1));
        }
        for (long i = first; i <= log.size(); i++) {
            chain[(int) i] = link(chain[(int) i - 1], log.get((int) i - 1));
        }
    }

    /** Mixes one entry into the chain: a 64-bit FNV-1a over the entry, seeded with the previous link. */
    static long link(long previous, LogEntry e) {
        long h = previous ^ 0xcbf29ce484222325L;
        h = mix(h, e.index());
        h = mix(h, e.term());
        h = mix(h, e.type().code());
        byte[] data = e.data().unsafeArray();
        for (byte b : data) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(h, data.length);
    }

    private static long mix(long h, long v) {
        h ^= v;
        h *= 0x9e3779b97f4a7c15L;
        return h ^ (h >>> 29);
    }

    @Override
    public String toString() {
        return "log " + log.size() + " (durable " + durableLog.size() + "), " + hardState;
    }
}
