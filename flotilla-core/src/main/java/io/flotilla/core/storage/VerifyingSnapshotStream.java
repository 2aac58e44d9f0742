package io.flotilla.core.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * A snapshot's data, read from its own descriptor (so a newer snapshot replacing the file meanwhile
 * does not change what this reader sees) and checked against the header's CRC32C at the end: a state
 * machine restoring from bytes that rotted since open gets an error instead of a wrong state.
 */
final class VerifyingSnapshotStream extends InputStream {
    private final Path file;
    private final FileChannel channel;
    private final long end;
    private final int expectedCrc;
    private final CRC32C crc = new CRC32C();
    private long position;
    private boolean verified;

    private VerifyingSnapshotStream(StoredSnapshot snapshot, FileChannel channel) {
        this.file = snapshot.path();
        this.channel = channel;
        this.position = snapshot.dataStart();
        this.end = snapshot.dataStart() + snapshot.dataLength();
        this.expectedCrc = snapshot.header().dataCrc();
    }

    static VerifyingSnapshotStream open(StoredSnapshot snapshot) throws IOException {
        return new VerifyingSnapshotStream(snapshot, FileChannel.open(snapshot.path(), StandardOpenOption.READ));
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (position == end) {
            verifyOnce();
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - position)), position);
        if (n < 0) {
            throw new IOException("snapshot " + file + " ends " + (end - position) + " bytes early: it was changed on disk");
        }
        crc.update(b, off, n);
        position += n;
        if (position == end) {
            verifyOnce();
        }
        return n;
    }

    @Override
    public int available() {
        return (int) Math.min(Integer.MAX_VALUE, end - position);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private void verifyOnce() throws IOException {
        if (!verified && (int) crc.getValue() != expectedCrc) {
            throw new IOException("snapshot data in " + file + " fails its checksum: it changed on disk since it was written"
                    + " (the disk may be failing)");
        }
        verified = true;
    }
}
