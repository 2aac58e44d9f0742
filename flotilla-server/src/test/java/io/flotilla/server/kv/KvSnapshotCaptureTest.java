package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.StateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Snapshots captured while writes go on (the map is frozen, not copied, see {@link FreezableMap}):
 * each writes the state at its capture, byte for byte what a replica that stopped there writes.
 */
class KvSnapshotCaptureTest {
    private static final int KEYS = 300;
    private final KvStateMachine kv = new KvStateMachine();
    /** Fed every command and never captured: the state as a plain map holds it. */
    private final KvStateMachine latest = new KvStateMachine();
    private final List<KvCommand> log = new ArrayList<>();
    private final Random random = new Random(7);
    private final ExecutorService writerThread = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopWriter() {
        writerThread.shutdownNow();
    }

    private static Bytes key(int i) {
        return Bytes.utf8(String.format("k%05d", i));
    }

    private Response apply(Request.Write write) {
        KvCommand command = new KvCommand.Write(1, write);
        log.add(command);
        Response answer = kv.apply(log.size(), command);
        assertThat(answer).as("answer at index %d", log.size()).isEqualTo(latest.apply(log.size(), command));
        return answer;
    }

    private Session session() {
        long seq = log.size() + 1;
        return new Session(1, seq, seq);
    }

    private Response set(int key, String value) {
        return apply(new Request.Set(session(), key(key), Bytes.utf8(value)));
    }

    private Response delete(int key) {
        return apply(new Request.Delete(session(), key(key)));
    }

    private Response cas(int key, String expected, String value) {
        return apply(new Request.Cas(session(), key(key), Optional.ofNullable(expected).map(Bytes::utf8), Bytes.utf8(value)));
    }

    /** A write of any kind to any key, often one that exists. */
    private void randomWrite() {
        int key = random.nextInt(KEYS * 2);
        switch (random.nextInt(4)) {
            case 0 -> set(key, "r" + log.size());
            case 1 -> delete(key);
            case 2 -> cas(key, null, "c" + log.size());
            default -> {
                Response current = kv.query(new Request.Get(key(key), false));
                cas(key, current instanceof Response.Value v ? v.value().utf8() : null, "c" + log.size());
            }
        }
    }

    private void fill(int keys) {
        for (int i = 0; i < keys; i++) {
            set(i, "v" + i + "-".repeat(100));
        }
    }

    /** What a replica that applied the first {@code entries} commands and nothing else writes. */
    private byte[] expectedAt(int entries) throws IOException {
        KvStateMachine replica = new KvStateMachine();
        for (int i = 0; i < entries; i++) {
            replica.apply(i + 1, log.get(i));
        }
        return written(replica.snapshot());
    }

    private static byte[] written(StateMachine.Snapshot snapshot) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snapshot.writeTo(out);
        return out.toByteArray();
    }

    /** Reads and size see every write applied, whatever is captured. */
    private void assertReadsSeeTheLatestState() {
        assertThat(kv.size()).isEqualTo(latest.size());
        for (int i = 0; i < KEYS * 2; i++) {
            Request.Get get = new Request.Get(key(i), false);
            assertThat(kv.query(get)).as("key %d", i).isEqualTo(latest.query(get));
        }
    }

    /**
     * Writes until the overlay is folded back into the map, no more writes than its size allows (sets
     * and deletes: each reaches the map, unlike a CAS that misses, and folds a few entries).
     */
    private void assertTheOverlayDrains() {
        int bound = kv.overlaySize() / FreezableMap.FOLD_STEP + 1;
        for (int writes = 0; kv.overlaySize() > 0; writes++) {
            assertThat(writes).as("writes to fold back the overlay").isLessThan(bound);
            int key = random.nextInt(KEYS * 2);
            if (random.nextBoolean()) {
                set(key, "d" + log.size());
            } else {
                delete(key);
            }
        }
        assertReadsSeeTheLatestState();
    }

    @Test
    void aSnapshotWrittenAfterLaterWritesHoldsTheStateAtCapture() throws IOException {
        fill(KEYS);
        StateMachine.Snapshot snapshot = kv.snapshot();
        int captured = log.size();
        set(1, "overwritten");
        delete(2);
        assertThat(cas(3, "v3" + "-".repeat(100), "swapped")).isEqualTo(Response.OK);
        assertThat(cas(4, "wrong", "never")).isEqualTo(Response.CAS_MISMATCH);
        assertThat(cas(KEYS, null, "created")).isEqualTo(Response.OK);
        delete(5);
        set(5, "reinserted");
        delete(6);
        assertThat(cas(6, null, "reinserted by cas")).isEqualTo(Response.OK);
        set(KEYS + 1, "inserted then deleted");
        delete(KEYS + 1);
        assertThat(delete(KEYS + 2)).isEqualTo(Response.NOT_FOUND);
        assertReadsSeeTheLatestState();
        assertThat(kv.size()).isEqualTo(KEYS); // one deleted, one created

        byte[] bytes = written(snapshot);
        assertThat(bytes).isEqualTo(expectedAt(captured));
        assertThat(kv.overlaySize()).isEqualTo(7);
        assertTheOverlayDrains();

        kv.restore(new ByteArrayInputStream(bytes));
        assertThat(written(kv.snapshot())).isEqualTo(bytes);
        assertThat(kv.size()).isEqualTo(KEYS);
        assertThat(kv.query(new Request.Get(key(2), false))).isEqualTo(new Response.Value(Bytes.utf8("v2" + "-".repeat(100))));
    }

    /** The bytes the store wrote when a capture copied the map (commit ce9b1a5): every node must write the same. */
    @Test
    void theBytesAreThoseWrittenBeforeCapturesFroze() throws IOException {
        KvStateMachine store = new KvStateMachine();
        store.apply(1, new KvCommand.Write(1000, new Request.Set(new Session(1, 1, 1), Bytes.utf8("b"), Bytes.utf8("2"))));
        store.apply(2, new KvCommand.Write(1000, new Request.Set(new Session(1, 2, 2), Bytes.utf8("a"), Bytes.utf8("1"))));
        store.apply(3, new KvCommand.Write(1000, new Request.Set(new Session(1, 3, 3), Bytes.utf8("c"), Bytes.utf8("3"))));
        store.apply(4, new KvCommand.Write(1001, new Request.Delete(new Session(1, 4, 4), Bytes.utf8("c"))));
        StateMachine.Snapshot snapshot = store.snapshot();
        store.apply(5, new KvCommand.Write(1002, new Request.Set(new Session(1, 5, 5), Bytes.utf8("a"), Bytes.utf8("x"))));
        String expected = "00000002" + "00000000000003e9" // version, log time
                + "00000000000927c0" + "000186a0" + "00002710" + "000f4240" // session limits
                + "00000002" + "00000001" + "61" + "00000001" + "31" + "00000001" + "62" + "00000001" + "32" // 2 keys: a=1, b=2
                + "00000001" + "0000000000000001" + "00000000000003e9" + "0000000000000004" + "0000000000000000" // the sessions
                + "00000001" + "0000000000000004" + "00" + "00000000";
        assertThat(HexFormat.of().formatHex(written(snapshot))).isEqualTo(expected);
    }

    @Test
    void writesBetweenTheWritersStepsDoNotReachTheSnapshot() throws IOException {
        fill(2000); // ~250 kB: the writer hands the stream a chunk of 64 kB at a time, writes go on between them
        StateMachine.Snapshot snapshot = kv.snapshot();
        int captured = log.size();
        int[] chunks = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        snapshot.writeTo(new FilterOutputStream(bytes) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                chunks[0]++;
                for (int i = 0; i < 300; i++) {
                    randomWrite();
                }
                out.write(b, off, len);
            }
        });
        assertThat(chunks[0]).isGreaterThan(2);
        assertThat(bytes.toByteArray()).isEqualTo(expectedAt(captured));
        assertReadsSeeTheLatestState();
        assertTheOverlayDrains();
        assertThat(written(kv.snapshot())).isEqualTo(expectedAt(log.size()));
    }

    /**
     * A stream that holds its writer at the first chunk (after its pass over the map) until released;
     * the latches keep the test free of sleeps.
     */
    private static final class HeldStream extends FilterOutputStream {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);

        HeldStream() {
            super(new ByteArrayOutputStream());
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            started.countDown();
            try {
                if (!go.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("never released");
                }
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            out.write(b, off, len);
        }

        byte[] bytes() {
            return ((ByteArrayOutputStream) out).toByteArray();
        }
    }

    private CompletableFuture<Void> writeOnAnotherThread(StateMachine.Snapshot snapshot, HeldStream stream) throws Exception {
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            try {
                snapshot.writeTo(stream);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, writerThread);
        assertThat(stream.started.await(30, TimeUnit.SECONDS)).as("the writer started").isTrue();
        return done;
    }

    @Test
    void aWriterOnAnotherThreadRacesWithApplies() throws Exception {
        fill(20_000);
        for (int round = 0; round < 5; round++) {
            StateMachine.Snapshot snapshot = kv.snapshot();
            int captured = log.size();
            CountDownLatch go = new CountDownLatch(1);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                    snapshot.writeTo(bytes);
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, writerThread);
            go.countDown();
            // From its pass over the map (while it holds it) to the last byte, as long as it runs.
            for (int i = 0; i < 200_000 && !done.isDone(); i++) {
                randomWrite();
            }
            done.get(60, TimeUnit.SECONDS);
            assertThat(bytes.toByteArray()).as("round %d", round).isEqualTo(expectedAt(captured));
            assertReadsSeeTheLatestState();
        }
        assertTheOverlayDrains();
    }

    @Test
    void aSecondCaptureWhileTheFirstIsBeingWrittenIsCorrect() throws Exception {
        fill(KEYS);
        StateMachine.Snapshot first = kv.snapshot();
        int firstAt = log.size();
        HeldStream stream = new HeldStream();
        CompletableFuture<Void> done = writeOnAnotherThread(first, stream);
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        StateMachine.Snapshot second = kv.snapshot();
        int secondAt = log.size();
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        assertThat(kv.overlaySize()).as("held by the second, not yet written").isPositive();
        assertThat(written(second)).isEqualTo(expectedAt(secondAt));
        stream.go.countDown();
        done.get(30, TimeUnit.SECONDS);
        assertThat(stream.bytes()).isEqualTo(expectedAt(firstAt));
        assertTheOverlayDrains();
        assertThat(written(kv.snapshot())).isEqualTo(expectedAt(log.size()));
    }

    @Test
    void aSecondCaptureAfterOneNeverWrittenIsCorrectAndTheFirstCannotBeWritten() throws IOException {
        fill(KEYS);
        StateMachine.Snapshot abandoned = kv.snapshot(); // the node stopped, or could not open the snapshot file
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        StateMachine.Snapshot second = kv.snapshot();
        int secondAt = log.size();
        assertThat(kv.overlaySize()).isZero();
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        assertThat(written(second)).isEqualTo(expectedAt(secondAt));
        assertThatThrownBy(() -> written(abandoned)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> written(second)).isInstanceOf(IllegalStateException.class).hasMessageContaining("written once");
        assertTheOverlayDrains();
    }

    @Test
    void aWriterThatThrowsStillReleasesTheMap() throws IOException {
        fill(2000);
        StateMachine.Snapshot failing = kv.snapshot();
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        assertThatThrownBy(() -> failing.writeTo(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full");
            }
        })).isInstanceOf(IOException.class).hasMessage("disk full");
        assertThat(kv.overlaySize()).isPositive();
        assertTheOverlayDrains();
        assertThat(written(kv.snapshot())).isEqualTo(expectedAt(log.size()));
    }

    @Test
    void aRestoreBeforeACapturedSnapshotIsWrittenLeavesItTheStateAtCapture() throws IOException {
        fill(KEYS);
        StateMachine.Snapshot captured = kv.snapshot();
        byte[] expected = expectedAt(log.size());
        byte[] empty = written(new KvStateMachine().snapshot());
        kv.restore(new ByteArrayInputStream(empty));
        latest.restore(new ByteArrayInputStream(empty));
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        assertReadsSeeTheLatestState();
        assertThat(written(captured)).isEqualTo(expected);
        assertThat(written(kv.snapshot())).isEqualTo(written(latest.snapshot()));
    }

    @Test
    void aRestoreWhileSnapshotsAreOutLeavesEachItsStateAndTheStoreTheRestoredOne() throws Exception {
        fill(KEYS);
        StateMachine.Snapshot first = kv.snapshot();
        byte[] expectedFirst = expectedAt(log.size());
        HeldStream stream = new HeldStream();
        CompletableFuture<Void> done = writeOnAnotherThread(first, stream);
        StateMachine.Snapshot pending = kv.snapshot(); // holds the map until written, after the restore
        byte[] expectedPending = expectedAt(log.size());

        KvStateMachine other = new KvStateMachine();
        other.apply(1, new KvCommand.Write(1, new Request.Set(new Session(9, 1, 1), key(0), Bytes.utf8("from a leader"))));
        byte[] leaders = written(other.snapshot());
        kv.restore(new ByteArrayInputStream(leaders)); // a leader's snapshot installed while ours is written
        latest.restore(new ByteArrayInputStream(leaders));
        assertThat(kv.size()).isEqualTo(1);
        for (int i = 0; i < 500; i++) {
            randomWrite();
        }
        assertReadsSeeTheLatestState();

        stream.go.countDown();
        done.get(30, TimeUnit.SECONDS);
        assertThat(stream.bytes()).isEqualTo(expectedFirst);
        assertThat(written(pending)).isEqualTo(expectedPending);
        assertTheOverlayDrains();
        assertThat(written(kv.snapshot())).isEqualTo(written(latest.snapshot()));
    }
}
