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
    private boolean open;
    private FileChannel channel;

    private Segment(Path dir, long firstIndex, long lastIndex, long size, boolean open) {
        this.dir = dir;
        this.firstIndex = firstIndex;
        this.lastIndex = lastIndex;
        this.size = size;
        this.open = open;
    }

    /** Creates a new, empty open segment starting at {@code firstIndex}; its name is durable once the directory is synced. */
    static Segment create(Path dir, long firstIndex) throws IOException {
        Segment s = new Segment(dir, firstIndex, firstIndex - 1, 0, true);
        s.channel = FileChannel.open(s.path(), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        s.append(ByteBuffer.wrap(RecordFormat.SEGMENT_MAGIC), firstIndex - 1);
        return s;
    }

    /** A segment found (and checked) at recovery. */
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

    /** Makes the appended records durable (fdatasync: the data and the file length). */
    void force() throws IOException {
        channel().force(false);
    }

    /** Cuts the file to {@code newSize} bytes, ending at entry {@code newLastIndex}; durably if asked, before returning. */
    void truncate(long newSize, long newLastIndex, boolean fsync) throws IOException {
        channel().truncate(newSize);
        if (fsync) {
            channel().force(true);
        }
        size = newSize;
        lastIndex = newLastIndex;
    }

    /** Closes an open segment for good: syncs its records, then renames it to {@code log_<first>-<last>}. */
    void seal(boolean fsync) throws IOException {
        if (fsync) {
            force();
        }
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
