package io.flotilla.core.storage;

import static io.flotilla.core.storage.StorageContractTest.VOTERS;
import static io.flotilla.core.storage.StorageContractTest.snapshotData;
import static io.flotilla.core.storage.StorageContractTest.writeSnapshot;
import static io.flotilla.core.storage.TestEntries.IDENTITY;
import static io.flotilla.core.storage.TestEntries.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.HardState;
import io.flotilla.core.SnapshotMeta;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a backup needs of the storage: a snapshot readable while compaction deletes it, and a data directory seeded from one. */
class SnapshotBackupTest {
    private static final DurableStorage.Options OPTIONS = DurableStorage.Options.defaults().withSegmentBytes(1024);

    @TempDir
    Path dir;

    private static byte[] readAll(SnapshotReader reader, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            Bytes piece = reader.read(out.size(), chunk);
            if (piece.length() == 0) {
                return out.toByteArray();
            }
            assertThat(piece.length()).isLessThanOrEqualTo(chunk);
            out.write(piece.unsafeArray());
        }
    }

    private static int crc(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    @Test
    void anOpenSnapshotStaysReadableAfterNewerSnapshotsDeleteItsFile() throws IOException {
        Path data = dir.resolve("data");
        byte[] first = snapshotData(300_000, 1);
        try (DurableStorage s = DurableStorage.open(data, IDENTITY, OPTIONS)) {
            s.saveHardState(new HardState(1, 0));
            s.append(entries(1, 40, 1));
            s.sync();
            SnapshotMeta meta = new SnapshotMeta(10, 1, VOTERS);
            writeSnapshot(s, meta, first);
            try (SnapshotReader reader = s.openSnapshotReader(meta).orElseThrow()) {
                assertThat(reader.meta()).isEqualTo(meta);
                assertThat(reader.dataLength()).isEqualTo(first.length);
                assertThat(reader.dataCrc()).isEqualTo(crc(first));
                Bytes start = reader.read(0, 1000);
                // Two newer snapshots: only the newest two are kept, so the first one's file is deleted.
                writeSnapshot(s, new SnapshotMeta(20, 1, VOTERS), snapshotData(1000, 2));
                writeSnapshot(s, new SnapshotMeta(30, 1, VOTERS), snapshotData(1000, 3));
                s.compact(30);
                assertThat(data.resolve(SnapshotFiles.name(10, 1))).doesNotExist();
                assertThat(s.openSnapshotReader(meta)).as("no longer stored").isEmpty();
                assertThat(start.unsafeArray()).isEqualTo(java.util.Arrays.copyOf(first, 1000));
                assertThat(readAll(reader, 64 << 10)).isEqualTo(first);
                assertThat(reader.read(first.length, 10).length()).isZero();
                assertThatThrownBy(() -> reader.read(first.length + 1, 10)).isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> reader.read(0, 0)).isInstanceOf(IllegalArgumentException.class);
            }
            assertThat(s.openSnapshotReader(new SnapshotMeta(30, 2, VOTERS))).as("same index, other term").isEmpty();
        }
    }

    @Test
    void aSeededDirectoryHoldsTheSnapshotItsTermAndAnEmptyLogAfterIt() throws IOException {
        Path data = dir.resolve("restored");
        byte[] state = snapshotData(200_000, 7);
        ClusterConfig founders = ClusterConfig.ofVoters(Map.of(1, "127.0.0.1:7001", 2, "127.0.0.1:7002", 3, "127.0.0.1:7003"));
        SnapshotMeta meta = new SnapshotMeta(1234, 5, founders);
        DurableStorage.createFromSnapshot(data, IDENTITY, OPTIONS, meta, new ByteArrayInputStream(state));
        assertThat(dir.resolve("restored.restoring")).doesNotExist();
        try (DurableStorage s = DurableStorage.open(data, IDENTITY, OPTIONS)) {
            assertThat(s.isEmpty()).isFalse();
            assertThat(s.latestSnapshot()).contains(meta);
            assertThat(s.hardState()).isEqualTo(new HardState(5, 0));
            assertThat(s.firstIndex()).isEqualTo(1235);
            assertThat(s.lastIndex()).isEqualTo(1234);
            assertThat(s.term(1234)).isEqualTo(5);
            try (InputStream in = s.openSnapshot()) {
                assertThat(in.readAllBytes()).isEqualTo(state);
            }
            s.append(entries(1235, 1240, 6));
            s.saveHardState(new HardState(6, 1));
            s.sync();
        }
        try (DurableStorage s = DurableStorage.open(data, IDENTITY, OPTIONS)) {
            assertThat(s.lastIndex()).as("the log continues after the snapshot").isEqualTo(1240);
        }
    }

    @Test
    void seedingRefusesADirectoryWithDataAndLeavesNothingWhenTheDataFails() throws IOException {
        Path data = dir.resolve("node");
        SnapshotMeta meta = new SnapshotMeta(10, 2, VOTERS);
        Files.createDirectories(data);
        Files.writeString(data.resolve("something"), "x");
        assertThatThrownBy(() -> DurableStorage.createFromSnapshot(data, IDENTITY, OPTIONS, meta, new ByteArrayInputStream(new byte[10])))
                .isInstanceOf(StorageException.class).hasMessageContaining("already holds data");

        Path fresh = dir.resolve("fresh");
        InputStream failing = new InputStream() {
            private int left = 5000;

            @Override
            public int read() throws IOException {
                if (left <= 0) {
                    throw new IOException("injected: the backup changed");
                }
                left--;
                return 1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    throw new IOException("injected: the backup changed");
                }
                int n = Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 1);
                left -= n;
                return n;
            }
        };
        assertThatThrownBy(() -> DurableStorage.createFromSnapshot(fresh, IDENTITY, OPTIONS, meta, failing))
                .isInstanceOf(StorageException.class).hasMessageContaining("injected: the backup changed");
        assertThat(fresh).doesNotExist();
        assertThat(dir.resolve("fresh.restoring")).doesNotExist();

        Files.createDirectories(fresh); // an empty directory is fine
        DurableStorage.createFromSnapshot(fresh, IDENTITY, OPTIONS, meta, new ByteArrayInputStream(new byte[10]));
        try (DurableStorage s = DurableStorage.open(fresh, IDENTITY, OPTIONS)) {
            assertThat(s.latestSnapshot()).contains(meta);
        }
    }
}
