package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SimulatedSnapshots;
import io.flotilla.core.SnapshotChunk;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.Storage;
import java.io.ByteArrayInputStream;
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
 * <p>Snapshots and compaction behave as in {@code DurableStorage}: a snapshot is durable once its
 * sink's {@code commit()} returns (nothing of it before); compaction only moves the log's start
 * (nothing durable changes, and after a crash the log starts right after the newest snapshot
 * whatever it had been compacted to); {@link #resetToSnapshot} is durable on return, and if a crash
 * comes between committing a leader's snapshot and resetting to it, the restart finds a log that
 * does not hold the snapshot's last entry and drops it, as that call would have.
 *
 * <p>It also keeps a hash chain over the log ({@link #chainAt}): equal chain values at an index
 * mean equal logs up to there, which lets the invariants compare logs in constant time. Compacted
 * entries stay in memory, out of the protocol's sight ({@link #firstIndex()} moves past them), so
 * their chain values stay known; only a log dropped for a snapshot starts a new chain, from the
 * snapshot's entry's chain value as the {@link ChainOracle} knows it.
 */
final class SimStorage implements Storage {
    /** Decides whether the node crashes at a given point of a disk write. */
    interface CrashPoint {
        CrashPoint NEVER = where -> false;

        boolean crashesAt(String where);
    }

    /** Sees every entry written to the log, with its chain value and that of the entry before it. */
    interface AppendObserver {
        void appended(LogEntry entry, long previousChain, long chain);
    }

    /** Sees what happens to snapshots and to the log's start. */
    interface SnapshotObserver {
        SnapshotObserver NONE = new SnapshotObserver() {
        };

        /** A snapshot was committed (durably): written by the local state machine or received from a leader. */
        default void committed(SnapshotMeta meta, Bytes data) {
        }

        /** The log was reset to a leader's snapshot: kept after it, or dropped. */
        default void reset(SnapshotMeta meta, boolean keptLog) {
        }

        /** The log's start moved: entries {@code from..to} are forgotten. */
        default void compacted(long from, long to) {
        }
    }

    /** The chain value of the log that holds entry {@code index} of {@code term}, for a log reset to a snapshot. */
    interface ChainOracle {
        long chainOf(long index, long term);
    }

    /**
     * Every entry written since the log was last dropped: {@code base + 1 .. base + written.size()}.
     * The protocol sees only {@code first ..} of it; entries before that are compacted.
     */
    private final List<LogEntry> written = new ArrayList<>();
    private long base;
    private long baseTerm;
    /** chain[k]: the chain value at index {@code base + k}; chain[0] is the base's. */
    private long[] chain = new long[64];
    private long first = 1;
    private HardState hardState = HardState.INITIAL;

    /** The disk: the log from the same base (a dropped log is dropped on disk at once), the hard state, the snapshot. */
    private final List<LogEntry> durableLog = new ArrayList<>();
    private HardState durableHardState = HardState.INITIAL;
    /** The lowest index written since the last sync; everything below it is durable. */
    private long dirtyFrom = Long.MAX_VALUE;
    private SnapshotMeta snapshot;
    private byte[] snapshotData;

    private AppendObserver observer = (entry, previous, chain) -> { };
    private SnapshotObserver snapshotObserver = SnapshotObserver.NONE;
    private ChainOracle chainOracle = SimStorage::syntheticChain;
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

    void observeSnapshots(SnapshotObserver observer) {
        this.snapshotObserver = observer;
    }

    void chainsFrom(ChainOracle oracle) {
        this.chainOracle = oracle;
    }

    void crashAt(CrashPoint crashPoint) {
        this.crashPoint = crashPoint;
    }

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    synchronized HardState durableHardState() {
        return durableHardState;
    }

    @Override
    public synchronized long firstIndex() {
        return first;
    }

    @Override
    public synchronized long lastIndex() {
        return base + written.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index < first - 1 || index > lastIndex()) {
            throw new IndexOutOfBoundsException("term of index " + index + " outside " + (first - 1) + ".." + lastIndex());
        }
        return index == base ? baseTerm : written.get(slot(index)).term();
    }

    /**
     * The hash of the log up to and including {@code index} (0 for the empty prefix), for any index the
     * log held since it was last dropped, compacted or not.
     */
    synchronized long chainAt(long index) {
        if (index < base || index > lastIndex()) {
            throw new IndexOutOfBoundsException("chain at index " + index + " outside " + base + ".." + lastIndex());
        }
        return chain[(int) (index - base)];
    }

    /** The first index whose chain value {@link #chainAt} knows. */
    synchronized long chainStart() {
        return base;
    }

    /** True if a crash now would still leave the entry {@code (index, term)}, or a snapshot covering it, on disk. */
    synchronized boolean holdsDurably(long index, long term) {
        if (snapshot != null && snapshot.index() >= index) {
            return true;
        }
        int k = slot(index);
        return k >= 0 && k < durableLog.size() && durableLog.get(k).term() == term;
    }

    /** An entry the protocol can still see (not compacted). */
    synchronized LogEntry entry(long index) {
        if (index < first || index > lastIndex()) {
            throw new IndexOutOfBoundsException("index " + index + " outside " + first + ".." + lastIndex());
        }
        return written.get(slot(index));
    }

    /** An entry written since the log was last dropped, compacted or not; null if there is none. */
    synchronized LogEntry writtenEntry(long index) {
        return index > base && index <= lastIndex() ? written.get(slot(index)) : null;
    }

    @Override
    public synchronized List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
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
    public synchronized void append(List<LogEntry> entries) {
        Storage.checkAppend(entries, first, lastIndex());
        if (entries.isEmpty()) {
            return;
        }
        long at = entries.get(0).index();
        if (crashPoint.crashesAt("append")) {
            throw new SimulatedCrash("while appending at " + at);
        }
        written.subList(slot(at), written.size()).clear();
        written.addAll(entries);
        dirtyFrom = Math.min(dirtyFrom, at);
        rechainFrom(at);
        for (LogEntry e : entries) {
            observer.appended(e, chainAt(e.index() - 1), chainAt(e.index()));
        }
    }

    @Override
    public synchronized void saveHardState(HardState state) {
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

    private synchronized void makeDurable() {
        if (dirtyFrom != Long.MAX_VALUE) {
            persist(dirtyFrom, lastIndex());
            dirtyFrom = Long.MAX_VALUE;
        }
        if (!lyingSync || durableHardState.equals(HardState.INITIAL)) {
            durableHardState = hardState;
        }
    }

    /** Writes entries {@code from..to} of the cache to the disk, over whatever the disk had from {@code from}. */
    private void persist(long from, long to) {
        int at = slot(from);
        durableLog.subList(Math.min(at, durableLog.size()), durableLog.size()).clear();
        durableLog.addAll(written.subList(at, slot(to) + 1));
    }

    // ---- snapshots and compaction ---------------------------------------------------------------

    @Override
    public synchronized Optional<SnapshotMeta> latestSnapshot() {
        return Optional.ofNullable(snapshot);
    }

    @Override
    public synchronized long snapshotSize() {
        return snapshot == null ? 0 : snapshotData.length;
    }

    @Override
    public synchronized Optional<SnapshotChunk> readSnapshot(SnapshotMeta meta, long offset, int maxBytes) {
        return meta.equals(snapshot) ? Optional.of(SimulatedSnapshots.chunk(snapshotData, SimulatedSnapshots.checksum(snapshotData),
                offset, maxBytes)) : Optional.empty();
    }

    @Override
    public synchronized InputStream openSnapshot() {
        requireSnapshot();
        return new ByteArrayInputStream(snapshotData);
    }

    /** The newest snapshot's data (null if none). */
    synchronized Bytes snapshotData() {
        return snapshot == null ? null : Bytes.wrap(snapshotData.clone());
    }

    @Override
    public synchronized SnapshotSink beginSnapshot(SnapshotMeta meta) {
        String refusal = meta.refusalAfter(snapshot);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        return SimulatedSnapshots.sink(meta, data -> {
            if (crashPoint.crashesAt("snapshot commit")) {
                throw new SimulatedCrash("before the snapshot at " + meta.index() + " was committed");
            }
            install(meta, data);
            snapshotObserver.committed(meta, Bytes.wrap(data.clone()));
            if (crashPoint.crashesAt("after snapshot commit")) {
                throw new SimulatedCrash("just after the snapshot at " + meta.index() + " was committed");
            }
        });
    }

    @Override
    public synchronized void compact(long index) {
        Storage.checkCompaction(index, snapshot, lastIndex());
        if (index >= first) {
            long from = first;
            first = index + 1;
            snapshotObserver.compacted(from, index);
        }
    }

    @Override
    public void resetToSnapshot(SnapshotMeta meta) {
        if (crashPoint.crashesAt("reset to snapshot")) {
            throw new SimulatedCrash("before resetting the log to the snapshot at " + meta.index());
        }
        boolean kept;
        synchronized (this) {
            if (!meta.equals(snapshot)) {
                throw new IllegalArgumentException("resetToSnapshot(" + meta + ") needs that snapshot committed as the newest; the newest is "
                        + (snapshot == null ? "none" : snapshot));
            }
            kept = holds(meta);
            if (kept) {
                // As DurableStorage: nothing is written; a restart rebuilds this from the snapshot and the log.
                first = Math.max(first, meta.index() + 1);
            } else {
                dropLog(meta);
            }
        }
        snapshotObserver.reset(meta, kept);
        if (crashPoint.crashesAt("after reset to snapshot")) {
            throw new SimulatedCrash("just after resetting the log to the snapshot at " + meta.index());
        }
    }

    /** True if the (cached) log holds the snapshot's last entry with its term. */
    private boolean holds(SnapshotMeta meta) {
        return meta.index() >= first - 1 && meta.index() <= lastIndex() && term(meta.index()) == meta.term();
    }

    /** Replaces the log, in the cache and on disk at once, with an empty one that continues after {@code meta}. */
    private void dropLog(SnapshotMeta meta) {
        written.clear();
        durableLog.clear();
        dirtyFrom = Long.MAX_VALUE;
        base = meta.index();
        baseTerm = meta.term();
        first = base + 1;
        chain[0] = chainOracle.chainOf(meta.index(), meta.term());
    }

    private synchronized void install(SnapshotMeta meta, byte[] data) {
        String refusal = meta.refusalAfter(snapshot);
        if (refusal != null) {
            throw new IllegalStateException(refusal + " (committed while this one was being written)");
        }
        snapshot = meta;
        snapshotData = data;
    }

    private void requireSnapshot() {
        if (snapshot == null) {
            throw new IllegalStateException("there is no snapshot");
        }
    }

    // ---- crashes ------------------------------------------------------------------------------

    /**
     * Loses power: only durable state survives, unless {@code torn}, in which case a random part of
     * what was written since the last sync made it to the platter too (a prefix of the new entries;
     * the hard state or not). The log then restarts after the newest snapshot, if there is one, as
     * {@code DurableStorage} recovers it.
     *
     * @return entries lost
     */
    synchronized int crash(SplittableRandom random, boolean torn) {
        long before = lastIndex();
        boolean unsyncedEntries = dirtyFrom != Long.MAX_VALUE;
        if (torn && random.nextBoolean()) {
            durableHardState = hardState;
        }
        if (torn && unsyncedEntries) {
            int kept = random.nextInt((int) (lastIndex() - dirtyFrom + 2));
            if (kept > 0) {
                persist(dirtyFrom, dirtyFrom + kept - 1);
            }
        }
        written.clear();
        written.addAll(durableLog);
        hardState = durableHardState;
        dirtyFrom = Long.MAX_VALUE;
        first = base + 1;
        rechainFrom(base + 1);
        if (snapshot != null) {
            if (holds(snapshot)) {
                first = snapshot.index() + 1;
            } else {
                dropLog(snapshot); // the log does not connect to the snapshot: recovery drops it
            }
        }
        return (int) Math.max(0, before - lastIndex());
    }

    private int slot(long index) {
        return (int) (index - base - 1);
    }

    private void rechainFrom(long from) {
        if (chain.length <= written.size()) {
            chain = Arrays.copyOf(chain, Math.max(chain.length * 2, written.size() + 1));
        }
        for (long i = from; i <= lastIndex(); i++) {
            int k = (int) (i - base);
            chain[k] = link(chain[k - 1], written.get(k - 1));
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

    /** Without an oracle (storage tested alone): a chain value standing for an unknown log ending at this entry. */
    private static long syntheticChain(long index, long term) {
        return mix(mix(0x5eed, index), term);
    }

    private static long mix(long h, long v) {
        h ^= v;
        h *= 0x9e3779b97f4a7c15L;
        return h ^ (h >>> 29);
    }

    @Override
    public synchronized String toString() {
        return "log " + first + ".." + lastIndex() + " (durable to " + (base + durableLog.size()) + "), "
                + (snapshot == null ? "no snapshot" : "snapshot " + snapshot.index() + "/" + snapshot.term()) + ", " + hardState;
    }
}
