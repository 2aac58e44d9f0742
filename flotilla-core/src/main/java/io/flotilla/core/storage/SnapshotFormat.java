package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * How a snapshot file is laid out (big-endian):
 *
 * <pre>
 *   magic       8 bytes  "FLOTSNAP"
 *   version     int      {@link #VERSION}
 *   index       long     last log index the snapshot covers
 *   term        long     term of that entry
 *   configBytes int      1..{@link #MAX_CONFIG_BYTES}
 *   config      configBytes bytes: the configuration at {@code index} ({@link ClusterConfig#encode()})
 *   dataLength  long     bytes of data after the header
 *   dataCrc     int      CRC32C of the data
 *   headerCrc   int      CRC32C of every header byte before it
 *   data        dataLength bytes, the state machine's own format
 * </pre>
 *
 * Version 1 (still read) held a voter count and the voters' ids in place of the configuration.
 * The header has a fixed size for a given configuration, so a writer reserves it, streams the data
 * after it and fills it in at commit, when length and checksum are known. The header has its own
 * checksum because the data's does not cover the voters, which recovery hands to the protocol.
 */
final class SnapshotFormat {
    static final byte[] MAGIC = "FLOTSNAP".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;
    /** Far more than any real configuration; bounds what a damaged header can make us allocate. */
    static final int MAX_CONFIG_BYTES = 1 << 20;
    private static final int FIXED_BEFORE_CONFIG = 8 + 4 + 8 + 8 + 4;
    private static final int FIXED_AFTER_CONFIG = 8 + 4 + 4;
    private static final int VERIFY_CHUNK_BYTES = 1 << 20;

    /** A snapshot file's header. */
    record Header(SnapshotMeta meta, long dataLength, int dataCrc, int bytes) {
        /** A header in the current version. */
        Header(SnapshotMeta meta, long dataLength, int dataCrc) {
            this(meta, dataLength, dataCrc, headerBytes(meta.config()));
        }
    }

    /** The file is not a valid snapshot; the message says why. */
    static final class DamagedSnapshotException extends Exception {
        private static final long serialVersionUID = 1L;

        DamagedSnapshotException(String message) {
            super(message);
        }
    }

    private SnapshotFormat() {
    }

    static int headerBytes(ClusterConfig config) {
        int configBytes = config.encode().length();
        if (configBytes > MAX_CONFIG_BYTES) {
            throw new IllegalArgumentException("a snapshot holds a configuration of at most " + MAX_CONFIG_BYTES + " bytes");
        }
        return FIXED_BEFORE_CONFIG + configBytes + FIXED_AFTER_CONFIG;
    }

    static ByteBuffer encode(Header header) {
        ByteBuffer buf = ByteBuffer.allocate(header.bytes());
        buf.put(MAGIC).putInt(VERSION).putLong(header.meta().index()).putLong(header.meta().term());
        byte[] config = header.meta().config().encode().unsafeArray();
        buf.putInt(config.length).put(config);
        buf.putLong(header.dataLength()).putInt(header.dataCrc());
        buf.putInt(crc(buf.array(), buf.position()));
        return buf.flip();
    }

    /**
     * Reads and checks the header of a snapshot file of {@code fileSize} bytes, including that the data
     * fills the rest of the file exactly. Nothing is allocated before the length it depends on is checked.
     */
    static Header readHeader(FileChannel ch, long fileSize) throws IOException, DamagedSnapshotException {
        if (fileSize < FIXED_BEFORE_CONFIG + FIXED_AFTER_CONFIG) {
            throw new DamagedSnapshotException("file of " + fileSize + " bytes is shorter than a snapshot header");
        }
        ByteBuffer fixed = read(ch, 0, FIXED_BEFORE_CONFIG);
        if (!Arrays.equals(fixed.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new DamagedSnapshotException("bad magic: not a Flotilla snapshot");
        }
        int version = fixed.getInt(8);
        if (version != 1 && version != VERSION) {
            throw new DamagedSnapshotException("format version " + version + ", this build reads versions 1 to " + VERSION);
        }
        int count = fixed.getInt(FIXED_BEFORE_CONFIG - 4);
        long configBytes = version == 1 ? 4L * count : count;
        long headerBytes = FIXED_BEFORE_CONFIG + configBytes + FIXED_AFTER_CONFIG;
        if (count < 1 || configBytes > MAX_CONFIG_BYTES || headerBytes > fileSize) {
            throw new DamagedSnapshotException("header claims a configuration of " + configBytes + " bytes in a file of "
                    + fileSize + " bytes");
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerBytes).put(fixed.array());
        if (!FileSync.readFully(ch, header, FIXED_BEFORE_CONFIG)) {
            throw new DamagedSnapshotException("file shrank while its header was read");
        }
        if (header.getInt((int) headerBytes - 4) != crc(header.array(), (int) headerBytes - 4)) {
            throw new DamagedSnapshotException("header checksum mismatch");
        }
        long index = header.getLong(12);
        long term = header.getLong(20);
        // Version 1's voter list is version 2's first configuration format without the leading count.
        ByteBuffer config = ByteBuffer.allocate((int) configBytes + (version == 1 ? 4 : 0));
        if (version == 1) {
            config.putInt(count);
        }
        config.put(header.array(), FIXED_BEFORE_CONFIG, (int) configBytes);
        long dataLength = header.getLong((int) headerBytes - FIXED_AFTER_CONFIG);
        if (dataLength != fileSize - headerBytes) {
            throw new DamagedSnapshotException("header says " + dataLength + " bytes of data but the file holds "
                    + (fileSize - headerBytes));
        }
        try {
            return new Header(new SnapshotMeta(index, term, ClusterConfig.decode(Bytes.wrap(config.array()))),
                    dataLength, header.getInt((int) headerBytes - 8), (int) headerBytes);
        } catch (IllegalArgumentException e) {
            throw new DamagedSnapshotException("header passes its checksum but is invalid: " + e.getMessage());
        }
    }

    /** Streams the data through CRC32C and compares it with the header's. */
    static void verifyData(FileChannel ch, Header header) throws IOException, DamagedSnapshotException {
        CRC32C crc = new CRC32C();
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(VERIFY_CHUNK_BYTES, Math.max(1, header.dataLength())));
        long pos = header.bytes();
        long end = pos + header.dataLength();
        while (pos < end) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), end - pos));
            if (!FileSync.readFully(ch, chunk, pos)) {
                throw new DamagedSnapshotException("file shrank while its data was checked");
            }
            chunk.flip();
            pos += chunk.remaining();
            crc.update(chunk);
        }
        if ((int) crc.getValue() != header.dataCrc()) {
            throw new DamagedSnapshotException("data checksum mismatch");
        }
    }

    private static ByteBuffer read(FileChannel ch, long position, int bytes) throws IOException, DamagedSnapshotException {
        ByteBuffer buf = ByteBuffer.allocate(bytes);
        if (!FileSync.readFully(ch, buf, position)) {
            throw new DamagedSnapshotException("file shrank while its header was read");
        }
        return buf;
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
