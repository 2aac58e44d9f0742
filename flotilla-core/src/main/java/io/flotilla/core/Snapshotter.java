package io.flotilla.core;

import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.protocol.RaftNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine's side of snapshots (Raft §7): restores it at start, takes a snapshot every so
 * many entries (captured on the node's thread, written on another while entries keep being
 * applied) and compacts the log behind it, takes one at once when asked (a backup), and installs the
 * snapshots a leader sends.
 */
final class Snapshotter {
    private static final Logger log = LoggerFactory.getLogger(Snapshotter.class);

    private final RaftNode node;
    private final Storage storage;
    private final StateMachine<?, ?, ?> stateMachine;
    private final Snapshotting settings;
    private final RaftMetrics metrics;
    private boolean writing;
    private long lastIndex;
    private SnapshotSink incoming;
    /** When the first chunk of {@link #incoming} arrived (System.nanoTime), for its log line. */
    private long incomingStarted;
    /** Requests for a snapshot covering an index ({@link #requestNow}), waiting for one to be written. */
    private final List<Waiter> waiters = new ArrayList<>();
    /** The applied index and its term as of the last {@link #maybeTake} or {@link #requestNow}. */
    private long seenApplied;
    private long seenTerm;

    private record Waiter(long atLeast, NodeDriver.Callback<SnapshotMeta> callback) {
    }

    Snapshotter(RaftNode node, Storage storage, StateMachine<?, ?, ?> stateMachine, Snapshotting settings, RaftMetrics metrics) {
        this.node = node;
        this.metrics = metrics;
        this.storage = storage;
        this.stateMachine = stateMachine;
        this.settings = settings;
    }

    /** Restores the state machine from the newest snapshot, if any; returns the index it covers (0 if none). */
    long restoreAtStart() {
        SnapshotMeta meta = storage.latestSnapshot().orElse(null);
        if (meta == null) {
            return 0;
        }
        restore(meta);
        lastIndex = meta.index();
        return meta.index();
    }

    /**
     * Called after applying up to {@code applied}: starts a snapshot if enough entries went by, unless
     * the node is streaming its current one to a follower (a new one would restart that transfer), or
     * if a snapshot was asked for ({@link #requestNow}) and none is being written.
     */
    void maybeTake(long applied, long appliedTerm) {
        seenApplied = applied;
        seenTerm = appliedTerm;
        if (writing || appliedTerm == 0) {
            return;
        }
        if (!waiters.isEmpty()) {
            take(applied, appliedTerm);
            return;
        }
        if (settings.intervalEntries() == 0 || applied - lastIndex < settings.intervalEntries() || node.sendingSnapshot()) {
            return;
        }
        take(applied, appliedTerm);
    }

    /**
     * Asks for a snapshot that covers {@code atLeast} (at most {@code applied}, the index applied now):
     * the newest stored one if it does, else one taken at once (after the one being written, if any),
     * whatever the interval and even while a follower is sent the current one. {@code callback}
     * completes on the node's thread once the snapshot is committed, or fails if it could not be written.
     */
    void requestNow(long atLeast, long applied, long appliedTerm, NodeDriver.Callback<SnapshotMeta> callback) {
        Optional<SnapshotMeta> newest = storage.latestSnapshot();
        if (newest.isPresent() && newest.get().index() >= atLeast) {
            callback.complete(newest.get(), newest.get().index());
            return;
        }
        if (appliedTerm == 0) { // nothing applied since the start, yet no snapshot covers it: cannot happen
            callback.fail(new RaftException("node " + node.id() + " has applied nothing to take a snapshot of yet; retry"));
            return;
        }
        seenApplied = applied;
        seenTerm = appliedTerm;
        waiters.add(new Waiter(atLeast, callback));
        if (!writing) {
            take(applied, appliedTerm);
        }
    }

    /** Fails every {@link #requestNow} still waiting (the node stops). */
    void failRequests(RuntimeException error) {
        List<Waiter> failing = new ArrayList<>(waiters);
        waiters.clear();
        failing.forEach(w -> w.callback().fail(error));
    }

    private void take(long applied, long appliedTerm) {
        SnapshotMeta meta = new SnapshotMeta(applied, appliedTerm, node.membersAt(applied));
        StateMachine.Snapshot captured = stateMachine.snapshot();
        SnapshotSink sink;
        try {
            sink = storage.beginSnapshot(meta);
        } catch (IOException | IllegalArgumentException e) { // the latter: a newer snapshot was installed meanwhile
            log.warn("node {}: cannot start a snapshot at index {}: {}", node.id(), applied, e.getMessage());
            failRequests(new RaftException("node " + node.id() + " cannot start a snapshot at index " + applied + ": " + e.getMessage()));
            return;
        }
        writing = true;
        long started = System.nanoTime();
        settings.writer().execute(() -> {
            IOException failure = null;
            try {
                captured.writeTo(sink.out());
                sink.commit();
            } catch (IOException | RuntimeException e) {
                sink.abort();
                failure = e instanceof IOException io ? io : new IOException(e);
            }
            IOException error = failure;
            settings.nodeThread().accept(() -> written(meta, sink.size(), System.nanoTime() - started, error));
        });
    }

    private void written(SnapshotMeta meta, long bytes, long nanos, IOException error) {
        writing = false;
        if (error != null) {
            log.warn("node {}: snapshot at index {} failed: {}", node.id(), meta.index(), error.getMessage());
            failRequests(new RaftException("node " + node.id() + ": the snapshot at index " + meta.index() + " failed: "
                    + error.getMessage()));
            return;
        }
        lastIndex = meta.index();
        long compactTo = Math.max(storage.firstIndex() - 1, meta.index() - settings.trailingEntries());
        if (compactTo >= storage.firstIndex()) {
            storage.compact(compactTo);
        }
        log.info("node {}: snapshot at index {} of term {} ({} bytes in {} ms); log starts at {}", node.id(), meta.index(), meta.term(),
                bytes, nanos / 1_000_000, storage.firstIndex());
        metrics.snapshotTaken(bytes, nanos);
        if (!waiters.isEmpty()) {
            List<Waiter> covered = waiters.stream().filter(w -> w.atLeast() <= meta.index()).toList();
            waiters.removeAll(covered);
            covered.forEach(w -> w.callback().complete(meta, meta.index()));
            if (!waiters.isEmpty() && seenTerm != 0) {
                take(seenApplied, seenTerm); // asked for while this one was written, for a later index
            }
        }
    }

    /**
     * Writes a chunk a leader sent; after the last one, commits the snapshot, resets the log to it
     * and restores the state machine. Returns the index now applied, or 0 if not done yet.
     * The protocol core hands out only chunks that match the checksum they carry (SnapshotReceiver).
     */
    long receive(InstallSnapshot chunk) {
        long bytes;
        try {
            if (chunk.offset() == 0) {
                if (incoming != null) {
                    incoming.abort();
                }
                incoming = storage.beginSnapshot(chunk.meta());
                incomingStarted = System.nanoTime();
            }
            incoming.out().write(chunk.chunk().unsafeArray());
            if (!chunk.done()) {
                return 0;
            }
            bytes = incoming.size();
            incoming.commit();
            incoming = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the snapshot received from node " + chunk.from(), e);
        }
        SnapshotMeta meta = chunk.meta();
        storage.resetToSnapshot(meta);
        restore(meta);
        lastIndex = meta.index();
        log.info("node {}: installed the snapshot at index {} of term {} sent by leader {} ({} bytes in {} ms)", node.id(), meta.index(),
                meta.term(), chunk.from(), bytes, (System.nanoTime() - incomingStarted) / 1_000_000);
        metrics.snapshotInstalled(bytes, System.nanoTime() - incomingStarted);
        return meta.index();
    }

    private void restore(SnapshotMeta meta) {
        try (InputStream in = storage.openSnapshot()) {
            stateMachine.restore(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore the state machine from the snapshot at index " + meta.index(), e);
        }
    }
}
