package io.flotilla.core.storage;

import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged files on disk: what a crash can leave is repaired, anything else is refused with a useful message. */
class RecoveryTest {
    private static final DurableStorage.Options ONE_SEGMENT = DurableStorage.Options.defaults();
    private static final DurableStorage.Options SMALL_SEGMENTS = DurableStorage.Options.defaults().withSegmentBytes(1024);

    @TempDir
    Path dir;

    private DurableStorage open(DurableStorage.Options options) {
        return DurableStorage.open(dir, IDENTITY, options);
    }

    /** Writes entries 1..last in term 1 and closes. */
    private void writeLog(long last, DurableStorage.Options options) {
        try (DurableStorage s = open(options)) {
            s.saveHardState(new HardState(1, 0));
            s.append(entries(1, last, 1));
            s.sync();
        }
    }

    /** Where entry {@code index} starts in a log written by {@link #writeLog} into a single segment. */
    private static long offsetOf(long index) {
        long offset = RecordFormat.SEGMENT_MAGIC.length;
        for (long i = 1; i < index; i++) {
            offset += RecordFormat.HEADER_BYTES + TestEntries.payload(i, 1).length();
        }
        return offset;
    }

    private Path segment(String name) {
        return dir.resolve(name);
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("log_")).sorted().toList();
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private static void appendBytes(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
            ch.write(b, offset);
        }
    }

    /** After a repair the log must take new entries and keep them. */
    private void assertAppendingContinuesAfter(long last) {
        try (DurableStorage s = open(ONE_SEGMENT)) {
            assertThat(s.lastIndex()).isEqualTo(last);
            assertThat(s.entries(1, last + 1, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, last, 1));
            s.append(entries(last + 1, last + 20, 1));
            s.sync();
        }
        try (DurableStorage s = open(ONE_SEGMENT)) {
            assertThat(s.entries(1, last + 21, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, last + 20, 1));
        }
    }

    @Test
    void aRecordCutMidwayIsDroppedAndAppendingContinues() throws IOException {
        writeLog(50, ONE_SEGMENT);
        truncate(segment("log_inprogress_1"), offsetOf(50) + 30);
        assertAppendingContinuesAfter(49);
        assertThat(Files.size(segment("log_inprogress_1"))).isEqualTo(offsetOf(70));
    }

    @Test
    void aRecordCutInsideItsHeaderIsDropped() throws IOException {
        writeLog(50, ONE_SEGMENT);
        truncate(segment("log_inprogress_1"), offsetOf(50) + 5);
        assertAppendingContinuesAfter(49);
    }

    @Test
    void garbageAfterTheLastRecordIsCut() throws IOException {
        writeLog(50, ONE_SEGMENT);
        byte[] garbage = new byte[3000];
        new SplittableRandom(1).nextBytes(garbage);
        appendBytes(segment("log_inprogress_1"), garbage);
        assertAppendingContinuesAfter(50);
    }

    @Test
    void zeroesAfterTheLastRecordAreCut() throws IOException {
        writeLog(50, ONE_SEGMENT);
        appendBytes(segment("log_inprogress_1"), new byte[4096]);
        assertAppendingContinuesAfter(50);
    }

    @Test
    void anOpenSegmentWithoutEvenItsHeaderIsRepaired() throws IOException {
        writeLog(0, ONE_SEGMENT);
        truncate(segment("log_inprogress_1"), 3);
        assertAppendingContinuesAfter(0);
    }

    @Test
    void aDamagedRecordFollowedByIntactOnesIsRefused() throws IOException {
        writeLog(50, ONE_SEGMENT);
        flipByte(segment("log_inprogress_1"), offsetOf(25) + RecordFormat.HEADER_BYTES + 2);
        assertThatThrownBy(() -> open(ONE_SEGMENT))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("offset " + offsetOf(25) + " of " + segment("log_inprogress_1"))
                .hasMessageContaining("checksum mismatch")
                .hasMessageContaining("intact record at offset " + offsetOf(26))
                .hasMessageContaining("replace it with a new member");
        // Refusing did not touch the file, and released the lock.
        assertThat(Files.size(segment("log_inprogress_1"))).isEqualTo(offsetOf(51));
        assertThatThrownBy(() -> open(ONE_SEGMENT)).isInstanceOf(StorageException.class).hasMessageContaining("checksum");
    }

    @Test
    void aDamagedLengthFollowedByIntactRecordsIsRefused() throws IOException {
        writeLog(50, ONE_SEGMENT);
        flipByte(segment("log_inprogress_1"), offsetOf(10) + 6);
        assertThatThrownBy(() -> open(ONE_SEGMENT))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("offset " + offsetOf(10) + " of " + segment("log_inprogress_1"))
                .hasMessageContaining("intact record at offset " + offsetOf(11));
    }

    @Test
    void damageInAClosedSegmentIsRefused() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        Path closed = segmentFiles().get(1);
        assertThat(closed.getFileName().toString()).doesNotContain("inprogress");
        flipByte(closed, Files.size(closed) - 3);
        assertThatThrownBy(() -> open(SMALL_SEGMENTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(closed.toString())
                .hasMessageContaining("in a closed segment");
    }

    @Test
    void aClosedSegmentCutShortIsRefused() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        Path closed = segmentFiles().get(0);
        truncate(closed, Files.size(closed) - 3);
        assertThatThrownBy(() -> open(SMALL_SEGMENTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(closed.toString())
                .hasMessageContaining("runs past the end of the file");
    }

    @Test
    void aMissingSegmentInTheMiddleIsRefused() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        List<Path> files = segmentFiles();
        Path missing = files.get(1);
        Files.delete(missing);
        String range = missing.getFileName().toString().substring("log_".length());
        assertThatThrownBy(() -> open(SMALL_SEGMENTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("log segment missing in " + dir)
                .hasMessageContaining(files.get(0).getFileName() + " ends at index " + (Long.parseLong(range.split("-")[0]) - 1))
                .hasMessageContaining(files.get(2).getFileName().toString())
                .hasMessageContaining("must not rejoin as the member it was");
    }

    @Test
    void aMissingFirstSegmentIsRefused() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        Files.delete(segmentFiles().get(0));
        assertThatThrownBy(() -> open(SMALL_SEGMENTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("segment files are missing");
    }

    @Test
    void aRecordFromTheWrongPlaceIsRefusedEvenWithAValidChecksum() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        List<Path> files = segmentFiles();
        // Swap the contents of two closed segments: every record is intact, but the indexes do not fit the names.
        byte[] first = Files.readAllBytes(files.get(0));
        Files.write(files.get(0), Files.readAllBytes(files.get(1)));
        Files.write(files.get(1), first);
        assertThatThrownBy(() -> open(SMALL_SEGMENTS))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("does not continue the log")
                .hasMessageContaining(files.get(0).toString());
    }

    @Test
    void aSealedSegmentWhoseRenameWasLostIsRecovered() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        // A crash after the new in-progress file was created but before the rename of the full one was durable.
        Path sealed = segmentFiles().get(segmentFiles().size() - 2);
        String first = sealed.getFileName().toString().split("[_-]")[1];
        Files.move(sealed, dir.resolve("log_inprogress_" + first));
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.entries(1, 101, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, 100, 1));
        }
        assertThat(segmentFiles()).contains(sealed);
    }

    @Test
    void aLeftOverEmptySegmentIsRemoved() throws IOException {
        writeLog(100, SMALL_SEGMENTS);
        Path sealed = segmentFiles().get(0);
        String first = sealed.getFileName().toString().split("[_-]")[1];
        Files.write(dir.resolve("log_inprogress_" + first), RecordFormat.SEGMENT_MAGIC);
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.entries(1, 101, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, 100, 1));
        }
        assertThat(dir.resolve("log_inprogress_" + first)).doesNotExist();
    }

    @Test
    void anIntactRecordAboveALoweredEntryLimitIsRefusedNotCut() throws IOException {
        writeLog(50, ONE_SEGMENT);
        long size = Files.size(segment("log_inprogress_1"));
        assertThatThrownBy(() -> open(ONE_SEGMENT.withMaxEntryBytes(20)))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("raise maxEntryBytes");
        assertThat(Files.size(segment("log_inprogress_1"))).isEqualTo(size);
    }

    @Test
    void aDamagedHardStateFileIsRefused() throws IOException {
        writeLog(3, ONE_SEGMENT);
        flipByte(dir.resolve(HardStateFile.FILE_NAME), 6);
        assertThatThrownBy(() -> open(ONE_SEGMENT))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(dir.resolve(HardStateFile.FILE_NAME).toString());
    }
}
