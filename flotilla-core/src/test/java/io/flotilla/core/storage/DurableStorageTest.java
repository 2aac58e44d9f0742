package io.flotilla.core.storage;

import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static io.flotilla.core.storage.TestEntries.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableStorageTest {
    private static final DurableStorage.Options SMALL_SEGMENTS = DurableStorage.Options.defaults().withSegmentBytes(1024);

    @TempDir
    Path dir;

    private DurableStorage open(DurableStorage.Options options) {
        return DurableStorage.open(dir, IDENTITY, options);
    }

    private List<String> segmentNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("log_")).sorted().toList();
        }
    }

    @Test
    void entriesTermsAndHardStateSurviveReopen() {
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            s.saveHardState(new HardState(4, 3));
            s.append(entries(1, 5, 2));
            s.append(List.of(new LogEntry(6, 4, EntryType.NOOP, Bytes.EMPTY)));
            s.sync();
        }
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            assertThat(s.hardState()).isEqualTo(new HardState(4, 3));
            assertThat(s.lastIndex()).isEqualTo(6);
            assertThat(s.term(5)).isEqualTo(2);
            assertThat(s.term(6)).isEqualTo(4);
            assertThat(s.entries(1, 7, Long.MAX_VALUE)).startsWith(entries(1, 5, 2).toArray(LogEntry[]::new))
                    .endsWith(new LogEntry(6, 4, EntryType.NOOP, Bytes.EMPTY));
        }
    }

    @Test
    void segmentsRollOverAndAreReadAcross() throws IOException {
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            s.saveHardState(new HardState(1, 0));
            for (long i = 1; i <= 200; i += 10) {
                s.append(entries(i, i + 9, 1));
                s.sync();
            }
            assertThat(s.entries(1, 201, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, 200, 1));
        }
        List<String> names = segmentNames();
        assertThat(names.size()).isGreaterThan(10);
        assertThat(names.stream().filter(n -> n.startsWith("log_inprogress_"))).hasSize(1);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("log_")))
                    .allSatisfy(p -> assertThat(Files.size(p)).isLessThanOrEqualTo(1024));
        }
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.entries(1, 201, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, 200, 1));
            assertThat(s.entries(37, 120, Long.MAX_VALUE)).containsExactlyElementsOf(entries(37, 119, 1));
            s.append(entries(201, 230, 1));
            assertThat(s.entries(190, 231, Long.MAX_VALUE)).containsExactlyElementsOf(entries(190, 230, 1));
        }
    }

    @Test
    void anEntryLargerThanASegmentGetsASegmentOfItsOwn() throws IOException {
        LogEntry big = new LogEntry(2, 1, EntryType.NORMAL, Bytes.wrap(new byte[5000]));
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            s.saveHardState(new HardState(1, 0));
            s.append(List.of(entry(1, 1), big, entry(3, 1)));
            s.sync();
        }
        assertThat(segmentNames()).containsExactly("log_1-1", "log_2-2", "log_inprogress_3");
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.entries(1, 4, Long.MAX_VALUE)).containsExactly(entry(1, 1), big, entry(3, 1));
        }
    }

    @Test
    void truncationIntoAClosedSegmentIsDurable() throws IOException {
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            s.saveHardState(new HardState(2, 0));
            s.append(entries(1, 100, 1));
            s.sync();
            List<String> before = segmentNames();
            s.append(entries(20, 22, 2));
            s.sync();
            assertThat(segmentNames()).hasSizeLessThan(before.size()).last().isEqualTo(openSegmentName(before, 20));
        }
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.lastIndex()).isEqualTo(22);
            assertThat(s.term(19)).isEqualTo(1);
            assertThat(s.term(20)).isEqualTo(2);
            List<LogEntry> expected = new ArrayList<>(entries(1, 19, 1));
            expected.addAll(entries(20, 22, 2));
            assertThat(s.entries(1, 23, Long.MAX_VALUE)).containsExactlyElementsOf(expected);
            s.append(entries(23, 120, 2));
            s.sync();
        }
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.lastIndex()).isEqualTo(120);
            assertThat(s.entries(100, 121, Long.MAX_VALUE)).containsExactlyElementsOf(entries(100, 120, 2));
        }
    }

    @Test
    void truncationAtASegmentBoundaryDropsTheWholeSegment() throws IOException {
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            s.saveHardState(new HardState(2, 0));
            s.append(entries(1, 100, 1));
            long secondStart = Long.parseLong(segmentNames().get(0).split("[_-]")[2]) + 1;
            s.append(entries(secondStart, secondStart, 2));
            s.sync();
            assertThat(segmentNames()).contains("log_inprogress_" + secondStart);
        }
        try (DurableStorage s = open(SMALL_SEGMENTS)) {
            assertThat(s.term(s.lastIndex())).isEqualTo(2);
            assertThat(s.term(s.lastIndex() - 1)).isEqualTo(1);
        }
    }

    /** The name the segment holding {@code index} gets when it is reopened for appending. */
    private static String openSegmentName(List<String> names, long index) {
        for (String n : names) {
            String[] parts = n.split("[_-]");
            if (!n.startsWith("log_inprogress_") && Long.parseLong(parts[1]) <= index && index <= Long.parseLong(parts[2])) {
                return "log_inprogress_" + parts[1];
            }
        }
        throw new AssertionError(index + " not in " + names);
    }

    @Test
    void manyEntriesReadFromDiskAndFromTheRecentCacheAlike() {
        SplittableRandom random = new SplittableRandom(7);
        try (DurableStorage s = open(DurableStorage.Options.defaults().withSegmentBytes(64 * 1024).withFsync(false))) {
            s.saveHardState(new HardState(1, 0));
            for (long i = 1; i <= 20_000; i += 100) {
                s.append(entries(i, i + 99, 1));
            }
            s.sync();
            for (int k = 0; k < 200; k++) {
                long from = 1 + random.nextLong(20_000);
                long to = Math.min(20_001, from + random.nextLong(300));
                assertThat(s.entries(from, to, Long.MAX_VALUE)).containsExactlyElementsOf(entries(from, to - 1, 1));
            }
            assertThat(s.entries(1, 20_001, Long.MAX_VALUE)).hasSize(20_000);
        }
    }

    @Test
    void syncDoesNothingWhenNothingChanged() throws IOException {
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            s.saveHardState(new HardState(1, 0));
            s.sync();
            assertThat(s.syncCount()).isEqualTo(1);
            s.sync();
            s.saveHardState(new HardState(1, 0));
            s.sync();
            assertThat(s.syncCount()).isEqualTo(1);

            // An unchanged hard state is not rewritten: remove the file behind its back and it stays gone.
            Files.delete(dir.resolve(HardStateFile.FILE_NAME));
            s.append(entries(1, 3, 1));
            s.saveHardState(new HardState(1, 0));
            s.sync();
            assertThat(s.syncCount()).isEqualTo(2);
            assertThat(dir.resolve(HardStateFile.FILE_NAME)).doesNotExist();

            s.saveHardState(new HardState(2, 1));
            s.sync();
            assertThat(s.syncCount()).isEqualTo(3);
            assertThat(dir.resolve(HardStateFile.FILE_NAME)).exists();
        }
    }

    @Test
    void entriesOfATermAboveTheSavedTermAreDroppedAtOpen() {
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            s.saveHardState(new HardState(1, 0));
            s.append(entries(1, 5, 1));
            s.sync();
            // A crash between the append and the sync of a batch that also raised the term.
            s.append(entries(6, 8, 2));
            s.saveHardState(new HardState(2, 0));
        }
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            assertThat(s.hardState()).isEqualTo(new HardState(1, 0));
            assertThat(s.lastIndex()).isEqualTo(5);
            s.append(entries(6, 6, 1));
            assertThat(s.entries(5, 7, Long.MAX_VALUE)).containsExactlyElementsOf(entries(5, 6, 1));
        }
    }

    @Test
    void oversizedAppendsAreRefused() {
        try (DurableStorage s = open(DurableStorage.Options.defaults().withMaxEntryBytes(100))) {
            LogEntry tooBig = new LogEntry(1, 1, EntryType.NORMAL, Bytes.wrap(new byte[101]));
            assertThatThrownBy(() -> s.append(List.of(tooBig))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxEntryBytes");
            assertThat(s.lastIndex()).isEqualTo(0);
        }
    }

    @Test
    void aDirectoryOfAnotherNodeIsRefused() {
        open(DurableStorage.Options.defaults()).close();
        assertThatThrownBy(() -> DurableStorage.open(dir, new Identity("test-cluster", 2), DurableStorage.Options.defaults()))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("cluster 'test-cluster' node 1")
                .hasMessageContaining("cluster 'test-cluster' node 2")
                .hasMessageNotContaining("\n");
        assertThatThrownBy(() -> DurableStorage.open(dir, new Identity("other", 1), DurableStorage.Options.defaults()))
                .isInstanceOf(StorageException.class).hasMessageContaining("cluster 'other' node 1");
        // The refusal released the lock.
        open(DurableStorage.Options.defaults()).close();
    }

    @Test
    void aLogWithoutItsMetaFileIsRefused() throws IOException {
        try (DurableStorage s = open(DurableStorage.Options.defaults())) {
            s.append(entries(1, 1, 1));
        }
        Files.delete(dir.resolve(MetaFile.FILE_NAME));
        assertThatThrownBy(() -> open(DurableStorage.Options.defaults())).isInstanceOf(StorageException.class)
                .hasMessageContaining("no meta file");
    }

    @Test
    void aSecondOpenInTheSameProcessIsRefusedUntilTheFirstCloses() {
        DurableStorage first = open(DurableStorage.Options.defaults());
        assertThatThrownBy(() -> open(DurableStorage.Options.defaults()))
                .isInstanceOf(StorageException.class)
                .hasMessageContaining("data directory " + dir)
                .hasMessageContaining("pid " + ProcessHandle.current().pid());
        first.close();
        open(DurableStorage.Options.defaults()).close();
    }

    @Test
    void aDirectoryHeldByAnotherProcessIsRefusedUntilItDies(@TempDir Path childOutput) throws Exception {
        ChildJvm child = ChildJvm.start(HoldOpen.class, childOutput, dir.toString());
        try {
            String line = child.awaitLine(30_000);
            assertThat(line).as("child stderr: %s", child.stderrText()).startsWith("OPEN");
            assertThatThrownBy(() -> open(DurableStorage.Options.defaults()))
                    .isInstanceOf(StorageException.class)
                    .hasMessage("data directory " + dir + " is in use by another process (pid " + child.pid()
                            + "); stop that process or give this node another directory");
        } finally {
            child.kill();
        }
        // The OS dropped the dead process's lock: no stale lock file to clean up by hand.
        open(DurableStorage.Options.defaults()).close();
    }

    @Test
    void aClosedStorageCannotBeUsed() {
        DurableStorage s = open(DurableStorage.Options.defaults());
        s.close();
        s.close();
        assertThatThrownBy(s::lastIndex).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> DurableStorage.Options.defaults().withSegmentBytes(100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DurableStorage.Options.defaults().withMaxEntryBytes(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Identity(" ", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Identity("a\nb", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Identity("a", 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
