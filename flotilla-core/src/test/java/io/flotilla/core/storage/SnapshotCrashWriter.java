package io.flotilla.core.storage;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.HardState;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child-process main for {@link SnapshotCrashTest}: like {@link CrashWriter} it appends batches in term
 * {@code term} after index {@code acked} and prints {@code ACK <from> <to> <term>} after each sync; in
 * addition a second thread keeps writing a snapshot of the last acknowledged index (its data derived
 * from that index, see {@link #snapshotData}) and prints {@code SNAP <index>} once it is committed,
 * and the appending thread then compacts the log to it. Runs until killed, or for at most a minute.
 */
public final class SnapshotCrashWriter {
    static final DurableStorage.Options OPTIONS = DurableStorage.Options.defaults().withSegmentBytes(16 * 1024);
    static final int SNAPSHOT_EVERY = 300;

    private SnapshotCrashWriter() {
    }

    static byte[] snapshotData(long index) {
        byte[] data = new byte[100_000 + (int) (index % 1000) * 300];
        new SplittableRandom(index).nextBytes(data);
        return data;
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long term = Long.parseLong(args[1]);
        long acked = Long.parseLong(args[2]);
        PrintStream out = System.out;
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (DurableStorage s = DurableStorage.open(dir, TestEntries.IDENTITY, OPTIONS)) {
            if (s.lastIndex() < acked) {
                out.println("LOST " + s.lastIndex() + " < " + acked);
                System.exit(3);
            }
            s.saveHardState(new HardState(term, TestEntries.IDENTITY.nodeId()));
            AtomicLong committed = new AtomicLong(s.latestSnapshot().map(SnapshotMeta::index).orElse(0L));
            long lastStarted = committed.get();
            CompletableFuture<Void> snapshotting = CompletableFuture.completedFuture(null);
            SplittableRandom random = new SplittableRandom(term);
            long next = acked + 1;
            while (System.nanoTime() < deadline) {
                long last = next + random.nextInt(30);
                s.append(TestEntries.entries(next, last, term));
                s.sync();
                out.println("ACK " + next + " " + last + " " + term);
                next = last + 1;
                if (snapshotting.isDone() && last - lastStarted >= SNAPSHOT_EVERY) {
                    snapshotting.join();
                    SnapshotMeta meta = new SnapshotMeta(last, s.term(last), ClusterConfig.of(1, 2, 3));
                    lastStarted = last;
                    snapshotting = CompletableFuture.runAsync(() -> {
                        write(s, meta);
                        out.println("SNAP " + meta.index());
                        committed.set(meta.index());
                    });
                }
                if (committed.get() >= s.firstIndex()) {
                    s.compact(committed.get());
                }
            }
        }
    }

    private static void write(DurableStorage s, SnapshotMeta meta) {
        byte[] data = snapshotData(meta.index());
        try (SnapshotSink sink = s.beginSnapshot(meta)) {
            for (int at = 0; at < data.length; at += 4096) {
                sink.out().write(data, at, Math.min(4096, data.length - at));
            }
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
