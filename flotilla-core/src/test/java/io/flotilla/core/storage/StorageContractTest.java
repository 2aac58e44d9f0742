package io.flotilla.core.storage;

import static io.flotilla.core.storage.TestEntries.entries;
import static io.flotilla.core.storage.TestEntries.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotChunk;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.Storage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * What the protocol may rely on from any {@link Storage}. Each implementation runs these; a durable one
 * also checks every result again after {@link #reopen reopening}. Public for the simulation's disk
 * ({@code io.flotilla.core.sim.SimStorageContractTest}).
 */
public abstract class StorageContractTest {
    /** A new, empty storage. */
    protected abstract Storage create();

    /** The same storage after a sync, a close and an open; memory storage returns itself. */
    protected abstract Storage reopen(Storage storage);

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
        assertThatThrownBy(() -> s.append(entries(5, 6, 1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not continue or overwrite the log 1..3");
        assertThatThrownBy(() -> s.append(List.of(entry(4, 1), entry(6, 1)))).as("a gap between the new entries")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not consecutive");
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

    // ---- snapshots and compaction --------------------------------------------------------------------

    static final ClusterConfig VOTERS = ClusterConfig.of(1, 2, 3);

    static byte[] snapshotData(int size, long seed) {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        return data;
    }

    /** Writes {@code data} as the snapshot {@code meta} in uneven pieces, and commits it. */
    static void writeSnapshot(Storage s, SnapshotMeta meta, byte[] data) {
        try (SnapshotSink sink = s.beginSnapshot(meta)) {
            int at = 0;
            for (int piece = 1; at < data.length; piece = piece * 3 % 10_007) {
                int n = Math.min(piece, data.length - at);
                sink.out().write(data, at, n);
                at += n;
            }
            assertThat(sink.size()).isEqualTo(data.length);
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A chunk of the newest snapshot, as a sender pinned to it reads it. */
    static Bytes readNewest(Storage s, long offset, int maxBytes) throws IOException {
        return s.readSnapshot(s.latestSnapshot().orElseThrow(), offset, maxBytes).orElseThrow().data();
    }

    /** The newest snapshot read through {@code readSnapshot} in chunks of {@code chunk} bytes. */
    static byte[] readInChunks(Storage s, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            Bytes piece = readNewest(s, out.size(), chunk);
            if (piece.length() == 0) {
                return out.toByteArray();
            }
            assertThat(piece.length()).isLessThanOrEqualTo(chunk);
            out.write(piece.unsafeArray());
        }
    }

    static byte[] readStream(Storage s) throws IOException {
        try (InputStream in = s.openSnapshot()) {
            return in.readAllBytes();
        }
    }

    /** Entries {@code 1..last} in term 1, synced. */
    private static void appendLog(Storage s, long last) {
        s.saveHardState(new HardState(1, 0));
        s.append(entries(1, last, 1));
        s.sync();
    }

    @Test
    void aNewStorageHasNoSnapshot() throws IOException {
        Storage s = create();
        assertThat(s.latestSnapshot()).isEmpty();
        assertThat(s.snapshotSize()).isZero();
        assertThat(s.readSnapshot(new SnapshotMeta(1, 1, VOTERS), 0, 100)).isEmpty();
        assertThatThrownBy(s::openSnapshot).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> s.compact(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aCommittedSnapshotReadsBackWholeAndInChunks() throws IOException {
        Storage s = create();
        appendLog(s, 30);
        SnapshotMeta meta = new SnapshotMeta(20, 1, VOTERS);
        byte[] data = snapshotData(100_000, 1);
        writeSnapshot(s, meta, data);
        // A snapshot alone does not change the log (after a restart a durable log starts after the snapshot).
        assertThat(s.firstIndex()).isEqualTo(1);
        assertThat(s.lastIndex()).isEqualTo(30);
        s = checkBeforeAndAfterReopen(s, view -> {
            try {
                assertThat(view.latestSnapshot()).contains(meta);
                assertThat(view.snapshotSize()).isEqualTo(data.length);
                assertThat(readInChunks(view, 777)).isEqualTo(data);
                assertThat(readInChunks(view, Integer.MAX_VALUE)).isEqualTo(data);
                assertThat(readStream(view)).isEqualTo(data);
                assertThat(readNewest(view, data.length - 3, 10).unsafeArray()).containsExactly(data[data.length - 3],
                        data[data.length - 2], data[data.length - 1]);
                assertThat(readNewest(view, data.length, 10).length()).isZero();
                assertThat(view.readSnapshot(meta, 5, 10).orElseThrow())
                        .isEqualTo(new SnapshotChunk(Bytes.wrap(Arrays.copyOfRange(data, 5, 15)), data.length, crc32c(data)));
                assertThatThrownBy(() -> view.readSnapshot(meta, data.length + 1, 10)).isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> view.readSnapshot(meta, -1, 10)).isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> view.readSnapshot(meta, 0, 0)).isInstanceOf(IllegalArgumentException.class);
                assertThat(view.readSnapshot(new SnapshotMeta(21, 1, VOTERS), 0, 10)).as("not stored").isEmpty();
                assertThat(view.readSnapshot(new SnapshotMeta(20, 1, ClusterConfig.of(9)), 0, 10)).as("other voters").isEmpty();
                assertThat(view.lastIndex()).isEqualTo(30);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void aChunkIsReadFromTheSnapshotItNamesOrNotAtAll() throws IOException {
        // A sender pinned to a snapshot must never get a newer one's bytes under the older one's label.
        Storage s = create();
        appendLog(s, 30);
        SnapshotMeta older = new SnapshotMeta(10, 1, VOTERS);
        byte[] olderData = snapshotData(3000, 1);
        writeSnapshot(s, older, olderData);
        assertThat(s.readSnapshot(older, 0, 100).orElseThrow().data()).isEqualTo(Bytes.wrap(Arrays.copyOf(olderData, 100)));

        writeSnapshot(s, new SnapshotMeta(20, 1, VOTERS), snapshotData(2000, 2));
        Optional<SnapshotChunk> more = s.readSnapshot(older, 100, 3000);
        if (more.isPresent()) { // a storage that keeps the one before the newest still serves it, whole
            assertThat(more.get()).isEqualTo(new SnapshotChunk(Bytes.wrap(Arrays.copyOfRange(olderData, 100, 3000)),
                    olderData.length, crc32c(olderData)));
        }
        writeSnapshot(s, new SnapshotMeta(25, 1, VOTERS), snapshotData(1000, 3));
        assertThat(s.readSnapshot(older, 100, 3000)).as("two snapshots later it is gone").isEmpty();
    }

    static int crc32c(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    @Test
    void anEmptySnapshotIsASnapshot() throws IOException {
        Storage s = create();
        appendLog(s, 3);
        writeSnapshot(s, new SnapshotMeta(3, 1, VOTERS), new byte[0]);
        s = reopen(s);
        assertThat(s.latestSnapshot()).contains(new SnapshotMeta(3, 1, VOTERS));
        assertThat(s.snapshotSize()).isZero();
        assertThat(readNewest(s, 0, 10).length()).isZero();
        assertThat(readStream(s)).isEmpty();
    }

    @Test
    void aSnapshotIsInvisibleUntilCommittedAndAbortingLeavesNothing() throws IOException {
        Storage s = create();
        appendLog(s, 30);
        SnapshotMeta first = new SnapshotMeta(10, 1, VOTERS);
        writeSnapshot(s, first, snapshotData(1000, 1));

        SnapshotSink pending = s.beginSnapshot(new SnapshotMeta(20, 1, VOTERS));
        pending.out().write(snapshotData(5000, 2));
        assertThat(s.latestSnapshot()).contains(first);
        assertThat(s.snapshotSize()).isEqualTo(1000);
        pending.abort();
        pending.abort();
        assertThatThrownBy(() -> pending.out().write(1)).isInstanceOf(IOException.class);
        assertThatThrownBy(pending::commit).isInstanceOf(IllegalStateException.class);

        try (SnapshotSink closedWithoutCommit = s.beginSnapshot(new SnapshotMeta(25, 1, VOTERS))) {
            closedWithoutCommit.out().write(snapshotData(5000, 3));
            closedWithoutCommit.out().close();
        }
        s = reopen(s);
        assertThat(s.latestSnapshot()).contains(first);
        assertThat(readStream(s)).isEqualTo(snapshotData(1000, 1));
    }

    @Test
    void snapshotsOnlyMoveForward() throws IOException {
        Storage s = create();
        appendLog(s, 30);
        SnapshotMeta at20 = new SnapshotMeta(20, 1, VOTERS);
        writeSnapshot(s, at20, snapshotData(100, 1));
        assertThatThrownBy(() -> s.beginSnapshot(new SnapshotMeta(10, 1, VOTERS))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.beginSnapshot(new SnapshotMeta(20, 2, VOTERS))).isInstanceOf(IllegalArgumentException.class);

        // Two writers at once: the one that commits second loses if it is older.
        SnapshotSink slow = s.beginSnapshot(new SnapshotMeta(25, 1, VOTERS));
        slow.out().write(snapshotData(100, 2));
        SnapshotMeta at30 = new SnapshotMeta(30, 1, ClusterConfig.of(1, 2, 3, 4, 5));
        writeSnapshot(s, at30, snapshotData(200, 3));
        assertThatThrownBy(slow::commit).isInstanceOf(IllegalStateException.class);

        // The same snapshot again (a leader resending it) simply replaces it.
        writeSnapshot(s, at30, snapshotData(200, 3));
        Storage reopened = reopen(s);
        assertThat(reopened.latestSnapshot()).contains(at30);
        assertThat(reopened.latestSnapshot().orElseThrow().config().voters()).containsExactly(1, 2, 3, 4, 5);
        assertThat(readStream(reopened)).isEqualTo(snapshotData(200, 3));
    }

    @Test
    void compactionForgetsThePrefixButKeepsTheTermAtItsEnd() {
        Storage s = create();
        s.saveHardState(new HardState(2, 0));
        s.append(entries(1, 40, 1));
        s.append(entries(41, 100, 2));
        s.sync();
        writeSnapshot(s, new SnapshotMeta(60, 2, VOTERS), snapshotData(100, 1));
        s.compact(60);
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.firstIndex()).isEqualTo(61);
            assertThat(view.lastIndex()).isEqualTo(100);
            assertThat(view.term(60)).isEqualTo(2);
            assertThat(view.entries(61, 101, Long.MAX_VALUE)).containsExactlyElementsOf(entries(61, 100, 2));
            assertThatThrownBy(() -> view.term(59)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> view.entries(60, 62, Long.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> view.append(entries(60, 61, 2))).isInstanceOf(IllegalArgumentException.class);
            assertThat(view.isEmpty()).isFalse();
        });
        s.append(entries(101, 110, 2));
        s.append(entries(105, 106, 2));
        assertThat(s.entries(61, 107, Long.MAX_VALUE)).containsExactlyElementsOf(entries(61, 106, 2));
        // Overwriting the whole remaining log is allowed.
        s.saveHardState(new HardState(3, 0));
        s.append(entries(61, 62, 3));
        assertThat(s.lastIndex()).isEqualTo(62);
        assertThat(s.term(60)).isEqualTo(2);
    }

    @Test
    void compactionMayStopShortOfTheSnapshotAndIsIdempotent() {
        Storage s = create();
        appendLog(s, 100);
        writeSnapshot(s, new SnapshotMeta(80, 1, VOTERS), snapshotData(10, 1));
        s.compact(50);
        assertThat(s.firstIndex()).isEqualTo(51);
        assertThat(s.term(50)).isEqualTo(1);
        s.compact(30);
        s.compact(50);
        assertThat(s.firstIndex()).isEqualTo(51);
        s.compact(80);
        assertThat(s.firstIndex()).isEqualTo(81);
        assertThat(s.entries(81, 101, Long.MAX_VALUE)).containsExactlyElementsOf(entries(81, 100, 1));
    }

    @Test
    void compactionBeyondTheSnapshotOrTheLogIsRefused() {
        Storage s = create();
        appendLog(s, 50);
        assertThatThrownBy(() -> s.compact(10)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no snapshot");
        writeSnapshot(s, new SnapshotMeta(30, 1, VOTERS), snapshotData(10, 1));
        assertThatThrownBy(() -> s.compact(31)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beyond the newest snapshot");
        assertThat(s.firstIndex()).isEqualTo(1);
    }

    @Test
    void compactionBeyondTheLogIsRefused() {
        Storage s = create();
        appendLog(s, 10);
        writeSnapshot(s, new SnapshotMeta(20, 1, VOTERS), snapshotData(10, 1));
        assertThatThrownBy(() -> s.compact(20)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends at 10");
    }

    @Test
    void resetToASnapshotTheLogHoldsKeepsTheEntriesAfterIt() {
        Storage s = create();
        appendLog(s, 50);
        SnapshotMeta meta = new SnapshotMeta(30, 1, VOTERS);
        writeSnapshot(s, meta, snapshotData(10, 1));
        s.resetToSnapshot(meta);
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.firstIndex()).isEqualTo(31);
            assertThat(view.lastIndex()).isEqualTo(50);
            assertThat(view.term(30)).isEqualTo(1);
            assertThat(view.entries(31, 51, Long.MAX_VALUE)).containsExactlyElementsOf(entries(31, 50, 1));
        });
    }

    @Test
    void resetToASnapshotWhoseEntryHasAnotherTermDropsTheLog() {
        Storage s = create();
        appendLog(s, 50);
        s.saveHardState(new HardState(2, 0));
        SnapshotMeta meta = new SnapshotMeta(40, 2, VOTERS);
        writeSnapshot(s, meta, snapshotData(10, 1));
        s.resetToSnapshot(meta);
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.firstIndex()).isEqualTo(41);
            assertThat(view.lastIndex()).isEqualTo(40);
            assertThat(view.term(40)).isEqualTo(2);
            assertThat(view.entries(41, 41, Long.MAX_VALUE)).isEmpty();
        });
        s.append(entries(41, 45, 2));
        s.sync();
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.entries(41, 46, Long.MAX_VALUE)).containsExactlyElementsOf(entries(41, 45, 2));
            assertThat(view.term(40)).isEqualTo(2);
        });
    }

    @Test
    void aFreshNodeStartsFromALeadersSnapshot() throws IOException {
        Storage s = create();
        SnapshotMeta meta = new SnapshotMeta(1000, 3, VOTERS);
        writeSnapshot(s, meta, snapshotData(5000, 4));
        s.saveHardState(new HardState(3, 0));
        s.sync();
        s.resetToSnapshot(meta);
        s.bootstrap(ClusterConfig.of(9));
        s = checkBeforeAndAfterReopen(s, view -> {
            assertThat(view.isEmpty()).isFalse();
            assertThat(view.firstIndex()).isEqualTo(1001);
            assertThat(view.lastIndex()).isEqualTo(1000);
            assertThat(view.term(1000)).isEqualTo(3);
        });
        assertThat(readStream(s)).isEqualTo(snapshotData(5000, 4));
        s.append(entries(1001, 1003, 3));
        assertThat(s.entries(1001, 1004, Long.MAX_VALUE)).containsExactlyElementsOf(entries(1001, 1003, 3));
    }

    @Test
    void resetNeedsTheSnapshotCommittedFirst() {
        Storage s = create();
        appendLog(s, 50);
        assertThatThrownBy(() -> s.resetToSnapshot(new SnapshotMeta(30, 1, VOTERS))).isInstanceOf(IllegalArgumentException.class);
        writeSnapshot(s, new SnapshotMeta(30, 1, VOTERS), snapshotData(10, 1));
        assertThatThrownBy(() -> s.resetToSnapshot(new SnapshotMeta(40, 1, VOTERS))).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.firstIndex()).isEqualTo(1);
        assertThat(s.lastIndex()).isEqualTo(50);
    }

    @Test
    void aSnapshotWrittenOnAnotherThreadDoesNotDisturbAppends() throws Exception {
        Storage s = create();
        appendLog(s, 100);
        SnapshotMeta meta = new SnapshotMeta(100, 1, VOTERS);
        byte[] data = snapshotData(4 << 20, 5);
        SnapshotSink sink = s.beginSnapshot(meta);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                for (int at = 0; at < data.length; at += 4096) {
                    sink.out().write(data, at, 4096);
                }
                sink.commit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        long last = 100;
        while (!writer.isDone() || last < 300) {
            s.append(entries(last + 1, last + 10, 1));
            s.sync();
            last += 10;
        }
        writer.get(30, TimeUnit.SECONDS);
        assertThat(s.latestSnapshot()).isEqualTo(Optional.of(meta));
        s.compact(100);
        Storage reopened = reopen(s);
        assertThat(reopened.firstIndex()).isEqualTo(101);
        assertThat(reopened.entries(101, last + 1, Long.MAX_VALUE)).containsExactlyElementsOf(entries(101, last, 1));
        assertThat(readInChunks(reopened, 1 << 20)).isEqualTo(data);
    }
}
