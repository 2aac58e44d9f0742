package io.flotilla.core.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Reads one segment file front to back at open, checking every record, through a large window so a
 * million-entry log costs a few hundred sequential reads. No length read from the file is trusted:
 * it is checked against the entry size limit and the bytes left in the file before anything is
 * allocated or read for it.
 */
final class SegmentScanner {
    private static final int WINDOW_BYTES = 1 << 20;

    /** Where the valid records end, and why they end there if that is before the end of the file. */
    record Result(long validEnd, String problem) {
    }

    private final FileChannel channel;
    private final Path file;
    private final long size;
    private final int maxEntryBytes;
    private ByteBuffer window = ByteBuffer.allocate(WINDOW_BYTES);
    private long windowStart;

    SegmentScanner(FileChannel channel, Path file, long size, int maxEntryBytes) {
        this.channel = channel;
        this.file = file;
        this.size = size;
        this.maxEntryBytes = maxEntryBytes;
        window.limit(0);
    }

    /**
     * Adds every valid record to {@code index}, which must end just before this segment. Stops at the
     * first record that is incomplete or fails its checksum; a record that passes its checksum but
     * does not continue the log (wrong index, term going back, unknown type) is damage no crash can
     * cause, so it throws.
     */
    Result scan(LogIndex index) throws IOException {
        if (size < RecordFormat.SEGMENT_MAGIC.length || !RecordFormat.hasMagic(bytesAt(0, RecordFormat.SEGMENT_MAGIC.length))) {
            return new Result(0, "missing or damaged segment header");
        }
        long pos = RecordFormat.SEGMENT_MAGIC.length;
        while (pos < size) {
            if (size - pos < RecordFormat.HEADER_BYTES) {
                return new Result(pos, "incomplete record header (" + (size - pos) + " bytes)");
            }
            int at = ensure(pos, RecordFormat.HEADER_BYTES);
            RecordFormat.Header h = RecordFormat.readHeader(window, at);
            if (h.length() < 0 || h.length() > maxEntryBytes) {
                refuseIntactOversizedRecord(pos, h);
                return new Result(pos, "record length " + h.length() + " outside 0.." + maxEntryBytes);
            }
            if (h.recordBytes() > size - pos) {
                return new Result(pos, "record of " + h.recordBytes() + " bytes runs past the end of the file (" + (size - pos) + " left)");
            }
            at = ensure(pos, h.recordBytes());
            if (!RecordFormat.checksumMatches(window, at, h)) {
                return new Result(pos, "checksum mismatch");
            }
            long expected = index.lastIndex() + 1;
            if (h.index() != expected || h.term() < Math.max(1, index.lastTerm()) || !RecordFormat.isKnownType(h.typeCode())) {
                throw new StorageException("log record at offset " + pos + " of " + file + " has a valid checksum but does not continue the log"
                        + " (index " + h.index() + " where " + expected + " was expected, term " + h.term() + " after term "
                        + index.lastTerm() + ", type " + h.typeCode() + "); " + LogRecovery.ADVICE);
            }
            index.add(h.term(), pos);
            pos += h.recordBytes();
        }
        return new Result(pos, null);
    }

    /**
     * A record longer than the configured limit may be intact, written before the limit was lowered:
     * then cutting it as a torn tail would lose an acknowledged entry. The length is only believed
     * if it fits in the file and under the largest limit any configuration allows.
     */
    private void refuseIntactOversizedRecord(long pos, RecordFormat.Header h) throws IOException {
        if (h.length() > 0 && h.length() <= DurableStorage.Options.MAX_ENTRY_BYTES_LIMIT && h.recordBytes() <= size - pos
                && RecordFormat.checksumMatches(window, ensure(pos, h.recordBytes()), h)) {
            throw new StorageException("log record at offset " + pos + " of " + file + " holds " + h.length()
                    + " bytes, more than maxEntryBytes " + maxEntryBytes + "; raise maxEntryBytes to at least that");
        }
    }

    /**
     * Looks for an intact record of an index after {@code afterIndex} anywhere from {@code from} on,
     * at every byte offset. Finding one means the damage before it is not a torn tail but corruption
     * in the middle of the log.
     */
    OptionalLong findValidRecord(long from, long afterIndex) throws IOException {
        for (long pos = from; pos <= size - RecordFormat.HEADER_BYTES; pos++) {
            RecordFormat.Header h = RecordFormat.readHeader(window, ensure(pos, RecordFormat.HEADER_BYTES));
            if (h.plausible(maxEntryBytes) && h.index() > afterIndex && h.recordBytes() <= size - pos
                    && RecordFormat.checksumMatches(window, ensure(pos, h.recordBytes()), h)) {
                return OptionalLong.of(pos);
            }
        }
        return OptionalLong.empty();
    }

    private ByteBuffer bytesAt(long pos, int n) throws IOException {
        int at = ensure(pos, n);
        return window.duplicate().position(at).limit(at + n).slice();
    }

    /** Makes bytes {@code [pos, pos + n)} (which the caller knows are in the file) available in the window; returns where they start. */
    private int ensure(long pos, int n) throws IOException {
        if (pos >= windowStart && pos + n <= windowStart + window.limit()) {
            return (int) (pos - windowStart);
        }
        if (n > window.capacity()) {
            window = ByteBuffer.allocate(n);
        }
        window.clear();
        window.limit((int) Math.min(window.capacity(), size - pos));
        if (!FileSync.readFully(channel, window, pos)) {
            throw new StorageException("log segment " + file + " shrank while being read at open; is another process writing it?");
        }
        window.flip();
        windowStart = pos;
        return 0;
    }
}
