package io.flotilla.core.storage;

import static io.flotilla.core.storage.TestEntries.entries;
import static io.flotilla.core.storage.TestEntries.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.Storage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * What the protocol may rely on from any {@link Storage}. Each implementation runs these; a durable one
 * also checks every result again after {@link #reopen reopening}.
 */
abstract class StorageContractTest {
    /** A new, empty storage. */
    abstract Storage create();

    /** The same storage after a sync, a close and an open; memory storage returns itself. */
    abstract Storage reopen(Storage storage);

    /** Runs {@code check} on the storage, then on it reopened, which it returns. */
    private Storage checkBeforeAndAfterReopen(Storage s, Consumer<Storage> check) {
        check.accept(s);
        Storage reopened = reopen(s);
        check.accept(reopened);
        return reopened;
    }

    @Test
    void aNewStorageIsEmpty() {
        Storage s = create();
        assertThat(s.isEmpty()).isTrue();
        assertThat(s.firstIndex()).isEqualTo(1);
        assertThat(s.lastIndex()).isEqualTo(0);
        assertThat(s.term(0)).isEqualTo(0);
        assertThat(s.hardState()).isEqualTo(HardState.INITIAL);
        assertThat(s.entries(1, 1, Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void appendedEntriesReadBackWithTheirTerms() {
        Storage s = create();
        s.saveHardState(new HardState(3, 0));
        s.append(entries(1, 3, 1));
        s.append(entries(4, 10, 2));
        s.append(entries(11, 40, 3));
        s.sync();
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.lastIndex()).isEqualTo(40);
            assertThat(view.term(0)).isEqualTo(0);
            assertThat(view.term(3)).isEqualTo(1);
            assertThat(view.term(4)).isEqualTo(2);
            assertThat(view.term(40)).isEqualTo(3);
            List<LogEntry> expected = new ArrayList<>(entries(1, 3, 1));
            expected.addAll(entries(4, 10, 2));
            expected.addAll(entries(11, 40, 3));
            assertThat(view.entries(1, 41, Long.MAX_VALUE)).containsExactlyElementsOf(expected);
            assertThat(view.entries(5, 8, Long.MAX_VALUE)).containsExactlyElementsOf(entries(5, 7, 2));
            assertThat(view.isEmpty()).isFalse();
        });
    }

    @Test
    void appendingAtAnEarlierIndexReplacesTheSuffix() {
        Storage s = create();
        s.saveHardState(new HardState(2, 0));
        s.append(entries(1, 30, 1));
        s.append(entries(12, 14, 2));
        s.sync();
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.lastIndex()).isEqualTo(14);
            assertThat(view.term(11)).isEqualTo(1);
            assertThat(view.term(12)).isEqualTo(2);
            assertThat(view.entries(10, 15, Long.MAX_VALUE))
                    .containsExactly(entry(10, 1), entry(11, 1), entry(12, 2), entry(13, 2), entry(14, 2));
        });
        s.append(entries(15, 16, 2));
        assertThat(s.entries(13, 17, Long.MAX_VALUE)).containsExactlyElementsOf(entries(13, 16, 2));
    }

    @Test
    void replacingTheWholeLogStartsAfresh() {
        Storage s = create();
        s.saveHardState(new HardState(2, 0));
        s.append(entries(1, 20, 1));
        s.append(entries(1, 2, 2));
        s.sync();
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.lastIndex()).isEqualTo(2);
            assertThat(view.entries(1, 3, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1, 2, 2));
        });
    }

    @Test
    void appendingWithAGapIsRefused() {
        Storage s = create();
        s.append(entries(1, 3, 1));
        assertThatThrownBy(() -> s.append(entries(5, 6, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.lastIndex()).isEqualTo(3);
    }

    @Test
    void appendingNothingChangesNothing() {
        Storage s = create();
        s.append(entries(1, 3, 1));
        s.append(List.of());
        assertThat(s.lastIndex()).isEqualTo(3);
    }

    @Test
    void entriesStopAtTheByteBudgetButReturnAtLeastOne() {
        Storage s = create();
        s.saveHardState(new HardState(1, 0));
        s.append(entries(1, 50, 1));
        s.sync();
        s = checkBeforeAndAfterReopen(s, view -> {
            List<LogEntry> all = view.entries(1, 51, Long.MAX_VALUE);
            long budget = all.get(0).sizeEstimate() + all.get(1).sizeEstimate() + all.get(2).sizeEstimate();
            assertThat(view.entries(1, 51, budget)).containsExactlyElementsOf(all.subList(0, 3));
            assertThat(view.entries(1, 51, budget - 1)).containsExactlyElementsOf(all.subList(0, 2));
            assertThat(view.entries(7, 51, 0)).containsExactly(all.get(6));
            assertThat(view.entries(7, 7, 0)).isEmpty();
        });
    }

    @Test
    void readingOutsideTheLogIsAnError() {
        Storage s = create();
        s.append(entries(1, 3, 1));
        assertThatThrownBy(() -> s.term(4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> s.term(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> s.entries(2, 5, Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> s.entries(0, 2, Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void hardStateIsKept() {
        Storage s = create();
        s.saveHardState(new HardState(5, 2));
        s.sync();
        assertThat(s.isEmpty()).isFalse();
        assertThat(reopen(s).hardState()).isEqualTo(new HardState(5, 2));
    }

    @Test
    void bootstrapWritesTheConfigurationOnceOnly() {
        Storage s = create();
        ClusterConfig config = ClusterConfig.of(1, 2, 3);
        s.bootstrap(config);
        s = reopen(s);
        assertThat(s.hardState()).isEqualTo(new HardState(1, 0));
        assertThat(s.lastIndex()).isEqualTo(1);
        LogEntry first = s.entries(1, 2, Long.MAX_VALUE).get(0);
        assertThat(first.type()).isEqualTo(EntryType.CONFIG);
        assertThat(ClusterConfig.decode(first.data())).isEqualTo(config);

        s.bootstrap(ClusterConfig.of(7));
        assertThat(ClusterConfig.decode(s.entries(1, 2, Long.MAX_VALUE).get(0).data())).isEqualTo(config);
    }
}
