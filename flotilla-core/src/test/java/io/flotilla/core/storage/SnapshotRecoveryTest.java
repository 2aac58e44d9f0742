package io.flotilla.core.storage;

import static io.flotilla.core.storage.RecoveryTestFiles.flipByte;
import static io.flotilla.core.storage.RecoveryTestFiles.names;
import static io.flotilla.core.storage.RecoveryTestFiles.range;
import static io.flotilla.core.storage.StorageContractTest.VOTERS;
import static io.flotilla.core.storage.StorageContractTest.readInChunks;
import static io.flotilla.core.storage.StorageContractTest.snapshotData;
import static io.flotilla.core.storage.StorageContractTest.writeSnapshot;
import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.HardState;
import io.flotilla.core.SnapshotMeta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots, compaction and reset across restarts and crashes, on real files with small segments. */
class SnapshotRecoveryTest {
    private static final DurableStorage.Options SMALL_SEGMENTS = DurableStorage.Options.defaults().withSegmentBytes(1024);

    @TempDir
    Path dir;

    private DurableStorage open() {
        return DurableStorage.open(dir, IDENTITY, SMALL_SEGMENTS);
    }

    /** Entries 1..last in term 1, then snapshots at each of {@code snapshotIndexes} (data seeded by the index). */
    private void writeLogAndSnapshots(long last, long... snapshotIndexes) {
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(1, 0));
            s.append(entries(1, last, 1));
            s.sync();
            for (long index : snapshotIndexes) {
                writeSnapshot(s, new SnapshotMeta(index, 1, VOTERS), snapshotData(5000, index));
            }
        }
    }

    private List<String> segments() throws IOException {
        return names(dir, "log_");
    }

    private Path snapshotFile(long index) {
        return dir.resolve(SnapshotFiles.name(index, 1));
    }

    @Test
    void compactionDeletesWholeSegmentsAndReopeningAgrees() throws IOException {
        writeLogAndSnapshots(500, 300);
        int before = segments().size();
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(301);
            s.compact(300);
            s.sync();
        }
        List<String> after = segments();
        System.out.printf("compaction to 300 of 500 entries: %d segment files before, %d after%n", before, after.size());
        assertThat(after.size()).isLessThan(before / 2);
        // Only the segment holding 300 may start before it.
        assertThat(range(after.get(0))[0]).isLessThanOrEqualTo(301);
        assertThat(range(after.get(0))[1]).isGreaterThanOrEqualTo(300);
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(301);
            assertThat(s.term(300)).isEqualTo(1);
            assertThat(s.entries(301, 501, Long.MAX_VALUE)).containsExactlyElementsOf(entries(301, 500, 1));
            s.append(entries(501, 520, 1));
            assertThat(s.entries(495, 521, Long.MAX_VALUE)).containsExactlyElementsOf(entries(495, 520, 1));
        }
    }

    @Test
    void compactionKeepsTheLogTheOlderSnapshotNeeds() throws IOException {
        writeLogAndSnapshots(600, 200, 400);
        try (DurableStorage s = open()) {
            s.compact(400);
            assertThat(s.firstIndex()).isEqualTo(401);
        }
        long firstKept = range(segments().get(0))[0];
        assertThat(firstKept).isLessThanOrEqualTo(201).isGreaterThan(150);
    }

    @Test
    void segmentsACrashLeftBehindDuringCompactionAreHarmless() throws IOException {
        writeLogAndSnapshots(500, 300);
        // Compaction deletes segments without syncing the directory: any of them may come back. Here
        // every other one is gone, as if only some deletions had reached the disk.
        List<String> covered = segments().stream().filter(n -> !n.contains("inprogress") && range(n)[1] <= 300).toList();
        for (int k = 0; k < covered.size(); k += 2) {
            Files.delete(dir.resolve(covered.get(k)));
        }
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(301);
            assertThat(s.entries(301, 501, Long.MAX_VALUE)).containsExactlyElementsOf(entries(301, 500, 1));
            s.compact(300);
        }
        assertThat(segments()).allSatisfy(n -> assertThat(n.contains("inprogress") || range(n)[1] > 300).isTrue());
    }

    @Test
    void aLogThatStartsAfterTheSnapshotIsRefused() throws IOException {
        writeLogAndSnapshots(500, 300);
        String holding301 = segments().stream()
                .filter(n -> !n.contains("inprogress") && range(n)[0] <= 301 && range(n)[1] >= 301).findFirst().orElseThrow();
        Files.delete(dir.resolve(holding301));
        assertThatThrownBy(this::open)
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("the snapshot covers only up to index 300 (snapshot_300_1)")
                .hasMessageContaining("segment files are missing");
    }

    @Test
    void aDamagedNewestSnapshotFallsBackToTheOlderOneWithAWarning() throws IOException {
        writeLogAndSnapshots(600, 200, 400);
        try (DurableStorage s = open()) {
            s.compact(400);
        }
        Path newest = snapshotFile(400);
        flipByte(newest, Files.size(newest) - 10);
        try (LogCapture log = LogCapture.of(DurableStorage.class); DurableStorage s = open()) {
            assertThat(log.warnings()).singleElement().satisfies(w -> assertThat(w)
                    .contains(newest.toString()).contains("data checksum mismatch").contains("older snapshot snapshot_200_1"));
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(200, 1, VOTERS));
            assertThat(readInChunks(s, 4096)).isEqualTo(snapshotData(5000, 200));
            assertThat(s.firstIndex()).isEqualTo(201);
            assertThat(s.entries(201, 601, Long.MAX_VALUE)).containsExactlyElementsOf(entries(201, 600, 1));
            // Snapshotting goes on as before.
            writeSnapshot(s, new SnapshotMeta(500, 1, VOTERS), snapshotData(5000, 500));
        }
        assertThat(newest).doesNotExist();
        assertThat(dir.resolve("snapshot_400_1.corrupt")).exists();
        assertThat(names(dir, "snapshot_")).containsExactly("snapshot_200_1", "snapshot_400_1.corrupt", "snapshot_500_1");
    }

    @Test
    void aDamagedHeaderIsCaughtByItsOwnChecksum() throws IOException {
        writeLogAndSnapshots(100, 50, 80);
        flipByte(snapshotFile(80), 33); // inside the voters, which the data's checksum does not cover
        try (LogCapture log = LogCapture.of(DurableStorage.class); DurableStorage s = open()) {
            assertThat(log.warnings()).singleElement().satisfies(w -> assertThat(w).contains("header checksum mismatch"));
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(50, 1, VOTERS));
        }
    }

    @Test
    void aTruncatedSnapshotIsCaught() throws IOException {
        writeLogAndSnapshots(100, 50, 80);
        RecoveryTestFiles.truncate(snapshotFile(80), Files.size(snapshotFile(80)) - 1);
        try (LogCapture log = LogCapture.of(DurableStorage.class); DurableStorage s = open()) {
            assertThat(log.warnings()).singleElement().satisfies(w -> assertThat(w).contains("header says 5000 bytes of data"));
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(50, 1, VOTERS));
        }
    }

    @Test
    void whenEverySnapshotIsDamagedOpeningStopsAndNamesThem() throws IOException {
        writeLogAndSnapshots(100, 50, 80);
        flipByte(snapshotFile(50), 100);
        flipByte(snapshotFile(80), 100);
        assertThatThrownBy(this::open)
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("every snapshot in " + dir + " is damaged")
                .hasMessageContaining(snapshotFile(50).toString())
                .hasMessageContaining(snapshotFile(80).toString())
                .hasMessageContaining("must not rejoin as the member it was");
        // Refusing changed nothing: the files are still there for an operator.
        assertThat(names(dir, "snapshot_")).containsExactly("snapshot_50_1", "snapshot_80_1");
    }

    @Test
    void aFallbackThatCannotReachTheLogIsRefusedWithBothReasons() throws IOException {
        writeLogAndSnapshots(600, 200, 400);
        // Lose the log between the two snapshots, as a compaction that did not keep it would have.
        for (String n : segments()) {
            if (!n.contains("inprogress") && range(n)[1] <= 400) {
                Files.delete(dir.resolve(n));
            }
        }
        flipByte(snapshotFile(400), 100);
        assertThatThrownBy(this::open)
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("the snapshot covers only up to index 200")
                .hasMessageContaining("because the newer one is damaged: [" + snapshotFile(400));
        assertThat(snapshotFile(400)).exists();
    }

    @Test
    void aResetInterruptedByACrashIsFinishedAtOpen() throws IOException {
        SnapshotMeta leaders = new SnapshotMeta(40, 2, VOTERS);
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(2, 0));
            s.append(entries(1, 50, 1));
            s.sync();
            writeSnapshot(s, leaders, snapshotData(100, 1));
            // Crash before resetToSnapshot.
        }
        try (LogCapture log = LogCapture.of(DurableStorage.class); DurableStorage s = open()) {
            assertThat(log.warnings()).singleElement().satisfies(w -> assertThat(w).contains("does not hold the snapshot's last entry 40"));
            assertThat(s.firstIndex()).isEqualTo(41);
            assertThat(s.lastIndex()).isEqualTo(40);
            assertThat(s.term(40)).isEqualTo(2);
            s.append(entries(41, 45, 2));
            s.sync();
        }
        assertThat(segments()).containsExactly("log_inprogress_41");
        try (DurableStorage s = open()) {
            assertThat(s.entries(41, 46, Long.MAX_VALUE)).containsExactlyElementsOf(entries(41, 45, 2));
        }
    }

    @Test
    void aLogEndingBeforeTheSnapshotIsReplacedAtOpen() throws IOException {
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(3, 0));
            s.append(entries(1, 50, 1));
            s.sync();
            writeSnapshot(s, new SnapshotMeta(1000, 3, VOTERS), snapshotData(100, 1));
        }
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(1001);
            assertThat(s.lastIndex()).isEqualTo(1000);
            s.append(entries(1001, 1001, 3));
        }
        assertThat(segments()).containsExactly("log_inprogress_1001");
    }

    @Test
    void resetToASnapshotTheLogHoldsKeepsItsSegments() throws IOException {
        writeLogAndSnapshots(300);
        SnapshotMeta meta = new SnapshotMeta(200, 1, VOTERS);
        try (DurableStorage s = open()) {
            writeSnapshot(s, meta, snapshotData(100, 1));
            s.resetToSnapshot(meta);
            assertThat(s.firstIndex()).isEqualTo(201);
        }
        assertThat(segments()).allSatisfy(n -> assertThat(n.contains("inprogress") || range(n)[1] >= 200).isTrue());
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(201);
            assertThat(s.entries(201, 301, Long.MAX_VALUE)).containsExactlyElementsOf(entries(201, 300, 1));
        }
    }

    @Test
    void resetToASnapshotTheLogContradictsLeavesOneEmptySegment() throws IOException {
        writeLogAndSnapshots(300);
        SnapshotMeta meta = new SnapshotMeta(200, 2, VOTERS);
        try (DurableStorage s = open()) {
            s.saveHardState(new HardState(2, 0));
            writeSnapshot(s, meta, snapshotData(100, 1));
            s.resetToSnapshot(meta);
        }
        assertThat(segments()).containsExactly("log_inprogress_201");
        try (DurableStorage s = open()) {
            assertThat(s.firstIndex()).isEqualTo(201);
            assertThat(s.lastIndex()).isEqualTo(200);
            assertThat(s.term(200)).isEqualTo(2);
        }
    }

    /**
     * The steady state of a busy node: append, snapshot, compact, over and over. Disk use must stay
     * bounded by two snapshots, the log since the older one and a segment or two.
     */
    @Test
    void diskUseStaysBoundedUnderAppendSnapshotCompact() throws IOException {
        int rounds = 50;
        int entriesPerRound = 2000;
        int snapshotBytes = 200_000;
        DurableStorage.Options options = DurableStorage.Options.defaults().withSegmentBytes(64 << 10);
        long peak = 0;
        long logBytesPerRound = 0;
        try (DurableStorage s = DurableStorage.open(dir, IDENTITY, options)) {
            s.saveHardState(new HardState(1, 0));
            long last = 0;
            for (int round = 1; round <= rounds; round++) {
                long sizeBefore = RecoveryTestFiles.directorySize(dir);
                s.append(entries(last + 1, last + entriesPerRound, 1));
                s.sync();
                logBytesPerRound = RecoveryTestFiles.directorySize(dir) - sizeBefore;
                last += entriesPerRound;
                writeSnapshot(s, new SnapshotMeta(last, 1, VOTERS), snapshotData(snapshotBytes, round));
                s.compact(last);
                s.sync();
                peak = Math.max(peak, RecoveryTestFiles.directorySize(dir));
            }
        }
        long bound = 2L * snapshotBytes + 2 * logBytesPerRound + 2 * (64 << 10) + 4096;
        System.out.printf("append/snapshot/compact x%d (%d entries, ~%d KB of log and a %d KB snapshot per round, 64 KB segments):"
                + " directory peaked at %d KB (bound %d KB), ends with %s%n", rounds, entriesPerRound, logBytesPerRound >> 10,
                snapshotBytes >> 10, peak >> 10, bound >> 10, names(dir, ""));
        assertThat(peak).isLessThan(bound);
        try (DurableStorage s = DurableStorage.open(dir, IDENTITY, options)) {
            assertThat(s.firstIndex()).isEqualTo((long) rounds * entriesPerRound + 1);
        }
    }
}
