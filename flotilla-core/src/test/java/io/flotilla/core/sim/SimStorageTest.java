package io.flotilla.core.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SimStorageTest {
    private final SimStorage storage = new SimStorage();

    @Test
    void crashKeepsSyncedAndLosesUnsyncedWrites() {
        storage.append(List.of(entry(1, 1), entry(2, 1)));
        storage.saveHardState(new HardState(1, 0));
        storage.sync();
        storage.append(List.of(entry(3, 2)));
        storage.saveHardState(new HardState(2, 3));

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.lastIndex()).isEqualTo(2);
        assertThat(storage.hardState()).isEqualTo(new HardState(1, 0));
    }

    @Test
    void crashRestoresAnOverwrittenSuffixThatWasNotSynced() {
        storage.append(List.of(entry(1, 1), entry(2, 1), entry(3, 1)));
        storage.sync();
        long chainBefore = storage.chainAt(3);
        storage.append(List.of(entry(2, 5)));

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.lastIndex()).isEqualTo(3);
        assertThat(storage.term(2)).isEqualTo(1);
        assertThat(storage.chainAt(3)).isEqualTo(chainBefore);
    }

    @Test
    void tornCrashKeepsAPrefixOfTheUnsyncedEntries() {
        for (int seed = 0; seed < 50; seed++) {
            SimStorage s = new SimStorage();
            s.append(List.of(entry(1, 1)));
            s.sync();
            s.append(List.of(entry(2, 2), entry(3, 2), entry(4, 2)));

            s.crash(new SplittableRandom(seed), true);

            assertThat(s.lastIndex()).isBetween(1L, 4L);
            for (long i = 1; i <= s.lastIndex(); i++) {
                assertThat(s.entry(i)).isEqualTo(entry(i, i == 1 ? 1 : 2));
            }
        }
    }

    @Test
    void equalLogsHaveEqualChainsAndAnyDifferenceShows() {
        SimStorage other = new SimStorage();
        storage.append(List.of(entry(1, 1), entry(2, 1), entry(3, 2)));
        other.append(List.of(entry(1, 1), entry(2, 1), entry(3, 2)));
        assertThat(storage.chainAt(3)).isEqualTo(other.chainAt(3));

        other.append(List.of(new LogEntry(2, 1, EntryType.NORMAL, Bytes.utf8("other")), entry(3, 2)));

        assertThat(storage.chainAt(1)).isEqualTo(other.chainAt(1));
        assertThat(storage.chainAt(3)).isNotEqualTo(other.chainAt(3));
    }

    // ---- snapshots ----------------------------------------------------------------------------

    private static final ClusterConfig VOTERS = ClusterConfig.of(1, 2, 3);

    private static void commitSnapshot(SimStorage s, SnapshotMeta meta, String data) throws IOException {
        try (SnapshotSink sink = s.beginSnapshot(meta)) {
            sink.out().write(Bytes.utf8(data).unsafeArray());
            sink.commit();
        }
    }

    private static String snapshotData(SimStorage s) throws IOException {
        try (InputStream in = s.openSnapshot()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Entries 1..last in term 1, synced. */
    private void log(long last) {
        List<LogEntry> entries = new ArrayList<>();
        for (long i = 1; i <= last; i++) {
            entries.add(entry(i, 1));
        }
        storage.append(entries);
        storage.saveHardState(new HardState(1, 0));
        storage.sync();
    }

    @Test
    void compactionIsForgottenByACrashButTheLogRestartsAfterTheSnapshot() throws IOException {
        log(10);
        commitSnapshot(storage, new SnapshotMeta(8, 1, VOTERS), "state at 8");
        storage.compact(5);
        long chainAt8 = storage.chainAt(8);
        assertThat(storage.firstIndex()).isEqualTo(6);

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.firstIndex()).isEqualTo(9);
        assertThat(storage.lastIndex()).isEqualTo(10);
        assertThat(storage.term(8)).isEqualTo(1);
        assertThat(storage.chainAt(8)).isEqualTo(chainAt8);
        assertThat(snapshotData(storage)).isEqualTo("state at 8");
    }

    @Test
    void anUncommittedSnapshotIsLostInACrash() throws IOException {
        log(10);
        SnapshotSink sink = storage.beginSnapshot(new SnapshotMeta(8, 1, VOTERS));
        sink.out().write(1);

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.latestSnapshot()).isEmpty();
        assertThat(storage.firstIndex()).isEqualTo(1);
    }

    @Test
    void aCrashBetweenCommittingALeadersSnapshotAndResettingDropsTheLogThatDoesNotHoldIt() throws IOException {
        log(5);
        storage.append(List.of(entry(6, 2), entry(7, 2))); // not synced, and of another term than the snapshot's entry
        storage.sync();
        commitSnapshot(storage, new SnapshotMeta(7, 3, VOTERS), "leader's state");

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.firstIndex()).isEqualTo(8);
        assertThat(storage.lastIndex()).isEqualTo(7);
        assertThat(storage.term(7)).isEqualTo(3);
    }

    @Test
    void resetToASnapshotIsDurableAtOnceAndTheSyncedLogAfterItSurvives() throws IOException {
        log(5);
        SnapshotMeta meta = new SnapshotMeta(20, 4, VOTERS);
        commitSnapshot(storage, meta, "s");
        storage.resetToSnapshot(meta);
        storage.append(List.of(entry(21, 4), entry(22, 4)));
        storage.sync();
        storage.append(List.of(entry(23, 4)));

        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.firstIndex()).isEqualTo(21);
        assertThat(storage.lastIndex()).isEqualTo(22);
        assertThat(storage.term(20)).isEqualTo(4);
    }

    @Test
    void aCrashPointInsideTheSnapshotCommitLosesTheSnapshot() {
        log(10);
        storage.crashAt(where -> where.equals("snapshot commit"));

        assertThatThrownBy(() -> commitSnapshot(storage, new SnapshotMeta(8, 1, VOTERS), "x")).isInstanceOf(SimulatedCrash.class);
        storage.crash(new SplittableRandom(1), false);

        assertThat(storage.latestSnapshot()).isEmpty();
    }

    private static LogEntry entry(long index, long term) {
        return new LogEntry(index, term, EntryType.NORMAL, Bytes.utf8("e" + index));
    }
}
