package io.flotilla.core.storage;

import io.flotilla.core.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the log from the segment files at open, checking every record.
 *
 * <p>What a crash can do is repaired: a torn tail (a partly written record, or garbage or zeroes
 * after the last record) of the last, open segment is cut off, with a warning. What a crash cannot
 * do is refused, because the log can no longer be trusted and a Raft node that silently forgets
 * acknowledged entries breaks the cluster's guarantees: damage in a closed segment, damage followed
 * by intact records, a missing segment, or records that do not continue the log.
 *
 * <p>With a snapshot at index {@code S}, the log needed starts at {@code S + 1}. Closed segments
 * that end at or before {@code S} are not read at all (compaction deletes them later; any of them may
 * already be gone, since deletions are not synced). The rest must be contiguous and start at or
 * before {@code S + 1}; a log starting after that has lost entries. If the log does not hold entry
 * {@code S} with the snapshot's term, it diverges from the snapshot (a crash came between committing
 * a leader's snapshot and {@code resetToSnapshot}) and the caller drops it, as that call would have.
 */
final class LogRecovery {
    static final String ADVICE = "keep the directory for inspection: a node that lost its data must not rejoin as the member it was"
            + " (it could help lose committed writes); replace it with a new member (see 'Replacing a lost disk' in the README)";
    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);

    /**
     * The recovered segments, oldest first (the last may be open), and their index, which starts after
     * the snapshot. {@code divergesFromSnapshot}: the log does not hold the snapshot's last entry with
     * its term, so none of it may be kept.
     */
    record Recovered(List<Segment> segments, LogIndex index, boolean divergesFromSnapshot) {
    }

    private LogRecovery() {
    }

    /** Recovers the log that follows {@code snapshot} (null: the log must start at index 1). */
    static Recovered recover(Path dir, DurableStorage.Options options, SnapshotMeta snapshot) throws IOException {
        long base = snapshot == null ? 0 : snapshot.index();
        long baseTerm = snapshot == null ? 0 : snapshot.term();
        List<SegmentFiles.SegmentFile> files = SegmentFiles.list(dir);
        List<Segment> segments = new ArrayList<>();
        int k = 0;
        while (k < files.size() && !files.get(k).open() && files.get(k).lastIndex() <= base) {
            SegmentFiles.SegmentFile covered = files.get(k++);
            segments.add(Segment.existing(dir, covered.firstIndex(), covered.lastIndex(), Files.size(covered.path()), false));
        }
        if (k == files.size()) {
            return new Recovered(segments, new LogIndex(base + 1, baseTerm), false);
        }
        long first = files.get(k).firstIndex();
        if (first > base + 1) {
            throw new StorageException("the log in " + dir + " starts at index " + first + " (" + files.get(k).path().getFileName() + ") but "
                    + (snapshot == null ? "no snapshot covers the entries before it"
                            : "the snapshot covers only up to index " + base + " (" + SnapshotFiles.name(base, baseTerm) + ")")
                    + ": segment files are missing; " + ADVICE);
        }
        LogIndex index = new LogIndex(first, first == base + 1 ? baseTerm : 0);
        for (int start = k; k < files.size(); k++) {
            SegmentFiles.SegmentFile file = files.get(k);
            boolean last = k == files.size() - 1;
            if (k > start) {
                checkContinues(dir, file, index, files.get(k - 1));
            }
            long size = recoverSegment(file, last, index, options);
            if (!file.open()) {
                if (index.lastIndex() != file.lastIndex()) {
                    throw new StorageException("log segment " + file.path() + " is named to end at index " + file.lastIndex()
                            + " but its records end at " + index.lastIndex() + "; " + ADVICE);
                }
                segments.add(Segment.existing(dir, file.firstIndex(), file.lastIndex(), size, false));
                continue;
            }
            Segment segment = Segment.existing(dir, file.firstIndex(), index.lastIndex(), size, true);
            if (last) {
                segments.add(segment);
            } else if (index.lastIndex() < file.firstIndex()) {
                // Left over by a crash: an empty in-progress file whose successor starts at the same index.
                LOG.warn("Removing empty left-over log segment {}", file.path());
                segment.delete();
            } else {
                // A crash lost the rename of a segment that was sealed (its records were synced first).
                segment.seal(options.fsync());
                segments.add(segment);
            }
        }
        if (first <= base) {
            if (index.lastIndex() < base || index.term(base) != baseTerm) {
                return new Recovered(segments, index, true);
            }
            index.dropBefore(base + 1);
        }
        return new Recovered(segments, index, false);
    }

    private static void checkContinues(Path dir, SegmentFiles.SegmentFile file, LogIndex index, SegmentFiles.SegmentFile previous) {
        long expected = index.lastIndex() + 1;
        if (file.firstIndex() == expected) {
            return;
        }
        if (file.firstIndex() > expected) {
            throw new StorageException("log segment missing in " + dir + ": " + previous.path().getFileName() + " ends at index " + index.lastIndex()
                    + " but the next file, " + file.path().getFileName() + ", starts at " + file.firstIndex() + "; " + ADVICE);
        }
        throw new StorageException("log segments overlap in " + dir + ": " + previous.path().getFileName() + " ends at index " + index.lastIndex()
                + " but " + file.path().getFileName() + " starts at " + file.firstIndex() + "; " + ADVICE);
    }

    /** Adds the segment's records to the index, cutting a torn tail off the last open segment; returns the segment's size after that. */
    private static long recoverSegment(SegmentFiles.SegmentFile file, boolean last, LogIndex index,
                                       DurableStorage.Options options) throws IOException {
        long size = Files.size(file.path());
        SegmentScanner.Result result;
        try (FileChannel ch = FileChannel.open(file.path(), StandardOpenOption.READ)) {
            SegmentScanner scanner = new SegmentScanner(ch, file.path(), size, options.maxEntryBytes());
            result = scanner.scan(index);
            if (result.problem() == null) {
                return size;
            }
            String where = "at offset " + result.validEnd() + " of " + file.path() + " (" + result.problem() + ")";
            if (!last || !file.open()) {
                throw new StorageException("corrupt log record " + where + (file.open() ? " before the last segment" : " in a closed segment")
                        + "; " + ADVICE);
            }
            OptionalLong intact = scanner.findValidRecord(result.validEnd(), index.lastIndex());
            if (intact.isPresent()) {
                throw new StorageException("corrupt log record " + where + ", followed by an intact record at offset "
                        + intact.getAsLong() + ", so this is not a torn write; " + ADVICE);
            }
        }
        long kept = cutTornTail(file.path(), result.validEnd(), options.fsync());
        LOG.warn("Cut the torn tail of log segment {}: {} bytes from offset {} ({}); the log now ends at index {}",
                file.path(), size - result.validEnd(), result.validEnd(), result.problem(), index.lastIndex());
        return kept;
    }

    private static long cutTornTail(Path file, long validEnd, boolean fsync) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long kept = validEnd;
            ch.truncate(validEnd);
            if (validEnd < RecordFormat.SEGMENT_MAGIC.length) {
                ch.truncate(0);
                FileSync.writeFully(ch, ByteBuffer.wrap(RecordFormat.SEGMENT_MAGIC), 0);
                kept = RecordFormat.SEGMENT_MAGIC.length;
            }
            if (fsync) {
                FileSync.force(ch, file, true);
            }
            return kept;
        }
    }
}
