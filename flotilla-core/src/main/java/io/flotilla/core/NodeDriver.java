package io.flotilla.core;

import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.Message;
import io.flotilla.core.protocol.ProposeOutcome;
import io.flotilla.core.protocol.RaftNode;
import io.flotilla.core.protocol.ReadOutcome;
import io.flotilla.core.protocol.Ready;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Carries out a {@link RaftNode}'s effects on one thread, with no clock and no threads of its own:
 * persists and syncs each batch of entries once (group commit), sends messages, applies committed
 * commands to the state machine and completes the callers' callbacks with the results. The runtime
 * wraps it in a thread; the deterministic simulation drives it directly, so both run this code.
 *
 * <p>The writes of one {@link Ready} run where {@link DiskWrites} says, while the node goes on taking
 * events and sending what needs no sync ({@link RaftNode#takeMessages()}); the next Ready waits until
 * they are done. So a batch's sync overlaps the replication of the next, and the entries arriving
 * during a sync form the next batch (group commit).
 *
 * <p>It reads {@link System#nanoTime()} for one purpose only: to time syncs for {@link RaftMetrics},
 * which never steers anything.
 */
final class NodeDriver<C, Q, R> {
    /** Receives the outcome of one proposal or read. */
    interface Callback<R> {
        void complete(R result, long index);

        void fail(RuntimeException error);
    }

    private record PendingProposal<R>(long term, Callback<R> callback) {
    }

    /** A read waiting for its index to be confirmed and applied: a query, or a request for a snapshot. */
    private interface PendingRead {
        /** Runs once every entry up to {@code readIndex} is applied. */
        void serve(long readIndex);

        void fail(RuntimeException error);
    }

    private record WaitingRead(long index, long seq, PendingRead read) {
    }

    private final RaftNode node;
    private final Storage storage;
    private final StateMachine<C, Q, R> stateMachine;
    private final Codec<C> codec;
    private final Consumer<Message> send;
    private final Consumer<Ready.SoftState> roleListener;
    private final Snapshotter snapshotter;
    private final DiskWrites diskWrites;
    private final RaftMetrics metrics;
    /** The Ready whose entries and hard state are being written, if any. */
    private Ready writing;

    private final Map<Long, PendingProposal<R>> proposals = new HashMap<>();
    private final Map<Long, PendingProposal<ClusterConfig>> membershipChanges = new HashMap<>();
    private final Map<Long, PendingRead> reads = new HashMap<>();
    private final PriorityQueue<WaitingRead> readsWaitingForApply = new PriorityQueue<>(
            (a, b) -> a.index != b.index ? Long.compare(a.index, b.index) : Long.compare(a.seq, b.seq));
    private long nextReadId = 1;
    private long applied;
    private long appliedTerm;
    private Ready.SoftState lastRole;

    /** A driver that never takes snapshots (it still installs those a leader sends). */
    NodeDriver(RaftNode node, Storage storage, StateMachine<C, Q, R> stateMachine, Codec<C> codec,
                      Consumer<Message> send, Consumer<Ready.SoftState> roleListener) {
        this(node, storage, stateMachine, codec, send, roleListener, Snapshotting.NEVER);
    }

    /** A driver that writes on the caller's thread and reports nothing to metrics. */
    NodeDriver(RaftNode node, Storage storage, StateMachine<C, Q, R> stateMachine, Codec<C> codec,
                      Consumer<Message> send, Consumer<Ready.SoftState> roleListener, Snapshotting snapshotting) {
        this(node, storage, stateMachine, codec, send, roleListener, snapshotting, DiskWrites.INLINE, RaftMetrics.NONE);
    }

    /**
     * Restores the state machine from storage's newest snapshot, if any; the log after it is applied as
     * it commits. Reports syncs, AppendEntries batches, snapshots and role changes to {@code metrics}
     * (syncs from the {@code diskWrites} writer's thread).
     */
    NodeDriver(RaftNode node, Storage storage, StateMachine<C, Q, R> stateMachine, Codec<C> codec,
                      Consumer<Message> send, Consumer<Ready.SoftState> roleListener, Snapshotting snapshotting,
                      DiskWrites diskWrites, RaftMetrics metrics) {
        this.node = node;
        this.diskWrites = diskWrites;
        this.metrics = metrics;
        this.storage = storage;
        this.stateMachine = stateMachine;
        this.codec = codec;
        this.send = send;
        this.roleListener = roleListener;
        this.snapshotter = new Snapshotter(node, storage, stateMachine, snapshotting, metrics);
        this.applied = Math.max(snapshotter.restoreAtStart(), node.status().appliedIndex());
    }

    RaftNode node() {
        return node;
    }

    long appliedIndex() {
        return applied;
    }

    /** Proposals and reads waiting for an outcome. */
    int pendingRequests() {
        return proposals.size() + membershipChanges.size() + reads.size() + readsWaitingForApply.size();
    }

    void tick() {
        node.tick();
    }

    void receive(Message message) {
        node.step(message);
    }

    void propose(C command, Callback<R> callback) {
        track(node.propose(codec.encode(command)), proposals, callback);
    }

    /** Proposes a membership change; completes with the new configuration once it is committed and applied here. */
    void changeMembership(MembershipChange change, Callback<ClusterConfig> callback) {
        track(node.changeMembership(change), membershipChanges, callback);
    }

    private <T> void track(ProposeOutcome outcome, Map<Long, PendingProposal<T>> pending, Callback<T> callback) {
        if (outcome instanceof ProposeOutcome.Accepted a) {
            // An older proposal at this index was cut from our log while we were not leading. Another
            // node may still hold it and a later leader commit it: only a commit here can tell.
            OutcomeUnknownException replaced = new OutcomeUnknownException("the entry at index " + a.index()
                    + " was replaced in this node's log; whether it was applied elsewhere is unknown");
            failAt(a.index(), proposals, replaced);
            failAt(a.index(), membershipChanges, replaced);
            pending.put(a.index(), new PendingProposal<>(a.term(), callback));
        } else if (outcome instanceof ProposeOutcome.NotLeader n) {
            callback.fail(new NotLeaderException(n.leader()));
        } else if (outcome instanceof ProposeOutcome.Transferring t) {
            callback.fail(new RaftException("leadership is moving to node " + t.transferee() + "; retry there"));
        } else if (outcome instanceof ProposeOutcome.Refused r) {
            callback.fail(r.retrySoon() ? new RaftException(r.reason()) : new ChangeRefusedException(r.reason()));
        }
    }

    private static void failAt(long index, Map<Long, ? extends PendingProposal<?>> pending, RuntimeException error) {
        PendingProposal<?> p = pending.remove(index);
        if (p != null) {
            p.callback().fail(error);
        }
    }

    void read(Q query, Callback<R> callback) {
        long id = nextReadId++;
        reads.put(id, new PendingRead() {
            @Override
            public void serve(long readIndex) {
                callback.complete(stateMachine.query(query), applied);
            }

            @Override
            public void fail(RuntimeException error) {
                callback.fail(error);
            }
        });
        node.read(id);
    }

    /**
     * Completes with a stored snapshot that holds every entry committed when this is called, for a
     * backup: the leader first confirms it still leads (as for a linearizable read), then reuses its
     * newest snapshot if that covers the read's index, else takes one at once. Fails with
     * {@link NotLeaderException} on a follower.
     */
    void snapshotNow(Callback<SnapshotMeta> callback) {
        long id = nextReadId++;
        reads.put(id, new PendingRead() {
            @Override
            public void serve(long readIndex) {
                snapshotter.requestNow(readIndex, applied, appliedTerm, callback);
            }

            @Override
            public void fail(RuntimeException error) {
                callback.fail(error);
            }
        });
        node.read(id);
    }

    /** Runs a query on the state as applied so far, with no check that it is current. */
    R queryLocally(Q query) {
        return stateMachine.query(query);
    }

    /**
     * Carries out every effect the node has, in the order {@link Ready} prescribes: sends what needs
     * no sync at once, and starts the next Ready's writes unless some are still running. Call it after
     * every batch of events.
     */
    void process() {
        send(node.takeMessages());
        while (writing == null && node.hasReady()) {
            Ready ready = node.ready();
            send(ready.messages());
            if (ready.entries().isEmpty() && ready.hardState().equals(storage.hardState())) {
                finish(ready, false);
            } else {
                writing = ready;
                diskWrites.writer().execute(() -> write(ready)); // inline, this has finished it already
            }
        }
    }

    /**
     * On the writer's thread: appends, syncs once, and sends the acknowledgements that promise what
     * was just synced, sparing them a trip through the node's thread (unless a snapshot must be
     * installed first). The rest is the node thread's again. A storage error stops the node there.
     */
    private void write(Ready ready) {
        boolean sendNow = ready.snapshotChunks().isEmpty();
        try {
            storage.append(ready.entries());
            storage.saveHardState(ready.hardState());
            long started = System.nanoTime();
            storage.sync();
            metrics.synced(ready.entries().size(), System.nanoTime() - started);
            if (sendNow) {
                send(ready.messagesAfterSync());
            }
        } catch (RuntimeException | Error e) {
            diskWrites.nodeThread().accept(() -> {
                throw e;
            });
            return;
        }
        diskWrites.nodeThread().accept(() -> written(ready, sendNow));
    }

    private void written(Ready ready, boolean afterSyncSent) {
        if (ready != writing) {
            throw new IllegalStateException("the writes of a Ready that is not being written ended");
        }
        writing = null;
        finish(ready, afterSyncSent);
    }

    /** Everything after the writes, on the node's thread. */
    private void finish(Ready ready, boolean afterSyncSent) {
        for (var chunk : ready.snapshotChunks()) {
            long installed = snapshotter.receive(chunk);
            if (installed > 0) {
                applied = installed;
                appliedTerm = chunk.meta().term();
                failProposalsUpTo(installed);
            }
        }
        if (!afterSyncSent) {
            send(ready.messagesAfterSync());
        }
        ready.committed().forEach(this::apply);
        snapshotter.maybeTake(applied, appliedTerm);
        for (ReadOutcome outcome : ready.reads()) {
            PendingRead read = reads.remove(outcome.id());
            if (outcome instanceof ReadOutcome.Ready r) {
                readsWaitingForApply.add(new WaitingRead(r.index(), outcome.id(), read));
            } else if (outcome instanceof ReadOutcome.NotLeader n) {
                read.fail(new NotLeaderException(n.leader()));
            }
        }
        serveReads();
        if (!ready.role().equals(lastRole)) {
            lastRole = ready.role();
            roleListener.accept(lastRole);
            metrics.roleChanged(lastRole.role(), lastRole.term(), lastRole.leader());
        }
        node.advance(ready);
    }

    private void send(List<Message> messages) {
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            if (m instanceof AppendEntries a && !a.entries().isEmpty()) {
                metrics.appendEntriesSent(a.entries().size());
            }
            send.accept(m);
        }
    }

    private void apply(LogEntry entry) {
        if (entry.index() <= applied) {
            return; // covered by a snapshot installed in the same batch
        }
        PendingProposal<R> proposal = proposals.remove(entry.index());
        PendingProposal<ClusterConfig> change = membershipChanges.remove(entry.index());
        if (entry.type() == EntryType.NORMAL) {
            R result = stateMachine.apply(entry.index(), codec.decode(entry.data()));
            complete(proposal, entry, true, result);
            complete(change, entry, false, null);
        } else {
            complete(proposal, entry, false, null);
            boolean config = entry.type() == EntryType.CONFIG;
            complete(change, entry, config, config ? ClusterConfig.decode(entry.data()) : null);
        }
        applied = entry.index();
        appliedTerm = entry.term();
    }

    /**
     * Completes a proposal whose index was applied: with {@code result} if the entry is the one
     * proposed (its kind and term), as lost if another entry took its place.
     */
    private static <T> void complete(PendingProposal<T> proposal, LogEntry entry, boolean kindMatches, T result) {
        if (proposal == null) {
            return;
        }
        if (kindMatches && proposal.term() == entry.term()) {
            proposal.callback().complete(result, entry.index());
        } else {
            proposal.callback().fail(lost(entry));
        }
    }

    /** Proposals covered by an installed snapshot: whether they made it in is unknown here. */
    private void failProposalsUpTo(long index) {
        failUpTo(index, proposals);
        failUpTo(index, membershipChanges);
    }

    private static void failUpTo(long index, Map<Long, ? extends PendingProposal<?>> pending) {
        pending.entrySet().removeIf(e -> {
            if (e.getKey() <= index) {
                e.getValue().callback().fail(new OutcomeUnknownException("a snapshot from the leader replaced the log here;"
                        + " whether the command at index " + e.getKey() + " was applied is unknown"));
                return true;
            }
            return false;
        });
    }

    private static RaftException lost(LogEntry entry) {
        return new RaftException("a new leader replaced the entry at index " + entry.index() + "; it was not applied");
    }

    private void serveReads() {
        while (!readsWaitingForApply.isEmpty() && readsWaitingForApply.peek().index() <= applied) {
            WaitingRead waiting = readsWaitingForApply.poll();
            waiting.read().serve(waiting.index());
        }
    }

    /**
     * Fails every request still waiting, as when the node stops. Reads fail with {@code error}; a
     * proposal in the log may still be committed by the other nodes, so it fails as outcome unknown.
     */
    void failAll(RaftException error) {
        OutcomeUnknownException unknown = new OutcomeUnknownException(error.getMessage()
                + "; the write was in the log, so it may still be applied");
        proposals.values().forEach(p -> p.callback().fail(unknown));
        membershipChanges.values().forEach(p -> p.callback().fail(unknown));
        membershipChanges.clear();
        reads.values().forEach(r -> r.fail(error));
        readsWaitingForApply.forEach(r -> r.read().fail(error));
        snapshotter.failRequests(error);
        proposals.clear();
        reads.clear();
        readsWaitingForApply.clear();
    }
}
