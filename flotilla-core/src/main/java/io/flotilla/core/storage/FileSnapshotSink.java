package io.flotilla.core.storage;

import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot streamed into its own temporary file through a fixed buffer, so its size is bounded by
 * the disk, not the heap. The data goes after room reserved for the header; {@link #commit()} fills
 * the header in, syncs the file and only then hands it to the storage, which renames it into place
 * under its lock. Until then nothing but the temporary file exists, and open removes it after a crash.
 *
 * <p>A sink belongs to the thread writing it, like any stream; it needs no lock of its own because the
 * storage is only involved at commit.
 */
final class FileSnapshotSink implements SnapshotSink {
    private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotSink.class);
    private static final int BUFFER_BYTES = 1 << 20;

    /** Makes a complete, synced temporary file the newest snapshot. */
    interface Installer {
        void install(Path temp, SnapshotFormat.Header header) throws IOException;
    }

    private enum State { WRITING, COMMITTED, ABORTED }

    private final SnapshotMeta meta;
    private final Path temp;
    private final FileChannel channel;
    private final long dataStart;
    private final boolean fsync;
    private final Installer installer;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
    private final OutputStream out = new DataStream();
    private long size;
    private long flushed;
    private State state = State.WRITING;

    private FileSnapshotSink(SnapshotMeta meta, Path temp, FileChannel channel, boolean fsync, Installer installer) {
        this.meta = meta;
        this.temp = temp;
        this.channel = channel;
        this.dataStart = SnapshotFormat.headerBytes(meta.config());
        this.fsync = fsync;
        this.installer = installer;
    }

    static FileSnapshotSink create(Path dir, SnapshotMeta meta, boolean fsync, Installer installer) throws IOException {
        Objects.requireNonNull(meta, "meta");
        SnapshotFormat.headerBytes(meta.config());
        Path temp = SnapshotFiles.createTemp(dir, meta);
        try {
            return new FileSnapshotSink(meta, temp, FileChannel.open(temp, StandardOpenOption.WRITE), fsync, installer);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    @Override
    public SnapshotMeta meta() {
        return meta;
    }

    @Override
    public OutputStream out() {
        return out;
    }

    @Override
    public long size() {
        return size;
    }

    Path tempFile() {
        return temp;
    }

    @Override
    public void commit() throws IOException {
        if (state != State.WRITING) {
            throw new IllegalStateException("snapshot " + meta + " was already " + state.name().toLowerCase());
        }
        SnapshotFormat.Header header = new SnapshotFormat.Header(meta, size, (int) crc.getValue());
        try {
            flushBuffer();
            FileSync.writeFully(channel, SnapshotFormat.encode(header), 0);
            if (fsync) {
                FileSync.force(channel, temp, true);
            }
            channel.close();
            installer.install(temp, header);
            state = State.COMMITTED;
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        }
    }

    @Override
    public void abort() {
        if (state != State.WRITING) {
            return;
        }
        state = State.ABORTED;
        try {
            channel.close();
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warn("Cannot remove the unfinished snapshot {} ({}); it will be removed at the next open", temp, e.toString());
        }
    }

    private void flushBuffer() throws IOException {
        buffer.flip();
        writeAtEnd(buffer);
        buffer.clear();
    }

    private void writeAtEnd(ByteBuffer data) throws IOException {
        int n = data.remaining();
        FileSync.writeFully(channel, data, dataStart + flushed);
        flushed += n;
    }

    private void checkWriting() throws IOException {
        if (state != State.WRITING) {
            throw new IOException("snapshot " + meta + " was already " + state.name().toLowerCase() + "; nothing more can be written");
        }
    }

    /** Writes through the buffer, or straight to the file for large arrays; a failed write aborts the sink. */
    private final class DataStream extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            checkWriting();
            if (!buffer.hasRemaining()) {
                guard(FileSnapshotSink.this::flushBuffer);
            }
            buffer.put((byte) b);
            crc.update(b);
            size++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkWriting();
            if (len > buffer.remaining()) {
                guard(FileSnapshotSink.this::flushBuffer);
            }
            crc.update(b, off, len);
            if (len >= buffer.capacity()) {
                guard(() -> writeAtEnd(ByteBuffer.wrap(b, off, len)));
            } else {
                buffer.put(b, off, len);
            }
            size += len;
        }

        @Override
        public void flush() throws IOException {
            checkWriting();
            guard(FileSnapshotSink.this::flushBuffer);
        }

        /** Only flushes: the sink, not the stream, decides whether the snapshot is kept. */
        @Override
        public void close() throws IOException {
            if (state == State.WRITING) {
                flush();
            }
        }

        private void guard(IoAction action) throws IOException {
            try {
                action.run();
            } catch (IOException e) {
                abort();
                throw e;
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }
}
