package io.flotilla.client;

import io.flotilla.core.Bytes;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * A backup: what {@code flotilla-client snapshot save} writes and {@code flotilla-server --restore}
 * reads. A header, then the state machine's snapshot data exactly as the leader stored it
 * (big-endian; docs/protocol.md, "Backup files"):
 *
 * <pre>
 *   magic        8 bytes  "FLOTBKUP"
 *   version      i32      {@link #VERSION}
 *   headerBytes  i32      the whole header's length, headerCrc included
 *   created      i64      when the backup was saved, ms since 1970-01-01 UTC
 *   nodeId       i32      the node that served it (the leader when the snapshot was taken)
 *   clusterId    u16 length, then UTF-8: that node's cluster id
 *   index        i64      the last log index the data covers
 *   term         i64      the term of that entry
 *   configBytes  i32      then the cluster's configuration at index, in the core's encoding
 *   dataLength   i64      bytes of data after the header
 *   dataCrc      i32      CRC32C of the data
 *   headerCrc    i32      CRC32C of every header byte before it
 *   data         dataLength bytes
 * </pre>
 *
 * The file is exactly header plus data: a shorter one is truncated, a longer one damaged. Reading it
 * treats it as untrusted: every length is checked against the file's size before anything is
 * allocated, and nothing is believed before the header's checksum matches.
 */
public final class BackupFile {
    public static final int VERSION = 1;
    static final byte[] MAGIC = "FLOTBKUP".getBytes(StandardCharsets.US_ASCII);
    /** Magic, version, header length. */
    private static final int PREFIX_BYTES = 8 + 4 + 4;
    /** Every fixed field: prefix, created, node id, cluster id length, index, term, config length, data length, crcs. */
    private static final int FIXED_BYTES = PREFIX_BYTES + 8 + 4 + 2 + 8 + 8 + 4 + 8 + 4 + 4;
    /** Far more than any configuration: bounds what a damaged header can make a reader allocate. */
    static final int MAX_HEADER_BYTES = FIXED_BYTES + 0xFFFF + (1 << 20);
    private static final int VERIFY_CHUNK_BYTES = 1 << 20;

    private BackupFile() {
    }

    /**
     * A backup's header.
     *
     * @param createdMillis when it was saved, ms since the epoch
     * @param nodeId        the node that served it
     * @param clusterId     that node's cluster id
     * @param index         the last log index the data covers
     * @param term          the term of that entry
     * @param config        the old cluster's configuration at {@code index} ({@code ClusterConfig.encode()})
     * @param dataLength    bytes of data
     * @param dataCrc       CRC32C of the data
     */
    public record Header(long createdMillis, int nodeId, String clusterId, long index, long term, Bytes config, long dataLength,
                         int dataCrc) {
        public Header {
            if (index < 1 || term < 1 || dataLength < 0) {
                throw new IllegalArgumentException("index and term start at 1 and the length at 0, got index " + index + ", term "
                        + term + ", length " + dataLength);
            }
            if (clusterId.getBytes(StandardCharsets.UTF_8).length > 0xFFFF || config.length() > 1 << 20) {
                throw new IllegalArgumentException("cluster id or configuration too long for a backup header");
            }
        }

        /** The header's length in bytes. */
        public int bytes() {
            return FIXED_BYTES + clusterId.getBytes(StandardCharsets.UTF_8).length + config.length();
        }

        /** The checksum as printed: {@code crc32c:} and eight hex digits. */
        public String checksum() {
            return describeCrc(dataCrc);
        }
    }

    /** A backup that is not one, is damaged or is truncated; the message says which, in one line. */
    public static final class InvalidBackupException extends IOException {
        private static final long serialVersionUID = 1L;

        InvalidBackupException(String message) {
            super(message);
        }
    }

    /** A backup file written in full: where, and what it holds. */
    public record Saved(Path path, Header header, long fileBytes) {
    }

    public static String describeCrc(int crc) {
        return String.format(Locale.ROOT, "crc32c:%08x", crc);
    }

    /** The header's bytes, checksum included. */
    public static ByteBuffer encodeHeader(Header h) {
        byte[] cluster = h.clusterId().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(h.bytes());
        buf.put(MAGIC).putInt(VERSION).putInt(h.bytes()).putLong(h.createdMillis()).putInt(h.nodeId());
        buf.putShort((short) cluster.length).put(cluster);
        buf.putLong(h.index()).putLong(h.term());
        buf.putInt(h.config().length()).put(h.config().unsafeArray());
        buf.putLong(h.dataLength()).putInt(h.dataCrc());
        buf.putInt(crc(buf.array(), buf.position()));
        return buf.flip();
    }

    /**
     * Reads and checks the header of {@code file}, and that the data fills the rest of it exactly; the
     * data itself is not read ({@link #verify} does).
     */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, ch.size(), file);
        }
    }

    private static Header readHeader(FileChannel ch, long fileSize, Path file) throws IOException {
        String name = "backup " + file;
        if (fileSize < PREFIX_BYTES) {
            throw new InvalidBackupException(name + " is not a Flotilla backup: " + fileSize + " bytes is shorter than a backup header");
        }
        ByteBuffer prefix = read(ch, 0, PREFIX_BYTES, name);
        if (!Arrays.equals(prefix.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new InvalidBackupException(name + " is not a Flotilla backup (it does not start with FLOTBKUP)");
        }
        int version = prefix.getInt(8);
        if (version != VERSION) {
            throw new InvalidBackupException(name + " is of backup format version " + version + "; this build reads version " + VERSION);
        }
        int headerBytes = prefix.getInt(12);
        if (headerBytes < FIXED_BYTES || headerBytes > MAX_HEADER_BYTES) {
            throw new InvalidBackupException(name + " is damaged: its header claims " + headerBytes + " bytes");
        }
        if (headerBytes > fileSize) {
            throw new InvalidBackupException(name + " is truncated: " + fileSize + " bytes, shorter than its " + headerBytes
                    + "-byte header");
        }
        ByteBuffer header = read(ch, 0, headerBytes, name);
        if (header.getInt(headerBytes - 4) != crc(header.array(), headerBytes - 4)) {
            throw new InvalidBackupException(name + " is damaged: its header checksum does not match");
        }
        try {
            header.position(PREFIX_BYTES);
            long created = header.getLong();
            int nodeId = header.getInt();
            byte[] cluster = new byte[Short.toUnsignedInt(header.getShort())];
            header.get(cluster);
            long index = header.getLong();
            long term = header.getLong();
            int configBytes = header.getInt();
            if (configBytes < 0 || configBytes > header.remaining() - 16) {
                throw new InvalidBackupException(name + " is damaged: its header claims a " + configBytes + "-byte configuration");
            }
            byte[] config = new byte[configBytes];
            header.get(config);
            long dataLength = header.getLong();
            int dataCrc = header.getInt();
            if (header.position() != headerBytes - 4) {
                throw new InvalidBackupException(name + " is damaged: its header's fields do not fill its " + headerBytes + " bytes");
            }
            Header h = new Header(created, nodeId, new String(cluster, StandardCharsets.UTF_8), index, term, Bytes.wrap(config),
                    dataLength, dataCrc);
            if (dataLength != fileSize - headerBytes) {
                throw new InvalidBackupException(name + (dataLength > fileSize - headerBytes ? " is truncated" : " is damaged")
                        + ": its header says " + dataLength + " bytes of data, the file holds " + (fileSize - headerBytes));
            }
            return h;
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new InvalidBackupException(name + " is damaged: its header passes its checksum but is invalid ("
                    + (e.getMessage() == null ? "too short" : e.getMessage()) + ")");
        }
    }

    /**
     * Checks the whole file: its header, its length and its data's checksum. Returns the header.
     *
     * @throws InvalidBackupException with one line saying what is wrong, if it is not a complete, intact backup
     */
    public static Header verify(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = readHeader(ch, ch.size(), file);
            CRC32C crc = new CRC32C();
            ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(VERIFY_CHUNK_BYTES, Math.max(1, h.dataLength())));
            long pos = h.bytes();
            long end = pos + h.dataLength();
            while (pos < end) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), end - pos));
                if (!readFully(ch, chunk, pos)) {
                    throw new InvalidBackupException("backup " + file + " is truncated: it shrank while it was checked");
                }
                chunk.flip();
                pos += chunk.remaining();
                crc.update(chunk);
            }
            int actual = (int) crc.getValue();
            if (actual != h.dataCrc()) {
                throw new InvalidBackupException("backup " + file + " is damaged: its data's checksum is " + describeCrc(actual)
                        + ", its header says " + describeCrc(h.dataCrc()));
            }
            return h;
        }
    }

    /** The data of a backup whose header is {@code header}; the caller closes it. It reads exactly the data's bytes. */
    public static InputStream openData(Path file, Header header) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        ch.position(header.bytes());
        InputStream raw = Channels.newInputStream(ch);
        return new BufferedInputStream(new InputStream() {
            private long left = header.dataLength();

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) == 1 ? one[0] & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left == 0) {
                    return -1;
                }
                int n = raw.read(b, off, (int) Math.min(len, left));
                if (n > 0) {
                    left -= n;
                }
                return n;
            }

            @Override
            public void close() throws IOException {
                raw.close();
            }
        }, 1 << 16);
    }

    private static ByteBuffer read(FileChannel ch, long position, int bytes, String name) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(bytes);
        if (!readFully(ch, buf, position)) {
            throw new InvalidBackupException(name + " is truncated: it shrank while its header was read");
        }
        return buf;
    }

    private static boolean readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                return false;
            }
            pos += n;
        }
        return true;
    }

    static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
