package io.flotilla.core.storage;

import static io.flotilla.core.storage.StorageContractTest.VOTERS;
import static io.flotilla.core.storage.StorageContractTest.snapshotData;
import static io.flotilla.core.storage.StorageContractTest.writeSnapshot;
import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.HardState;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot files on disk: their layout, their lifecycle, and that writing and reading them streams. */
class SnapshotFilesTest {
    private static final DurableStorage.Options OPTIONS = DurableStorage.Options.defaults().withSegmentBytes(1024);

    @TempDir
    Path dir;

    private DurableStorage open() {
        return DurableStorage.open(dir, IDENTITY, OPTIONS);
    }

    private DurableStorage openWithLog(long last) {
        DurableStorage s = open();
        s.saveHardState(new HardState(1, 0));
        s.append(entries(1, last, 1));
        s.sync();
        return s;
    }

    private List<String> snapshotNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("snapshot_")).sorted().toList();
        }
    }

    @Test
    void aCommittedSnapshotHasTheDocumentedLayout() throws IOException {
        byte[] data = snapshotData(1000, 1);
        try (DurableStorage s = openWithLog(30)) {
            writeSnapshot(s, new SnapshotMeta(20, 3, VOTERS), data);
        }
        assertThat(snapshotNames()).containsExactly("snapshot_20_3");
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("snapshot_20_3")));
        byte[] config = VOTERS.encode().unsafeArray();
        int headerBytes = 8 + 4 + 8 + 8 + 4 + config.length + 8 + 4 + 4;
        assertThat(file.capacity()).isEqualTo(headerBytes + data.length);
        assertThat(new String(file.array(), 0, 8, StandardCharsets.US_ASCII)).isEqualTo("FLOTSNAP");
        assertThat(file.getInt(8)).isEqualTo(SnapshotFormat.VERSION);
        assertThat(file.getLong(12)).isEqualTo(20);
        assertThat(file.getLong(20)).isEqualTo(3);
        assertThat(file.getInt(28)).isEqualTo(config.length);
        assertThat(Arrays.copyOfRange(file.array(), 32, 32 + config.length)).isEqualTo(config);
        int after = 32 + config.length;
        assertThat(file.getLong(after)).isEqualTo(data.length);
        CRC32C crc = new CRC32C();
        crc.update(data);
        assertThat(file.getInt(after + 8)).isEqualTo((int) crc.getValue());
        crc.reset();
        crc.update(file.array(), 0, headerBytes - 4);
        assertThat(file.getInt(after + 12)).isEqualTo((int) crc.getValue());
        assertThat(file.array()).endsWith(data);
    }

    @Test
    void aSnapshotInTheFirstFormatIsStillRead() throws IOException {
        byte[] data = snapshotData(500, 2);
        try (DurableStorage s = openWithLog(30)) {
            writeSnapshot(s, new SnapshotMeta(20, 3, VOTERS), data);
        }
        // Rewrite the file as version 1 wrote it: a voter count and the voters' ids for the configuration.
        ByteBuffer v1 = ByteBuffer.allocate(8 + 4 + 8 + 8 + 4 + 3 * 4 + 8 + 4 + 4 + data.length);
        v1.put("FLOTSNAP".getBytes(StandardCharsets.US_ASCII)).putInt(1).putLong(20).putLong(3).putInt(3)
                .putInt(1).putInt(2).putInt(3).putLong(data.length);
        CRC32C crc = new CRC32C();
        crc.update(data);
        v1.putInt((int) crc.getValue());
        crc.reset();
        crc.update(v1.array(), 0, v1.position());
        v1.putInt((int) crc.getValue()).put(data);
        Files.write(dir.resolve("snapshot_20_3"), v1.array());

        try (DurableStorage s = open(); InputStream in = s.openSnapshot()) {
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(20, 3, VOTERS));
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void onlyTheNewestTwoSnapshotsAreKept() throws IOException {
        try (DurableStorage s = openWithLog(100)) {
            for (long index = 10; index <= 50; index += 10) {
                writeSnapshot(s, new SnapshotMeta(index, 1, VOTERS), snapshotData(100, index));
                assertThat(snapshotNames()).hasSizeLessThanOrEqualTo(2).contains("snapshot_" + index + "_1");
            }
        }
        assertThat(snapshotNames()).containsExactly("snapshot_40_1", "snapshot_50_1");
    }

    @Test
    void olderSnapshotsLeftByACrashAreDeletedAtOpen() throws IOException {
        try (DurableStorage s = openWithLog(100)) {
            writeSnapshot(s, new SnapshotMeta(10, 1, VOTERS), snapshotData(100, 1));
            byte[] oldest = Files.readAllBytes(dir.resolve("snapshot_10_1"));
            writeSnapshot(s, new SnapshotMeta(20, 1, VOTERS), snapshotData(100, 2));
            writeSnapshot(s, new SnapshotMeta(30, 1, VOTERS), snapshotData(100, 3));
            // As if the deletion of the oldest had not reached the disk.
            Files.write(dir.resolve("snapshot_10_1"), oldest);
        }
        assertThat(snapshotNames()).hasSize(3);
        try (DurableStorage s = open()) {
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(30, 1, VOTERS));
        }
        assertThat(snapshotNames()).containsExactly("snapshot_20_1", "snapshot_30_1");
    }

    @Test
    void aSnapshotWrittenWhenTheProcessStopsLeavesATempFileThatOpenRemoves() throws IOException {
        Path temp;
        try (DurableStorage s = openWithLog(30)) {
            writeSnapshot(s, new SnapshotMeta(10, 1, VOTERS), snapshotData(100, 1));
            FileSnapshotSink sink = (FileSnapshotSink) s.beginSnapshot(new SnapshotMeta(20, 1, VOTERS));
            sink.out().write(snapshotData(5000, 2));
            sink.out().flush();
            temp = sink.tempFile();
            // The process dies here: no commit, no abort.
        }
        assertThat(temp).exists();
        assertThat(temp.getFileName().toString()).startsWith("snapshot_20_1.").endsWith(".tmp");
        try (DurableStorage s = open()) {
            assertThat(s.latestSnapshot()).contains(new SnapshotMeta(10, 1, VOTERS));
        }
        assertThat(temp).doesNotExist();
        assertThat(snapshotNames()).containsExactly("snapshot_10_1");
    }

    @Test
    void anAbortedSnapshotLeavesNoFile() throws IOException {
        try (DurableStorage s = openWithLog(30)) {
            List<String> before = snapshotNames();
            try (SnapshotSink sink = s.beginSnapshot(new SnapshotMeta(20, 1, VOTERS))) {
                sink.out().write(snapshotData(3 << 20, 1));
                assertThat(snapshotNames()).hasSize(1);
            }
            assertThat(snapshotNames()).isEqualTo(before).isEmpty();
        }
    }

    @Test
    void aSnapshotCommittedAfterTheStorageClosedIsDiscarded() throws IOException {
        DurableStorage s = openWithLog(30);
        SnapshotSink sink = s.beginSnapshot(new SnapshotMeta(20, 1, VOTERS));
        sink.out().write(snapshotData(1000, 1));
        s.close();
        assertThatThrownBy(sink::commit).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(snapshotNames()).isEmpty();
    }

    /**
     * 20 MB written and read back through buffers a fraction of its size: the bytes this thread allocates
     * (measured by the JVM) stay far below the snapshot's size, so nothing holds it whole.
     */
    @Test
    void aLargeSnapshotIsStreamedInBothDirections() throws IOException {
        int size = 20 << 20;
        byte[] chunk = new byte[64 << 10];
        SplittableRandom random = new SplittableRandom(7);
        CRC32C written = new CRC32C();
        try (DurableStorage s = openWithLog(30)) {
            long allocatedBefore = allocatedBytes();
            try (SnapshotSink sink = s.beginSnapshot(new SnapshotMeta(30, 1, VOTERS))) {
                for (int at = 0; at < size; at += chunk.length) {
                    random.nextBytes(chunk);
                    written.update(chunk);
                    sink.out().write(chunk);
                }
                sink.commit();
            }
            long writeAllocated = allocatedBytes() - allocatedBefore;
            assertThat(s.snapshotSize()).isEqualTo(size);

            allocatedBefore = allocatedBytes();
            CRC32C read = new CRC32C();
            try (InputStream in = s.openSnapshot()) {
                for (int n; (n = in.read(chunk)) > 0; ) {
                    read.update(chunk, 0, n);
                }
            }
            long readAllocated = allocatedBytes() - allocatedBefore;
            assertThat(read.getValue()).isEqualTo(written.getValue());
            System.out.printf("20 MB snapshot: %d KB allocated writing it, %d KB reading it%n", writeAllocated >> 10, readAllocated >> 10);
            assertThat(writeAllocated).isLessThan(4 << 20);
            assertThat(readAllocated).isLessThan(4 << 20);

            CRC32C chunked = new CRC32C();
            for (long at = 0; at < size; ) {
                Bytes piece = StorageContractTest.readNewest(s, at, 1 << 20);
                chunked.update(piece.unsafeArray());
                at += piece.length();
            }
            assertThat(chunked.getValue()).isEqualTo(written.getValue());
        }
    }

    @Test
    void aSnapshotStreamDetectsDataThatRottedAfterOpen() throws IOException {
        try (DurableStorage s = openWithLog(30)) {
            writeSnapshot(s, new SnapshotMeta(20, 1, VOTERS), snapshotData(10_000, 1));
            RecoveryTestFiles.flipByte(dir.resolve("snapshot_20_1"), Files.size(dir.resolve("snapshot_20_1")) - 100);
            try (InputStream in = s.openSnapshot()) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class)
                        .hasMessageContaining(dir.resolve("snapshot_20_1").toString())
                        .hasMessageContaining("checksum");
            }
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
