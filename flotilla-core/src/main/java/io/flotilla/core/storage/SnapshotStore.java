package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.SnapshotChunk;
import io.flotilla.core.SnapshotMeta;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committed snapshots of a data directory. The newest is the one restored and sent to followers;
 * the one before it is kept as a fallback in case the newest is found damaged at open (and so that a
 * transfer that started with it can finish after a newer one is committed), and so is the log
 * that connects it ({@link #fallbackIndex()}), otherwise the fallback would be useless after compaction.
 * Older ones are deleted.
 *
 * <p>Not thread-safe: {@link DurableStorage} calls it under its lock.
 */
final class SnapshotStore implements Closeable {
    static final int KEPT = 2;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);
    private static final int STREAM_BUFFER_BYTES = 64 << 10;

    private final Path dir;
    private final boolean fsync;
    /** Committed files on disk, oldest first; the last one is {@link #newest}. */
    private final List<SnapshotFiles.SnapshotFile> files = new ArrayList<>();
    private StoredSnapshot newest;
    /** The snapshot chunked reads are pinned to (the newest, or the one before it), and its open file. */
    private StoredSnapshot pinned;
    private FileChannel reader;

    /**
     * @param newest the snapshot recovery chose, or null
     * @param older  committed files older than it, oldest first
     */
    SnapshotStore(Path dir, boolean fsync, StoredSnapshot newest, List<SnapshotFiles.SnapshotFile> older) {
        this.dir = dir;
        this.fsync = fsync;
        this.newest = newest;
        if (newest != null) {
            files.addAll(older);
            files.add(new SnapshotFiles.SnapshotFile(newest.path(), newest.meta().index(), newest.meta().term()));
        }
    }

    Optional<SnapshotMeta> latest() {
        return newest == null ? Optional.empty() : Optional.of(newest.meta());
    }

    long size() {
        return newest == null ? 0 : newest.dataLength();
    }

    /**
     * The index of the snapshot recovery would fall back to if the newest were damaged (the newest's own
     * if there is no other): the log must be kept from there on.
     */
    long fallbackIndex() {
        return files.size() >= 2 ? files.get(files.size() - 2).index() : newest.meta().index();
    }

    /**
     * A chunk of the kept snapshot {@code meta} (the newest or the one before it), or empty if it is no
     * longer kept. Keeping two means a transfer pinned to the older one survives one newer snapshot.
     */
    Optional<SnapshotChunk> read(SnapshotMeta meta, long offset, int maxBytes) throws IOException {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        StoredSnapshot s = pin(meta);
        if (s == null) {
            return Optional.empty();
        }
        if (offset < 0 || offset > s.dataLength()) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside the snapshot's " + s.dataLength() + " bytes");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(maxBytes, s.dataLength() - offset));
        if (!FileSync.readFully(reader, buf, s.dataStart() + offset)) {
            throw new IOException("snapshot " + s.path() + " is shorter than its header says: it was changed on disk");
        }
        return Optional.of(new SnapshotChunk(Bytes.wrap(buf.array()), s.dataLength(), s.header().dataCrc()));
    }

    /** Opens the reader on {@code meta}'s file unless it already is; null if that snapshot is not kept. */
    private StoredSnapshot pin(SnapshotMeta meta) throws IOException {
        if (pinned != null && pinned.meta().equals(meta)) {
            return pinned;
        }
        closeReader();
        Opened opened = openKept(meta);
        if (opened == null) {
            return null;
        }
        reader = opened.channel();
        pinned = opened.snapshot();
        return pinned;
    }

    /**
     * Opens the kept snapshot {@code meta} for reading on its own file descriptor, independent of the
     * pinned reader and of later deletions; empty if it is not kept.
     */
    Optional<SnapshotReader> openReader(SnapshotMeta meta) throws IOException {
        Opened opened = openKept(meta);
        return opened == null ? Optional.empty() : Optional.of(new SnapshotReader(opened.snapshot().path(), opened.channel(),
                opened.snapshot()));
    }

    private record Opened(FileChannel channel, StoredSnapshot snapshot) {
    }

    /** {@code meta}'s file, opened and its header read; null if that snapshot is not kept. */
    private Opened openKept(SnapshotMeta meta) throws IOException {
        SnapshotFiles.SnapshotFile file = files.stream().filter(f -> f.index() == meta.index() && f.term() == meta.term())
                .findFirst().orElse(null);
        if (file == null) {
            return null;
        }
        FileChannel ch = FileChannel.open(file.path(), StandardOpenOption.READ);
        try {
            StoredSnapshot s = newest != null && newest.path().equals(file.path()) ? newest
                    : new StoredSnapshot(file.path(), SnapshotFormat.readHeader(ch, ch.size()));
            if (!s.meta().equals(meta)) {
                ch.close();
                return null; // same index and term, other voters: not the snapshot asked for
            }
            return new Opened(ch, s);
        } catch (SnapshotFormat.DamagedSnapshotException e) {
            ch.close();
            throw new IOException("snapshot " + file.path() + " is damaged: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    InputStream open() throws IOException {
        return new BufferedInputStream(VerifyingSnapshotStream.open(requireNewest()), STREAM_BUFFER_BYTES);
    }

    /**
     * Why {@code meta} cannot become the newest snapshot, or null if it can: snapshots only move forward,
     * and one index has one term (a committed entry's).
     */
    String refusal(SnapshotMeta meta) {
        return meta.refusalAfter(newest == null ? null : newest.meta());
    }

    /** Renames a complete, synced temporary file into place as the newest snapshot; durable on return. */
    void install(Path temp, SnapshotFormat.Header header) throws IOException {
        SnapshotMeta meta = header.meta();
        Path target = dir.resolve(SnapshotFiles.name(meta.index(), meta.term()));
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (fsync) {
            FileSync.syncDirectory(dir);
        }
        // A reader pinned to a file replaced in place (same index and term) keeps reading the old one, whole.
        files.removeIf(f -> f.path().equals(target));
        files.add(new SnapshotFiles.SnapshotFile(target, meta.index(), meta.term()));
        newest = new StoredSnapshot(target, header);
        deleteBeyondKept();
    }

    /**
     * Deletes all but the newest {@link #KEPT} snapshots. Not synced: should a crash bring a deleted file
     * back, the next open deletes it again.
     */
    void deleteBeyondKept() {
        while (files.size() > KEPT) {
            Path old = files.get(0).path();
            if (pinned != null && pinned.path().equals(old)) {
                closeReader(); // a transfer pinned to it starts over with the newest
            }
            try {
                Files.deleteIfExists(old);
            } catch (IOException e) {
                LOG.warn("Cannot delete old snapshot {} ({}); it will be retried at the next open", old, e.toString());
                return;
            }
            files.remove(0);
        }
    }

    /** Renames damaged snapshots to {@code *.corrupt}, out of the way but still there for an operator to look at. */
    static void moveAside(Path dir, List<SnapshotRecovery.Damaged> damaged, boolean fsync) throws IOException {
        for (SnapshotRecovery.Damaged d : damaged) {
            Path path = d.file().path();
            Files.move(path, path.resolveSibling(path.getFileName() + SnapshotFiles.CORRUPT_SUFFIX),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        if (fsync && !damaged.isEmpty()) {
            FileSync.syncDirectory(dir);
        }
    }

    @Override
    public void close() {
        closeReader();
    }

    private StoredSnapshot requireNewest() {
        if (newest == null) {
            throw new IllegalStateException("there is no snapshot in " + dir);
        }
        return newest;
    }

    private void closeReader() {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                LOG.warn("Cannot close {}: {}", pinned.path(), e.toString());
            }
            reader = null;
            pinned = null;
        }
    }
}
