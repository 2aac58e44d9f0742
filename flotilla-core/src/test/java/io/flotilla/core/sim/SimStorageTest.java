package io.flotilla.core.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
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

    private static LogEntry entry(long index, long term) {
        return new LogEntry(index, term, EntryType.NORMAL, Bytes.utf8("e" + index));
    }
}
