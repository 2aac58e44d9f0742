package io.flotilla.core.storage;

import static io.flotilla.core.storage.StorageContractTest.VOTERS;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures rather than checks (the assertions are loose): a snapshot the size of a million 128-byte
 * values written (fsync on) and read back both ways, and a restart from it plus a log tail. The reads
 * hit the page cache, so they show the code's cost, not the disk's. Run alone with
 * {@code mvn -pl flotilla-core test -Dtest=SnapshotBenchmarkTest}.
 */
class SnapshotBenchmarkTest {
    private static final int MB = 1 << 20;
    private static final int SNAPSHOT_MB = 150;
    private static final int TAIL_ENTRIES = 100_000;

    @TempDir
    Path dir;

    @Test
    void aSnapshotOfAMillionKeysIsWrittenReadAndRestartedFrom() throws IOException {
        long index = 1_000_000;
        SnapshotMeta meta = new SnapshotMeta(index, 1, VOTERS);
        byte[] block = new byte[64 << 10];
        new SplittableRandom(1).nextBytes(block);
        DurableStorage.Options options = DurableStorage.Options.defaults();
        double writeSeconds;
        double chunkSeconds;
        double streamSeconds;
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, options)) {
            s.saveHardState(new HardState(1, 0));
            s.sync();
            long started = System.nanoTime();
            try (SnapshotSink sink = s.beginSnapshot(meta)) {
                for (long written = 0; written < (long) SNAPSHOT_MB * MB; written += block.length) {
                    ByteBuffer.wrap(block).putLong(0, written);
                    sink.out().write(block);
                }
                sink.commit();
            }
            writeSeconds = seconds(started);
            s.resetToSnapshot(meta);
            for (long i = index + 1; i <= index + TAIL_ENTRIES; i += 1000) {
                s.append(batch(i, 1000));
            }
            s.sync();

            started = System.nanoTime();
            long read = 0;
            for (Bytes piece; (piece = StorageContractTest.readNewest(s, read, MB)).length() > 0; ) {
                read += piece.length();
            }
            chunkSeconds = seconds(started);
            assertThat(read).isEqualTo((long) SNAPSHOT_MB * MB);

            started = System.nanoTime();
            try (InputStream in = s.openSnapshot()) {
                read = 0;
                for (int n; (n = in.read(block)) > 0; ) {
                    read += n;
                }
            }
            streamSeconds = seconds(started);
            assertThat(read).isEqualTo((long) SNAPSHOT_MB * MB);
        }

        long started = System.nanoTime();
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, options)) {
            double openSeconds = seconds(started);
            assertThat(s.firstIndex()).isEqualTo(index + 1);
            assertThat(s.lastIndex()).isEqualTo(index + TAIL_ENTRIES);
            System.out.printf("%d MB snapshot: written and committed (fsync) at %.0f MB/s, read in 1 MB chunks at %.0f MB/s,"
                    + " streamed through openSnapshot (checksum verified) at %.0f MB/s; reopened with it and a %d-entry log tail"
                    + " (snapshot checksum and every record verified) in %.2f s%n", SNAPSHOT_MB, SNAPSHOT_MB / writeSeconds,
                    SNAPSHOT_MB / chunkSeconds, SNAPSHOT_MB / streamSeconds, TAIL_ENTRIES, openSeconds);
            assertThat(openSeconds).isLessThan(10);
        }
    }

    private static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }

    private static List<LogEntry> batch(long first, int size) {
        List<LogEntry> out = new ArrayList<>(size);
        for (int k = 0; k < size; k++) {
            out.add(new LogEntry(first + k, 1, EntryType.NORMAL, Bytes.wrap(new byte[100])));
        }
        return out;
    }
}
