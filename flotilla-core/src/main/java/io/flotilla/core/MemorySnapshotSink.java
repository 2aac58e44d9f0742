package io.flotilla.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A snapshot collected in memory, handed to {@code onCommit} whole when committed: the sink of
 * {@link MemoryStorage} and of test storages built on it.
 */
final class MemorySnapshotSink implements SnapshotSink {
    private final SnapshotMeta meta;
    private final Consumer<byte[]> onCommit;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            checkOpen();
            buffer.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            checkOpen();
            buffer.write(b, off, len);
        }
    };
    private boolean done;

    /** What {@link Storage#readSnapshot} returns for a snapshot held in memory as {@code data}, of CRC32C {@code checksum}. */
    public static SnapshotChunk chunk(byte[] data, int checksum, long offset, int maxBytes) {
        if (offset < 0 || offset > data.length) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside the snapshot's " + data.length + " bytes");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        int from = (int) offset;
        Bytes piece = Bytes.wrap(Arrays.copyOfRange(data, from, (int) Math.min(data.length, from + (long) maxBytes)));
        return new SnapshotChunk(piece, data.length, checksum);
    }

    /** The CRC32C of a snapshot's data, as {@link SnapshotChunk#checksum()} carries it. */
    public static int checksum(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    public MemorySnapshotSink(SnapshotMeta meta, Consumer<byte[]> onCommit) {
        this.meta = meta;
        this.onCommit = onCommit;
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
        return buffer.size();
    }

    @Override
    public void commit() {
        if (done) {
            throw new IllegalStateException("snapshot " + meta + " was already committed or aborted");
        }
        done = true;
        onCommit.accept(buffer.toByteArray());
    }

    @Override
    public void abort() {
        done = true;
    }

    private void checkOpen() throws IOException {
        if (done) {
            throw new IOException("snapshot " + meta + " was already committed or aborted; nothing more can be written");
        }
    }
}
