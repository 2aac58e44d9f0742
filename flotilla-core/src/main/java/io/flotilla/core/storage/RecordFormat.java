package io.flotilla.core.storage;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * How a log entry is laid out in a segment file (big-endian):
 *
 * <pre>
 *   crc32c  int   over every byte after it: length, term, index, type and payload
 *   length  int   payload bytes
 *   term    long
 *   index   long
 *   type    byte  {@link EntryType#code()}
 *   payload length bytes
 * </pre>
 *
 * The checksum covers the length too, so a flipped length bit is caught by this record's own checksum
 * rather than by luck when the misframed bytes that follow fail theirs. A segment starts with
 * {@link #SEGMENT_MAGIC}, which names the format version.
 */
final class RecordFormat {
    static final byte[] SEGMENT_MAGIC = "FLOTLOG1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 1;
    /** The fixed part of {@link LogEntry#sizeEstimate()}; lets a read budget be planned from record lengths alone. */
    private static final int ENTRY_SIZE_OVERHEAD = new LogEntry(1, 1, EntryType.NORMAL, Bytes.EMPTY).sizeEstimate();

    /** The fields in front of a payload, read but not yet checked against the checksum. */
    record Header(int crc, int length, long term, long index, int typeCode) {
        int recordBytes() {
            return HEADER_BYTES + length;
        }

        boolean plausible(int maxEntryBytes) {
            return length >= 0 && length <= maxEntryBytes && term >= 1 && index >= 1 && isKnownType(typeCode);
        }
    }

    private RecordFormat() {
    }

    static int recordBytes(LogEntry entry) {
        return HEADER_BYTES + entry.data().length();
    }

    /** {@link LogEntry#sizeEstimate()} of the entry a record of {@code recordBytes} holds. */
    static int sizeEstimate(int recordBytes) {
        return recordBytes - HEADER_BYTES + ENTRY_SIZE_OVERHEAD;
    }

    /** Writes the record at {@code out}'s position, which must be a heap buffer with room for it. */
    static void write(LogEntry entry, ByteBuffer out) {
        int start = out.position();
        byte[] payload = entry.data().unsafeArray();
        out.putInt(0)
                .putInt(payload.length)
                .putLong(entry.term())
                .putLong(entry.index())
                .put((byte) entry.type().code())
                .put(payload);
        out.putInt(start, checksum(out.array(), out.arrayOffset() + start, HEADER_BYTES + payload.length));
    }

    /** Reads the header at {@code at}; the caller has made sure {@link #HEADER_BYTES} are there. */
    static Header readHeader(ByteBuffer buf, int at) {
        return new Header(buf.getInt(at), buf.getInt(at + 4), buf.getLong(at + 8), buf.getLong(at + 16), buf.get(at + 24));
    }

    /** Whether the whole record at {@code at} (all of it in {@code buf}, a heap buffer) matches its checksum. */
    static boolean checksumMatches(ByteBuffer buf, int at, Header header) {
        return header.crc() == checksum(buf.array(), buf.arrayOffset() + at, header.recordBytes());
    }

    /** The entry of a record whose checksum has been checked. */
    static LogEntry decode(ByteBuffer buf, int at, Header header) {
        int from = buf.arrayOffset() + at + HEADER_BYTES;
        byte[] payload = Arrays.copyOfRange(buf.array(), from, from + header.length());
        return new LogEntry(header.index(), header.term(), EntryType.ofCode(header.typeCode()), Bytes.wrap(payload));
    }

    static boolean isKnownType(int code) {
        for (EntryType t : EntryType.values()) {
            if (t.code() == code) {
                return true;
            }
        }
        return false;
    }

    /** Whether a segment file starts with the expected magic; {@code buf} holds its first bytes. */
    static boolean hasMagic(ByteBuffer buf) {
        if (buf.limit() < SEGMENT_MAGIC.length) {
            return false;
        }
        for (int i = 0; i < SEGMENT_MAGIC.length; i++) {
            if (buf.get(i) != SEGMENT_MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static int checksum(byte[] array, int recordStart, int recordBytes) {
        CRC32C crc = new CRC32C();
        crc.update(array, recordStart + 4, recordBytes - 4);
        return (int) crc.getValue();
    }
}
