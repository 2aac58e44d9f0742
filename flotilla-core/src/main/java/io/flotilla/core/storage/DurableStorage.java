package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotChunk;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Storage} on disk, in one data directory:
 *
 * <ul>
 *   <li>{@code log_<first>-<last>}, {@code log_inprogress_<first>}: the log, in segment files of
 *       checksummed records ({@link RecordFormat}); a new segment starts once one reaches
 *       {@link Options#segmentBytes()}, so compaction can drop whole files from the front;
 *   <li>{@code snapshot_<index>_<term>}: the newest two snapshots ({@link SnapshotFiles},
 *       {@link SnapshotFormat}), written through a {@link FileSnapshotSink}, possibly on another thread;
 *   <li>{@code hardstate}: term and vote, replaced atomically when they change;
 *   <li>{@code meta}: format version and the {@link Identity} of the node the directory belongs to;
 *   <li>{@code lock}: held while open, so only one process uses the directory.
 * </ul>
 *
 * <p>{@link #append} writes to the OS at once (one write call per batch) but does not sync; {@link #sync}
 * makes everything since the previous sync durable with one {@code fdatasync} of the open segment, so
 * a batch of many entries costs one disk flush (group commit). Cutting the log's tail is the exception:
 * it is made durable at once, so that a crash can never leave new records after stale ones.
 *
 * <p>Opening finds the newest intact snapshot ({@link SnapshotRecovery}), recovers the log after it
 * (see {@link LogRecovery}) and then drops entries whose term is above the saved hard state's term:
 * they can only be the remains of a batch whose sync never finished, since a node persists its term
 * before it persists or acknowledges any entry of that term. After a restart the log starts right
 * after the newest snapshot, whatever earlier index it had been compacted to.
 *
 * <p>Compaction moves the log's start at once but deletes only whole closed segments, and only those
 * the fallback snapshot does not need (see {@link SnapshotStore#fallbackIndex()}); the deletions are
 * made durable by the next {@link #sync}, and recovery ignores whatever a crash brings back.
 *
 * <p>Every method is synchronized, as in {@code MemoryStorage}, so the node's thread and status readers
 * may read while the storage thread writes; {@link #sync} flushes without the lock. It starts no
 * thread of its own.
 */
public final class DurableStorage implements Storage, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(DurableStorage.class);
    private static final int WRITE_BUFFER_BYTES = 1 << 20;
    private static final int READ_CHUNK_BYTES = 1 << 20;
    private static final int RECENT_ENTRIES = 4096;
    private static final long RECENT_BYTES = 8L << 20;

    /**
     * How the storage lays out and syncs its files.
     *
     * @param segmentBytes  size at which the open segment is closed and a new one started (a single
     *                      larger entry makes a larger segment); 1 KiB to 1 GiB
     * @param maxEntryBytes largest entry payload accepted, and believed at recovery; 1 byte to 256 MiB
     * @param fsync         whether {@link #sync()} really flushes to disk; {@code false} only for tests and
     *                      benchmarks, where losing the machine's power may lose acknowledged writes
     */
    public record Options(long segmentBytes, int maxEntryBytes, boolean fsync) {
        public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
        public static final int DEFAULT_MAX_ENTRY_BYTES = 16 << 20;
        /** The largest {@link #maxEntryBytes()} allowed; keeps segment offsets within an int. */
        public static final int MAX_ENTRY_BYTES_LIMIT = 256 << 20;

        public Options {
            if (segmentBytes < 1024 || segmentBytes > 1L << 30) {
                throw new IllegalArgumentException("segmentBytes must be 1 KiB..1 GiB: " + segmentBytes);
            }
            if (maxEntryBytes < 1 || maxEntryBytes > MAX_ENTRY_BYTES_LIMIT) {
                throw new IllegalArgumentException("maxEntryBytes must be 1..256 MiB: " + maxEntryBytes);
            }
        }

        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_BYTES, DEFAULT_MAX_ENTRY_BYTES, true);
        }

        public Options withSegmentBytes(long bytes) {
            return new Options(bytes, maxEntryBytes, fsync);
        }

        public Options withMaxEntryBytes(int bytes) {
            return new Options(segmentBytes, bytes, fsync);
        }

        public Options withFsync(boolean on) {
            return new Options(segmentBytes, maxEntryBytes, on);
        }
    }

    private final Path dir;
    private final Options options;
    private final DirectoryLock lock;
    private final NavigableMap<Long, Segment> segments = new TreeMap<>();
    private final LogIndex index;
    private final SnapshotStore snapshots;
    private final RecentEntries recent = new RecentEntries(RECENT_ENTRIES, RECENT_BYTES);
    private Segment openSegment;
    private HardState hardState;
    private HardState savedHardState;
    private boolean logUnsynced;
    private boolean dirUnsynced;
    private long syncCount;
    private ByteBuffer writeBuffer = ByteBuffer.allocate(WRITE_BUFFER_BYTES);
    private boolean closed;
    private StorageException failure;

    private DurableStorage(Path dir, Options options, DirectoryLock lock, HardState hardState, LogRecovery.Recovered log,
                           SnapshotStore snapshots) {
        this.dir = dir;
        this.options = options;
        this.lock = lock;
        this.hardState = hardState;
        this.savedHardState = hardState;
        this.index = log.index();
        this.snapshots = snapshots;
        for (Segment s : log.segments()) {
            segments.put(s.firstIndex(), s);
        }
    }

    /**
     * Opens (creating if needed) the data directory of the node {@code identity}, locks it and recovers
     * its snapshot and log.
     *
     * @throws StorageException if the directory belongs to another node, is in use, or holds a damaged log
     *                          or only damaged snapshots
     */
    public static DurableStorage open(Path dir, Identity identity, Options options) {
        long started = System.nanoTime();
        try {
            FileSync.createDirectories(dir, options.fsync());
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + dir + ": " + e, e);
        }
        DirectoryLock lock = DirectoryLock.acquire(dir);
        DurableStorage storage = null;
        try {
            boolean hasData = Files.exists(dir.resolve(HardStateFile.FILE_NAME)) || !SegmentFiles.list(dir).isEmpty()
                    || SnapshotFiles.any(dir);
            MetaFile.verifyOrCreate(dir, identity, hasData, options.fsync());
            Files.deleteIfExists(dir.resolve(HardStateFile.FILE_NAME + FileSync.TEMP_SUFFIX));
            int unfinished = SnapshotFiles.deleteTemps(dir);
            if (unfinished > 0) {
                LOG.info("Removed {} unfinished snapshot file(s) from {}", unfinished, dir);
            }
            HardState hardState = HardStateFile.read(dir);
            SnapshotRecovery.Found found = SnapshotRecovery.find(dir);
            SnapshotMeta snapshot = found.newest() == null ? null : found.newest().meta();
            LogRecovery.Recovered log = recoverLog(dir, options, found);
            storage = new DurableStorage(dir, options, lock, hardState, log,
                    new SnapshotStore(dir, options.fsync(), found.newest(), found.older()));
            if (!found.damaged().isEmpty()) {
                SnapshotStore.moveAside(dir, found.damaged(), options.fsync());
                LOG.warn("Damaged snapshot(s) in {}: {}; starting from the older snapshot {} instead. The damaged files were"
                        + " renamed to *{}; the disk may be failing", dir, found.damaged(), found.newest().path().getFileName(),
                        SnapshotFiles.CORRUPT_SUFFIX);
            }
            storage.snapshots.deleteBeyondKept();
            if (log.divergesFromSnapshot()) {
                LOG.warn("The log of {} does not hold the snapshot's last entry {} of term {}: a crash came between committing"
                        + " the snapshot and resetting the log to it, so the log is dropped now", dir, snapshot.index(), snapshot.term());
                storage.dropLog(snapshot);
            }
            storage.dropEntriesAboveHardStateTerm();
            storage.ensureOpenSegment();
            if (options.fsync()) {
                FileSync.syncDirectory(dir);
            }
            storage.dirUnsynced = false;
            storage.openSegment.markSynced();
            LOG.info("Opened {} for {}: snapshot {}, entries {}..{}, {} segment(s), term {}, in {} ms", dir, identity,
                    snapshot == null ? "none" : snapshot.index() + "/" + snapshot.term(), storage.firstIndex(), storage.lastIndex(),
                    storage.segments.size(), hardState.term(), (System.nanoTime() - started) / 1_000_000);
            return storage;
        } catch (IOException | RuntimeException e) {
            if (storage != null) {
                storage.closeSegments();
                storage.snapshots.close();
            }
            try {
                lock.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof IOException io) {
                throw new StorageException("cannot open data directory " + dir + ": " + io, io);
            }
            throw (RuntimeException) e;
        }
    }

    /** Recovers the log after the chosen snapshot; if it does not connect, says that the newer snapshot was damaged. */
    private static LogRecovery.Recovered recoverLog(Path dir, Options options, SnapshotRecovery.Found found) throws IOException {
        SnapshotMeta snapshot = found.newest() == null ? null : found.newest().meta();
        try {
            return LogRecovery.recover(dir, options, snapshot);
        } catch (StorageException e) {
            if (found.damaged().isEmpty()) {
                throw e;
            }
            throw new StorageException(e.getMessage() + " (the older snapshot was tried because the newer one is damaged: "
                    + found.damaged() + ")", e);
        }
    }

    public Path directory() {
        return dir;
    }

    /**
     * How many {@link #sync()} calls had something to make durable (and flushed it, when
     * {@link Options#fsync()} is on). Against the number of entries appended it shows how well group
     * commit batches them. Syncs done inside {@link #append} (sealing a full segment, cutting the tail)
     * are not counted.
     */
    public synchronized long syncCount() {
        return syncCount;
    }

    @Override
    public synchronized HardState hardState() {
        checkUsable();
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        checkUsable();
        return index.firstIndex();
    }

    @Override
    public synchronized long lastIndex() {
        checkUsable();
        return index.lastIndex();
    }

    @Override
    public synchronized long term(long i) {
        checkUsable();
        if (i < index.firstIndex() - 1 || i > index.lastIndex()) {
            throw outOfRange(i);
        }
        return index.term(i);
    }

    @Override
    public synchronized List<LogEntry> entries(long from, long toExclusive, long maxBytes) {
        checkUsable();
        List<LogEntry> out = new ArrayList<>();
        if (from >= toExclusive) {
            return out;
        }
        checkInLog(from);
        checkInLog(toExclusive - 1);
        long bytes = 0;
        long i = from;
        try {
            while (i < toExclusive) {
                LogEntry cached = recent.get(i);
                if (cached != null) {
                    bytes += cached.sizeEstimate();
                    if (!out.isEmpty() && bytes > maxBytes) {
                        break;
                    }
                    out.add(cached);
                    i++;
                    continue;
                }
                // A run on disk: up to the segment's end, the cached suffix or the byte budget.
                Segment segment = segments.floorEntry(i).getValue();
                long runEnd = Math.min(toExclusive, Math.min(segment.lastIndex() + 1, recent.firstIndex()));
                long end = i;
                while (end < runEnd) {
                    bytes += RecordFormat.sizeEstimate(recordBytes(segment, end));
                    if ((!out.isEmpty() || end > i) && bytes > maxBytes) {
                        break;
                    }
                    end++;
                }
                readRecords(segment, i, end, out);
                if (end < runEnd) {
                    break;
                }
                i = end;
            }
        } catch (IOException e) {
            throw new StorageException("cannot read log entries " + from + ".." + (toExclusive - 1) + " in " + dir + ": " + e, e);
        }
        return out;
    }

    @Override
    public synchronized void append(List<LogEntry> entries) {
        checkUsable();
        Storage.checkAppend(entries, index.firstIndex(), index.lastIndex());
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        for (LogEntry e : entries) {
            if (e.data().length() > options.maxEntryBytes()) {
                throw new IllegalArgumentException("entry " + e.index() + " has " + e.data().length()
                        + " bytes, more than maxEntryBytes " + options.maxEntryBytes());
            }
        }
        try {
            if (first <= index.lastIndex()) {
                truncateFrom(first);
            }
            writeRecords(entries);
        } catch (IOException e) {
            throw fail("appending entries " + first + ".." + (first + entries.size() - 1), e);
        }
    }

    @Override
    public synchronized void saveHardState(HardState state) {
        checkUsable();
        hardState = state;
    }

    /**
     * Makes everything appended and saved so far durable. The disk flushes run without the lock, so
     * readers (the node's thread, status) are not held up by a slow disk; this is safe because only
     * one thread at a time appends, saves and syncs (the runtime's storage thread), and the log is
     * never cut or reset while a sync runs. Rolling over to a new segment still syncs under the lock,
     * once per {@link Options#segmentBytes()}.
     */
    @Override
    public void sync() {
        HardState hardStateToWrite;
        Segment segment;
        boolean forceLog;
        boolean syncDir;
        synchronized (this) {
            checkUsable();
            hardStateToWrite = hardState.equals(savedHardState) ? null : hardState;
            forceLog = logUnsynced;
            syncDir = dirUnsynced;
            if (hardStateToWrite == null && !forceLog && !syncDir) {
                return;
            }
            segment = openSegment;
            logUnsynced = false;
            dirUnsynced = false; // a compaction meanwhile sets it again, for the next sync
        }
        try {
            // Term and vote first, so a synced batch never has entries of a term that is not durable yet.
            // (Its unsynced records may still reach the disk early on their own: open() drops those.)
            if (hardStateToWrite != null) {
                HardStateFile.write(dir, hardStateToWrite, options.fsync());
            }
            if (forceLog && options.fsync()) {
                segment.force();
            }
            if (syncDir && options.fsync()) {
                FileSync.syncDirectory(dir);
            }
        } catch (IOException e) {
            synchronized (this) {
                throw fail("syncing", e);
            }
        }
        synchronized (this) {
            if (hardStateToWrite != null) {
                savedHardState = hardStateToWrite;
            }
            segment.markSynced();
            syncCount++;
        }
    }

    @Override
    public synchronized Optional<SnapshotMeta> latestSnapshot() {
        checkUsable();
        return snapshots.latest();
    }

    @Override
    public synchronized long snapshotSize() {
        checkUsable();
        return snapshots.size();
    }

    @Override
    public synchronized Optional<SnapshotChunk> readSnapshot(SnapshotMeta meta, long offset, int maxBytes) throws IOException {
        checkUsable();
        return snapshots.read(meta, offset, maxBytes);
    }

    @Override
    public synchronized InputStream openSnapshot() throws IOException {
        checkUsable();
        return snapshots.open();
    }

    /**
     * Opens the stored snapshot {@code meta} for reading from any thread until the reader is closed,
     * even after newer snapshots and compaction delete its file (see {@link SnapshotReader}): for a
     * backup, which may take longer than the node keeps the snapshot.
     *
     * @return empty if {@code meta} is not (or no longer) a stored snapshot
     */
    public synchronized Optional<SnapshotReader> openSnapshotReader(SnapshotMeta meta) throws IOException {
        checkUsable();
        return snapshots.openReader(meta);
    }

    /**
     * Creates the data directory {@code dir} of node {@code identity} holding nothing but the snapshot
     * {@code meta} (its data read from {@code data}) and the hard state of its term with no vote: what a
     * node holds right after installing that snapshot from a leader, with the log starting after it.
     * This is how a backup seeds the founders of a new cluster ({@code meta} then carries the new
     * cluster's configuration).
     *
     * <p>Atomic: the directory is built beside {@code dir} (in {@code <dir>.restoring}, removed first if
     * an interrupted attempt left it), synced, and renamed into place, so a crash leaves either no data
     * directory or a complete one.
     *
     * @throws StorageException if {@code dir} exists and is not an empty directory, or on any I/O error
     */
    public static void createFromSnapshot(Path dir, Identity identity, Options options, SnapshotMeta meta, InputStream data) {
        Path target = dir.toAbsolutePath().normalize();
        Path temp = target.resolveSibling(target.getFileName() + ".restoring");
        try {
            if (Files.exists(target) && !isEmptyDirectory(target)) {
                throw new StorageException("data directory " + target + " already holds data; a snapshot seeds only an empty one");
            }
            deleteTree(temp);
            try (DurableStorage storage = open(temp, identity, options)) {
                SnapshotSink sink = storage.beginSnapshot(meta);
                try {
                    data.transferTo(sink.out());
                    sink.commit();
                } finally {
                    sink.close(); // aborts unless committed
                }
                storage.resetToSnapshot(meta);
                storage.saveHardState(new HardState(meta.term(), 0));
                storage.sync();
            }
            if (Files.exists(target)) {
                Files.delete(target); // empty, checked above
            }
            Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            if (options.fsync()) {
                FileSync.syncDirectory(target.getParent());
            }
        } catch (IOException e) {
            try {
                deleteTree(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new StorageException("cannot seed data directory " + target + " from a snapshot: " + e, e);
        } catch (RuntimeException e) {
            try {
                deleteTree(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The sink writes its own temporary file without this storage's lock; only its commit takes it. */
    @Override
    public synchronized SnapshotSink beginSnapshot(SnapshotMeta meta) throws IOException {
        checkUsable();
        String refusal = snapshots.refusal(meta);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        return FileSnapshotSink.create(dir, meta, options.fsync(), this::installSnapshot);
    }

    private synchronized void installSnapshot(Path temp, SnapshotFormat.Header header) {
        checkUsable();
        String refusal = snapshots.refusal(header.meta());
        if (refusal != null) {
            throw new IllegalStateException(refusal + " (committed while this one was being written)");
        }
        try {
            snapshots.install(temp, header);
        } catch (IOException e) {
            throw fail("committing snapshot " + header.meta(), e);
        }
    }

    @Override
    public synchronized void compact(long upTo) {
        checkUsable();
        Storage.checkCompaction(upTo, snapshots.latest().orElse(null), index.lastIndex());
        if (upTo >= index.firstIndex()) {
            index.dropBefore(upTo + 1);
        }
        deleteSegmentsUpTo(Math.min(upTo, snapshots.fallbackIndex()));
    }

    @Override
    public synchronized void resetToSnapshot(SnapshotMeta meta) {
        checkUsable();
        if (!snapshots.latest().equals(Optional.of(meta))) {
            throw new IllegalArgumentException("resetToSnapshot(" + meta + ") needs that snapshot committed as the newest; the newest is "
                    + snapshots.latest().map(SnapshotMeta::toString).orElse("none"));
        }
        long at = meta.index();
        if (at >= index.firstIndex() - 1 && at <= index.lastIndex() && index.term(at) == meta.term()) {
            // Nothing to write: recovery rebuilds this state from the snapshot and the log.
            if (at >= index.firstIndex()) {
                index.dropBefore(at + 1);
            }
            deleteSegmentsUpTo(Math.min(at, snapshots.fallbackIndex()));
            return;
        }
        try {
            dropLog(meta);
        } catch (IOException e) {
            throw fail("dropping the log for snapshot " + meta, e);
        }
    }

    /**
     * Releases the directory. What was not {@link #sync() synced} may or may not survive, as after a crash.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeSegments();
        snapshots.close();
        try {
            lock.close();
        } catch (IOException e) {
            throw new StorageException("cannot release the lock on " + dir + ": " + e, e);
        }
    }

    private void writeRecords(List<LogEntry> entries) throws IOException {
        writeBuffer.clear();
        long lastInBuffer = index.lastIndex();
        for (LogEntry e : entries) {
            int bytes = RecordFormat.recordBytes(e);
            long end = openSegment.size() + writeBuffer.position();
            if (end > RecordFormat.SEGMENT_MAGIC.length && end + bytes > options.segmentBytes()) {
                flush(lastInBuffer);
                roll();
                end = openSegment.size();
            }
            if (writeBuffer.remaining() < bytes) {
                flush(lastInBuffer);
                if (writeBuffer.capacity() < bytes) {
                    writeBuffer = ByteBuffer.allocate(bytes);
                }
                end = openSegment.size();
            }
            RecordFormat.write(e, writeBuffer);
            index.add(e.term(), end);
            recent.add(e);
            lastInBuffer = e.index();
        }
        flush(lastInBuffer);
        if (writeBuffer.capacity() > WRITE_BUFFER_BYTES) {
            writeBuffer = ByteBuffer.allocate(WRITE_BUFFER_BYTES);
        }
        logUnsynced = true;
    }

    private void flush(long lastInBuffer) throws IOException {
        writeBuffer.flip();
        if (writeBuffer.hasRemaining()) {
            openSegment.append(writeBuffer, lastInBuffer);
        }
        writeBuffer.clear();
    }

    /** Seals the full open segment (syncing it first) and starts the next. */
    private void roll() throws IOException {
        Segment full = openSegment;
        full.seal(options.fsync());
        startSegment(full.lastIndex() + 1);
    }

    private void startSegment(long firstIndex) throws IOException {
        openSegment = Segment.create(dir, firstIndex);
        segments.put(firstIndex, openSegment);
        dirUnsynced = true;
    }

    /**
     * Durably removes {@code first} and everything after it: later segments are deleted newest first
     * and the containing one is cut, so that a crash at any point leaves a contiguous log.
     */
    private void truncateFrom(long first) throws IOException {
        recent.truncateFrom(first);
        Segment target = segments.floorEntry(first).getValue();
        boolean dropTarget = first == target.firstIndex();
        long cutAt = dropTarget ? 0 : index.position(first);
        List<Segment> doomed = new ArrayList<>(segments.tailMap(target.firstIndex(), dropTarget).descendingMap().values());
        for (Segment s : doomed) {
            s.delete();
            segments.remove(s.firstIndex());
        }
        if (!doomed.isEmpty() && options.fsync()) {
            FileSync.syncDirectory(dir);
        }
        index.truncateFrom(first);
        if (dropTarget) {
            startSegment(first);
            return;
        }
        boolean unsealed = !target.isOpen();
        if (unsealed) {
            target.unseal();
            if (options.fsync()) {
                FileSync.syncDirectory(dir);
            }
        }
        target.truncate(cutAt, first - 1, options.fsync());
        if (unsealed) {
            target.markSynced(); // its name and everything left in it were just synced
        }
        openSegment = target;
    }

    /**
     * Deletes closed segments, oldest first, while they end at or before {@code upTo}. Left unsynced: a
     * segment that comes back after a crash ends before the snapshot, so recovery does not read it.
     */
    private void deleteSegmentsUpTo(long upTo) {
        Iterator<Segment> it = segments.values().iterator();
        while (it.hasNext()) {
            Segment s = it.next();
            if (s.isOpen() || s.lastIndex() > upTo) {
                break;
            }
            try {
                s.delete();
            } catch (IOException e) {
                LOG.warn("Cannot delete compacted log segment {} ({}); the next compaction retries", s.path(), e.toString());
                break;
            }
            it.remove();
            dirUnsynced = true;
        }
    }

    /**
     * Durably replaces the whole log with an empty one that continues after {@code snapshot}: deletes every
     * segment newest first and syncs that before creating the new one, so a crash cannot leave the
     * new segment beside old ones it overlaps.
     */
    private void dropLog(SnapshotMeta snapshot) throws IOException {
        recent.clear();
        for (Segment s : new ArrayList<>(segments.descendingMap().values())) {
            s.delete();
            segments.remove(s.firstIndex());
        }
        if (options.fsync()) {
            FileSync.syncDirectory(dir);
        }
        index.reset(snapshot.index(), snapshot.term());
        startSegment(snapshot.index() + 1);
        if (options.fsync()) {
            FileSync.syncDirectory(dir);
        }
        openSegment.markSynced();
        dirUnsynced = false;
        logUnsynced = false;
    }

    /** See the class comment: entries of a term the node never durably entered were never acknowledged. */
    private void dropEntriesAboveHardStateTerm() throws IOException {
        long from = index.lastIndex() + 1;
        while (from > index.firstIndex() && index.term(from - 1) > hardState.term()) {
            from--;
        }
        if (from <= index.lastIndex()) {
            LOG.warn("Dropping log entries {}..{} of {}: their term {} is above the saved term {}, so they were never synced"
                    + " (a crash interrupted their batch)", from, index.lastIndex(), dir, index.lastTerm(), hardState.term());
            truncateFrom(from);
        }
    }

    private void ensureOpenSegment() throws IOException {
        Segment last = segments.isEmpty() ? null : segments.lastEntry().getValue();
        if (last != null && last.isOpen()) {
            openSegment = last;
        } else if (openSegment == null || !openSegment.isOpen()) {
            startSegment(index.lastIndex() + 1);
        }
    }

    private int recordBytes(Segment segment, long i) {
        long end = i < segment.lastIndex() ? index.position(i + 1) : segment.size();
        return (int) (end - index.position(i));
    }

    /** Reads entries {@code [from, to)} of one segment, in chunks of about a megabyte, checking each record again. */
    private void readRecords(Segment segment, long from, long to, List<LogEntry> out) throws IOException {
        long i = from;
        while (i < to) {
            long chunkEnd = i;
            long chunkBytes = 0;
            while (chunkEnd < to && (chunkEnd == i || chunkBytes + recordBytes(segment, chunkEnd) <= READ_CHUNK_BYTES)) {
                chunkBytes += recordBytes(segment, chunkEnd);
                chunkEnd++;
            }
            long start = index.position(i);
            ByteBuffer buf = ByteBuffer.allocate((int) chunkBytes);
            segment.read(buf, start);
            for (long k = i; k < chunkEnd; k++) {
                int at = (int) (index.position(k) - start);
                RecordFormat.Header h = RecordFormat.readHeader(buf, at);
                if (h.recordBytes() != recordBytes(segment, k) || !RecordFormat.checksumMatches(buf, at, h)
                        || h.index() != k || h.term() != index.term(k)) {
                    throw new StorageException("log record " + k + " at offset " + index.position(k) + " of " + segment.path()
                            + " changed on disk since it was written (the disk may be failing); " + LogRecovery.ADVICE);
                }
                out.add(RecordFormat.decode(buf, at, h));
            }
            i = chunkEnd;
        }
    }

    private void checkInLog(long i) {
        if (i < index.firstIndex() || i > index.lastIndex()) {
            throw outOfRange(i);
        }
    }

    private IndexOutOfBoundsException outOfRange(long i) {
        return new IndexOutOfBoundsException("index " + i + " outside " + index.firstIndex() + ".." + index.lastIndex());
    }

    private void checkUsable() {
        if (failure != null) {
            throw new StorageException("storage in " + dir + " is unusable after an earlier I/O error; restart the node", failure);
        }
        if (closed) {
            throw new IllegalStateException("storage in " + dir + " is closed");
        }
    }

    /**
     * After a failed write or sync nothing is known about what reached the disk, and a failed fsync
     * cannot be retried (the kernel may have dropped the dirty pages and report the next one clean), so
     * the storage refuses all further use; a restart recovers from disk. Before that, what was never
     * reported synced is removed from this boot's page cache, where a restart could read it back
     * though it never reached the disk (PostgreSQL's "fsyncgate"): the open segment is cut back to its
     * last synced length, and a hard state file that replaced the synced one is put back.
     */
    private StorageException fail(String what, IOException e) {
        failure = new StorageException("I/O error " + what + " in " + dir + ": " + e + "; the node must restart and recover from disk", e);
        discardUnsynced();
        return failure;
    }

    /** Best effort: if the disk refuses this too, a restart in this boot finds the node unable to sync anyway. */
    private void discardUnsynced() {
        try {
            if (openSegment != null) {
                long cut = openSegment.discardUnsynced();
                if (cut > 0) {
                    LOG.warn("Cut the {} unsynced bytes at the end of {} after the I/O error, so that a restart does not read them back",
                            cut, openSegment.path());
                }
            }
            if (!hardState.equals(savedHardState)) {
                HardStateFile.write(dir, savedHardState, false);
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            LOG.warn("Cannot discard the unsynced data in {} after the I/O error: {}", dir, e.toString());
        }
    }

    private void closeSegments() {
        for (Segment s : segments.values()) {
            try {
                s.closeChannel();
            } catch (IOException e) {
                LOG.warn("Cannot close {}: {}", s.path(), e.toString());
            }
        }
    }
}
