package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.SnapshotMeta;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One stored snapshot's data, open for reading from any thread until {@link #close()}d. It holds the
 * file open, so it stays readable after newer snapshots and compaction delete the file (POSIX keeps an
 * open file's data until its last descriptor closes): a backup streams it for as long as it takes,
 * while the node keeps taking snapshots.
 */
public final class SnapshotReader implements Closeable {
    private final Path path;
    private final FileChannel channel;
    private final SnapshotMeta meta;
    private final long dataStart;
    private final long dataLength;
    private final int dataCrc;

    SnapshotReader(Path path, FileChannel channel, StoredSnapshot snapshot) {
        this.path = path;
        this.channel = channel;
        this.meta = snapshot.meta();
        this.dataStart = snapshot.dataStart();
        this.dataLength = snapshot.dataLength();
        this.dataCrc = snapshot.header().dataCrc();
    }

    public SnapshotMeta meta() {
        return meta;
    }

    /** Bytes of state machine data. */
    public long dataLength() {
        return dataLength;
    }

    /** CRC32C of the whole data, as written in the snapshot's header when it was taken. */
    public int dataCrc() {
        return dataCrc;
    }

    /**
     * Up to {@code maxBytes} of the data from {@code offset} (empty at the end). Allocates at most
     * {@code maxBytes}, and never more than the data left.
     *
     * @throws IndexOutOfBoundsException if {@code offset} is negative or beyond the data
     * @throws IllegalArgumentException  if {@code maxBytes < 1}
     */
    public Bytes read(long offset, int maxBytes) throws IOException {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        if (offset < 0 || offset > dataLength) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside the snapshot's " + dataLength + " bytes");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(maxBytes, dataLength - offset));
        if (!FileSync.readFully(channel, buf, dataStart + offset)) {
            throw new IOException("snapshot " + path + " is shorter than its header says: it was changed on disk");
        }
        return Bytes.wrap(buf.array());
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "snapshot " + meta.index() + "/" + meta.term() + " (" + path.getFileName() + ")";
    }
}
