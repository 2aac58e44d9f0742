package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
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
 * The committed snapshots of a data directory. The newest is the one read and sent to followers; the
 * one before it is kept as a fallback in case the newest is found damaged at open, and so is the log
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
    /** On {@link #newest}, for chunked reads; opened on the first one. */
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

    Bytes read(long offset, int maxBytes) throws IOException {
        StoredSnapshot s = requireNewest();
        if (offset < 0 || offset > s.dataLength()) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside the snapshot's " + s.dataLength() + " bytes");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(maxBytes, s.dataLength() - offset));
        if (reader == null) {
            reader = FileChannel.open(s.path(), StandardOpenOption.READ);
        }
        if (!FileSync.readFully(reader, buf, s.dataStart() + offset)) {
            throw new IOException("snapshot " + s.path() + " is shorter than its header says: it was changed on disk");
        }
        return Bytes.wrap(buf.array());
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
        closeReader();
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
                LOG.warn("Cannot close {}: {}", newest.path(), e.toString());
            }
            reader = null;
        }
    }
}
