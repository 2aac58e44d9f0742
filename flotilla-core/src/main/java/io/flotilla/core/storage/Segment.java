package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One segment file: a run of consecutive log records. At most one is open (appended to, named
 * {@code log_inprogress_<first>}); the others are closed ({@code log_<first>-<last>}) and only read.
 * The channel is opened on first use, so a long log does not hold a descriptor per segment until
 * its old segments are actually read.
 */
final class Segment {
    private final Path dir;
    private final long firstIndex;
    private long lastIndex;
    private long size;
    /**
     * Bytes known to be on the disk: as of the last sync that covered this file's data and its name.
     * After a failed sync the rest is cut ({@link #discardUnsynced()}), so that nothing that was
     * never reported synced can be read back from the page cache (fsyncgate).
     */
    private long syncedSize;
    private boolean open;
    private FileChannel channel;

    private Segment(Path dir, long firstIndex, long lastIndex, long size, boolean open) {
        this.dir = dir;
        this.firstIndex = firstIndex;
        this.lastIndex = lastIndex;
        this.size = size;
        this.syncedSize = size;
        this.open = open;
    }

    /** Creates a new, empty open segment starting at {@code firstIndex}; its name is durable once the directory is synced. */
    static Segment create(Path dir, long firstIndex) throws IOException {
        Segment s = new Segment(dir, firstIndex, firstIndex - 1, 0, true);
        s.syncedSize = 0; // not even its name is durable yet
        s.channel = FileChannel.open(s.path(), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        s.append(ByteBuffer.wrap(RecordFormat.SEGMENT_MAGIC), firstIndex - 1);
        return s;
    }

    /** A segment found (and checked) at recovery: what recovery read is what it trusts. */
    static Segment existing(Path dir, long firstIndex, long lastIndex, long size, boolean open) {
        return new Segment(dir, firstIndex, lastIndex, size, open);
    }

    Path path() {
        return dir.resolve(open ? SegmentFiles.openName(firstIndex) : SegmentFiles.closedName(firstIndex, lastIndex));
    }

    long firstIndex() {
        return firstIndex;
    }

    long lastIndex() {
        return lastIndex;
    }

    /** Bytes in the file, magic included. */
    long size() {
        return size;
    }

    boolean isOpen() {
        return open;
    }

    /** Writes {@code records} at the end of the file; they hold the entries up to {@code newLastIndex}. */
    void append(ByteBuffer records, long newLastIndex) throws IOException {
        int n = records.remaining();
        FileSync.writeFully(channel(), records, size);
        size += n;
        lastIndex = newLastIndex;
    }

    /** Fills {@code dst} from {@code position}. */
    void read(ByteBuffer dst, long position) throws IOException {
        if (!FileSync.readFully(channel(), dst, position)) {
            throw new StorageException("log segment " + path() + " is shorter than expected (reading at offset " + position
                    + "): it was changed behind this node's back; " + LogRecovery.ADVICE);
        }
    }

    /**
     * Makes the appended records durable (fdatasync: the data and the file length). They count as
     * synced only once the caller also made the file's name durable ({@link #markSynced()}).
     */
    void force() throws IOException {
        FileSync.force(channel(), path(), false);
    }

    /** Everything written so far is on the disk, the file's name included. */
    void markSynced() {
        syncedSize = size;
    }

    /**
     * After a failed sync: cuts the file back to what was last synced. Linux may keep the pages a
     * failed fsync could not write in its cache, marked clean, and serve them to the next reader in
     * this boot; cutting drops them. The cut is not synced: only this boot's cache can hold them.
     * Returns the bytes cut.
     */
    long discardUnsynced() throws IOException {
        long cut = size - syncedSize;
        if (cut > 0) {
            channel().truncate(syncedSize);
            size = syncedSize;
        }
        return cut;
    }

    /** Cuts the file to {@code newSize} bytes, ending at entry {@code newLastIndex}; durably if asked, before returning. */
    void truncate(long newSize, long newLastIndex, boolean fsync) throws IOException {
        channel().truncate(newSize);
        if (fsync) {
            FileSync.force(channel(), path(), true);
        }
        size = newSize;
        syncedSize = Math.min(syncedSize, newSize);
        lastIndex = newLastIndex;
    }

    /** Closes an open segment for good: syncs its records, then renames it to {@code log_<first>-<last>}. */
    void seal(boolean fsync) throws IOException {
        if (fsync) {
            force();
        }
        syncedSize = size; // the data is durable; the rename is made durable with the directory's next sync
        closeChannel();
        Path from = path();
        open = false;
        Files.move(from, path(), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reopens a closed segment for appending (after its tail was cut), renaming it back to in-progress. */
    void unseal() throws IOException {
        closeChannel();
        Path from = path();
        open = true;
        Files.move(from, path(), StandardCopyOption.ATOMIC_MOVE);
    }

    void delete() throws IOException {
        closeChannel();
        Files.delete(path());
    }

    void closeChannel() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    private FileChannel channel() throws IOException {
        if (channel == null) {
            channel = open
                    ? FileChannel.open(path(), StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(path(), StandardOpenOption.READ);
        }
        return channel;
    }

    @Override
    public String toString() {
        return path().getFileName() + " (" + size + " bytes)";
    }
}
