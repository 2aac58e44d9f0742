package io.flotilla.core.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Figures rather than checks (the assertions are loose): what one fsync per batch buys, and how long
 * a restart of a million-entry log takes. Printed to stdout; run alone with
 * {@code mvn -pl flotilla-core test -Dtest=GroupCommitBenchmarkTest}.
 */
class GroupCommitBenchmarkTest {
    private static final Bytes PAYLOAD_100 = Bytes.wrap(new byte[100]);

    @TempDir
    Path dir;

    @Test
    void oneFsyncCoversAWholeBatch() {
        System.out.println("group commit, fsync on, 100-byte entries:");
        long index = 0;
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, DurableStorage.Options.defaults())) {
            s.saveHardState(new HardState(1, 0));
            s.sync();
            for (int batchSize : new int[] {1, 10, 100, 1000}) {
                int batches = batchSize == 1 ? 300 : batchSize == 10 ? 300 : 100;
                long syncsBefore = s.syncCount();
                long started = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    s.append(batch(index + 1, batchSize));
                    index += batchSize;
                    s.sync();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                long syncs = s.syncCount() - syncsBefore;
                assertThat(syncs).isEqualTo(batches);
                System.out.printf("  batch %5d: %7d entries, %4d fsyncs, %9.0f entries/s, %6.0f fsyncs/s, %6.3f ms per fsync'd batch%n",
                        batchSize, (long) batches * batchSize, syncs, batches * batchSize / seconds, syncs / seconds, seconds * 1000 / batches);
            }
        }
    }

    @Test
    void aMillionEntryLogReopensInAFewSeconds() {
        DurableStorage.Options options = DurableStorage.Options.defaults().withFsync(false);
        int total = 1_000_000;
        long started = System.nanoTime();
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, options)) {
            s.saveHardState(new HardState(1, 0));
            for (int i = 1; i <= total; i += 1000) {
                s.append(batch(i, 1000));
            }
            s.sync();
        }
        double writeSeconds = (System.nanoTime() - started) / 1e9;

        started = System.nanoTime();
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, options)) {
            double openSeconds = (System.nanoTime() - started) / 1e9;
            assertThat(s.lastIndex()).isEqualTo(total);
            long readStarted = System.nanoTime();
            long read = 0;
            while (read < total) {
                read += s.entries(read + 1, total + 1, 4 << 20).size();
            }
            double readSeconds = (System.nanoTime() - readStarted) / 1e9;
            System.out.printf("1M entries of 100 bytes (~125 MB, 2 segments): written in %.2f s (no fsync), reopened (every checksum"
                    + " verified) in %.2f s, read back through entries() in %.2f s%n", writeSeconds, openSeconds, readSeconds);
            assertThat(openSeconds).isLessThan(10);
        }
    }

    private static List<LogEntry> batch(long first, int size) {
        List<LogEntry> out = new ArrayList<>(size);
        for (int k = 0; k < size; k++) {
            out.add(new LogEntry(first + k, 1, EntryType.NORMAL, PAYLOAD_100));
        }
        return out;
    }
}
