package io.flotilla.core;

import io.flotilla.core.message.Message;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.RaftNode;
import io.flotilla.core.protocol.Ready;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.protocol.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embeddable Raft node: one thread alone owns the protocol and the state machine, so neither needs
 * a lock. That is a thread of its own, or an embedder's single-threaded event loop
 * ({@link Options#withLoop}), so that messages and requests read on that loop reach the node without
 * waking another thread. Other threads talk to it through a bounded inbox; when the inbox is full,
 * inbound messages are dropped (Raft retries) and requests fail at once. A second thread appends to
 * storage and syncs it, one batch at a time, so that the node goes on ticking, replicating and
 * answering heartbeats while the disk is slow; a third writes snapshots.
 *
 * <p>Futures complete on the node's thread: keep their dependent actions short, or use the
 * {@code *Async} forms of {@link CompletableFuture}.
 *
 * <p>Fail-stop: if anything on the node's thread throws (a storage error such as a failed fsync, or a
 * bug), the node stops for good: it takes no more requests or messages, its {@link #status()} no
 * longer claims a role or a leader, and {@link #failure()} completes with the error. It never exits
 * the process itself; an embedder decides (the server exits). A node that lost its storage's trust
 * must restart and recover from disk, not carry on.
 *
 * @param <C> commands, {@link #propose}d through the log
 * @param <Q> queries, {@link #read} without touching the log
 * @param <R> results of both
 */
public final class RaftRuntime<C, Q, R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RaftRuntime.class);

    /**
     * @param raft          the protocol settings (in ticks)
     * @param tickInterval  the length of one tick
     * @param inboxCapacity events waiting for the node's thread; beyond it, requests are refused
     * @param seed          seeds the election timeouts' randomness
     * @param snapshotEvery take a snapshot every this many applied entries (0: never)
     * @param snapshotTrail entries kept in the log behind a snapshot
     * @param founders      the founding configuration, for a node that may start with empty storage: it
     *                      then asks the other founders before founding the cluster, and halts if the
     *                      cluster exists (see {@link RaftNode#RaftNode(RaftConfig, StorageReader, java.util.random.RandomGenerator, ClusterConfig)});
     *                      null if the storage is always bootstrapped beforehand
     * @param metrics       where the node reports syncs, replication batches, snapshots and role changes
     *                      ({@link RaftMetrics#NONE} for nowhere)
     * @param loop          the single-threaded executor the node runs on (see {@link #withLoop}); null for a
     *                      thread of its own
     */
    public record Options(RaftConfig raft, Duration tickInterval, int inboxCapacity, long seed, long snapshotEvery,
                          long snapshotTrail, ClusterConfig founders, RaftMetrics metrics, ScheduledExecutorService loop) {
        /** The default length of a tick, in ms; {@link RaftConfig} counts its timeouts in ticks. */
        public static final int DEFAULT_TICK_MILLIS = 10;

        public Options {
            if (tickInterval.isNegative() || tickInterval.isZero()) {
                throw new IllegalArgumentException("tickInterval must be positive, got " + tickInterval);
            }
            if (inboxCapacity < 1) {
                throw new IllegalArgumentException("inboxCapacity must be at least 1, got " + inboxCapacity);
            }
            if (snapshotEvery < 0 || snapshotTrail < 0) {
                throw new IllegalArgumentException("snapshotEvery and snapshotTrail must not be negative");
            }
            Objects.requireNonNull(metrics, "metrics (RaftMetrics.NONE for none)");
        }

        /** The same options without automatic snapshots. */
        public Options(RaftConfig raft, Duration tickInterval, int inboxCapacity, long seed) {
            this(raft, tickInterval, inboxCapacity, seed, 0, 0, null, RaftMetrics.NONE, null);
        }

        public Options withSnapshots(long every, long trail) {
            return new Options(raft, tickInterval, inboxCapacity, seed, every, trail, founders, metrics, loop);
        }

        public Options withFounders(ClusterConfig founders) {
            return new Options(raft, tickInterval, inboxCapacity, seed, snapshotEvery, snapshotTrail, founders, metrics, loop);
        }

        public Options withMetrics(RaftMetrics metrics) {
            return new Options(raft, tickInterval, inboxCapacity, seed, snapshotEvery, snapshotTrail, founders, metrics, loop);
        }

        /**
         * Runs the node on {@code loop}, which must run its tasks one at a time on one thread (a Netty
         * event loop, say), instead of on a thread of its own. The node's work then shares that thread
         * with whatever else runs there: a transport whose connections live on the same loop hands
         * messages to the node and sends its messages without waking another thread. Nothing on the
         * loop may wait for the node (it would wait for itself), and the loop must outlive the node.
         */
        public Options withLoop(ScheduledExecutorService loop) {
            return new Options(raft, tickInterval, inboxCapacity, seed, snapshotEvery, snapshotTrail, founders, metrics,
                    Objects.requireNonNull(loop, "loop"));
        }

        /**
         * Ticks of {@value #DEFAULT_TICK_MILLIS} ms and {@link RaftConfig#defaults}, so elections start
         * after 200-400 ms and heartbeats go every 50 ms (flotilla-server's defaults too); a snapshot every
         * 100,000 entries, keeping 10,000 behind it.
         */
        public static Options defaults(int id) {
            return new Options(RaftConfig.defaults(id), Duration.ofMillis(DEFAULT_TICK_MILLIS), 65536, System.nanoTime() ^ id, 100_000, 10_000, null,
                    RaftMetrics.NONE, null);
        }
    }

    private final Options options;
    private final NodeDriver<C, Q, R> driver;
    private final Transport transport;
    private final BlockingQueue<Runnable> inbox;
    /** Where the node runs; shut down with the node if it is the node's own. */
    private final ScheduledExecutorService loop;
    private final boolean ownLoop;
    /** Set while a turn is queued on the loop: the first event of a burst queues one, which takes them all. */
    private final AtomicBoolean turnQueued = new AtomicBoolean();
    private volatile Thread loopThread;
    /** Set once, by start(), before anything can reach the node. */
    private volatile ScheduledFuture<?> ticker;
    private final ExecutorService snapshotWriter;
    private final ThreadPoolExecutor diskWriter;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicLong droppedMessages = new AtomicLong();
    private final CompletableFuture<Throwable> failure = new CompletableFuture<>();
    private final CompletableFuture<Long> removed = new CompletableFuture<>();
    private volatile Status status;
    private volatile boolean running = true;
    /** For the role lines, on the node's thread: the last role seen, and the last leader known and its term. */
    private Ready.SoftState lastRole;
    private int lastLeader = RaftNode.NONE;
    private long lastLeaderTerm;
    /** Completes when this node stops leading; replaced each time it becomes leader. */
    private volatile CompletableFuture<Void> steppedDown = CompletableFuture.completedFuture(null);

    private RaftRuntime(Options options, StateMachine<C, Q, R> stateMachine, Codec<C> codec,
                        Storage storage, Transport transport) {
        this.options = options;
        this.transport = transport;
        this.inbox = new ArrayBlockingQueue<>(options.inboxCapacity());
        RaftNode node = new RaftNode(options.raft(), storage, new SplittableRandom(options.seed()), options.founders());
        this.snapshotWriter = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "flotilla-snapshot-" + options.raft().id());
            t.setDaemon(true);
            return t;
        });
        Snapshotting snapshotting = new Snapshotting(options.snapshotEvery(), options.snapshotTrail(), snapshotWriter,
                this::runOnNodeThread);
        // One batch is written at a time, so a queue of one is all it needs (a second would be a bug).
        this.diskWriter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1), r -> {
            Thread t = new Thread(r, "flotilla-storage-" + options.raft().id());
            t.setDaemon(true);
            return t;
        });
        this.driver = new NodeDriver<>(node, storage, stateMachine, codec, transport::send, this::roleChanged, snapshotting,
                new DiskWrites(diskWriter, this::runOnNodeThread), options.metrics());
        this.status = node.status();
        this.ownLoop = options.loop() == null;
        this.loop = ownLoop ? Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "flotilla-raft-" + options.raft().id()))
                : options.loop();
    }

    /**
     * Starts a node. A new cluster's storage must first be {@link Storage#bootstrap bootstrapped}
     * with the founding configuration on every founding node.
     */
    public static <C, Q, R> RaftRuntime<C, Q, R> start(Options options, StateMachine<C, Q, R> stateMachine,
                                                       Codec<C> codec, Storage storage, Transport transport) {
        RaftRuntime<C, Q, R> runtime = new RaftRuntime<>(options, stateMachine, codec, storage, transport);
        long tick = options.tickInterval().toNanos();
        // A fixed delay, not a fixed rate: after a stall the node ticks once and moves on rather than
        // replaying the missed ticks at once (which would time out an election at once).
        runtime.ticker = runtime.loop.scheduleWithFixedDelay(runtime::tickTurn, tick, tick, TimeUnit.NANOSECONDS);
        transport.start(runtime::deliver);
        return runtime;
    }

    /** Replicates {@code command} and completes with its result once applied here. Fails with
     * {@link NotLeaderException} on a follower. */
    public CompletableFuture<R> propose(C command) {
        CompletableFuture<R> future = new CompletableFuture<>();
        submit(() -> driver.propose(command, callback(future)), future);
        return future;
    }

    /** Answers {@code query} linearizably (ReadIndex); fails with {@link NotLeaderException} on a follower. */
    public CompletableFuture<R> read(Q query) {
        CompletableFuture<R> future = new CompletableFuture<>();
        submit(() -> driver.read(query, callback(future)), future);
        return future;
    }

    /**
     * Answers {@code query} from this node's state as it is, without asking the leader: fast, works on
     * any node, but may miss recent writes (a stale read).
     */
    public CompletableFuture<R> readStale(Q query) {
        CompletableFuture<R> future = new CompletableFuture<>();
        submit(() -> {
            if (driver.node().bootstrapping()) {
                // An empty state machine would answer "absent" for keys the cluster holds.
                future.completeExceptionally(new RaftException("node " + options.raft().id()
                        + " has no data yet: it is waiting to learn whether the cluster exists"));
            } else {
                future.complete(driver.queryLocally(query));
            }
        }, future);
        return future;
    }

    /**
     * Completes with a stored snapshot that holds every entry committed when this is called (for a
     * backup): the leader confirms it still leads as for {@link #read}, then reuses its newest
     * snapshot if that covers the read's index, else takes one at once, whatever
     * {@link Options#snapshotEvery()} says. Fails with {@link NotLeaderException} on a follower.
     * The snapshot stays stored until newer ones replace it; read it through the storage.
     */
    public CompletableFuture<SnapshotMeta> snapshotNow() {
        CompletableFuture<SnapshotMeta> future = new CompletableFuture<>();
        submit(() -> driver.snapshotNow(callback(future)), future);
        return future;
    }

    /**
     * Changes the cluster's membership (one change at a time; see {@link MembershipChange}) and
     * completes with the new configuration once it is committed and applied here. Outcomes follow
     * the rules of {@link #propose}: {@link NotLeaderException} on a follower, {@link ChangeRefusedException}
     * (with the reason, not applied) when the leader refuses the change, {@link OutcomeUnknownException}
     * when leadership is lost after the change was appended.
     */
    public CompletableFuture<ClusterConfig> changeMembership(MembershipChange change) {
        CompletableFuture<ClusterConfig> future = new CompletableFuture<>();
        submit(() -> driver.changeMembership(change, callback(future)), future);
        return future;
    }

    /** Hands leadership to {@code target}; completes true once this node has stepped down for it. */
    public CompletableFuture<Boolean> transferLeadership(int target) {
        CompletableFuture<Boolean> started = new CompletableFuture<>();
        submit(() -> started.complete(driver.node().transferLeadership(target)), started);
        return started;
    }

    /** The node's state as of its last step; once stopped, a follower that knows no leader. */
    public Status status() {
        return status;
    }

    /**
     * Completes with the error that stopped this node for good (a storage failure, or a bug), on the
     * dying node's thread: use an {@code *Async} form to do anything slow. Never completes if the node
     * is closed normally.
     */
    public CompletableFuture<Throwable> failure() {
        return failure;
    }

    /**
     * Completes, on the node's thread, once this node learns that a committed configuration removed
     * it from the cluster (with its commit index then); it then takes no further part, and its owner
     * would normally stop it.
     */
    public CompletableFuture<Long> removed() {
        return removed;
    }

    public long droppedMessages() {
        return droppedMessages.get();
    }

    /** For the disk and snapshot writers' reports: waits for room rather than drop one, as nothing would resend it. */
    private void runOnNodeThread(Runnable task) {
        try {
            while (running && !inbox.offer(task, 100, TimeUnit.MILLISECONDS)) {
                // the inbox is full: wait for the node to catch up
            }
            queueTurn();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Called by the transport on any thread. */
    private void deliver(Message message) {
        if (!running) {
            return;
        }
        if (inbox.offer(() -> driver.receive(message))) {
            queueTurn();
        } else {
            droppedMessages.incrementAndGet();
        }
    }

    /** An event that answers a caller: if the node stops before running it, the caller learns it was not applied. */
    private record Request(Runnable event, CompletableFuture<?> future) implements Runnable {
        @Override
        public void run() {
            event.run();
        }
    }

    private void submit(Runnable event, CompletableFuture<?> future) {
        if (!running) {
            future.completeExceptionally(new RaftException("node " + options.raft().id() + " is stopped; not applied"));
        } else if (!inbox.offer(new Request(event, future))) {
            future.completeExceptionally(new RaftException("node " + options.raft().id() + " is overloaded; not applied, retry later"));
        } else if (!running) {
            failQueued(); // the node stopped meanwhile and may have drained the inbox before our offer
        } else {
            queueTurn();
        }
    }

    /** Requests still in the inbox never reached the node: they certainly were not applied. */
    private void failQueued() {
        for (Runnable event; (event = inbox.poll()) != null; ) {
            if (event instanceof Request request) {
                request.future().completeExceptionally(new RaftException("node " + options.raft().id()
                        + " stopped before taking the request; not applied"));
            }
        }
    }

    private static <R> NodeDriver.Callback<R> callback(CompletableFuture<R> future) {
        return new NodeDriver.Callback<>() {
            @Override
            public void complete(R result, long index) {
                future.complete(result);
            }

            @Override
            public void fail(RuntimeException error) {
                future.completeExceptionally(error);
            }
        };
    }

    /**
     * One INFO line per election and per leader change, with what an operator reads them for: the
     * term, the votes needed, how far the log goes, and who led before. On the node's thread.
     */
    private void roleChanged(Ready.SoftState role) {
        int id = options.raft().id();
        Role before = lastRole == null ? null : lastRole.role();
        if (role.role() != Role.LEADER) {
            steppedDown.complete(null);
        }
        Status now = driver.node().status();
        ClusterConfig members = now.members();
        String previous = lastLeader == RaftNode.NONE ? "no leader known before"
                : "previous leader: node " + lastLeader + " in term " + lastLeaderTerm;
        if (role.role() == Role.LEADER) {
            steppedDown = new CompletableFuture<>();
            log.info("node {} is leader in term {}, elected by a quorum of {} of the voters {} ({}); its log ends at index {}, "
                    + "commit index {}", id, role.term(), members.quorum(), members.voters(), previous, now.lastIndex(), now.commitIndex());
        } else if (role.role() == Role.CANDIDATE) {
            log.info("node {} starts an election for term {}: it needs {} votes of the voters {}; its log ends at index {} ({})",
                    id, role.term(), members.quorum(), members.voters(), now.lastIndex(), previous);
        } else if (role.role() == Role.FOLLOWER && role.leader() != RaftNode.NONE) {
            log.info("node {} follows leader {} in term {} ({})", id, role.leader(), role.term(), previous);
        } else if (before == Role.LEADER) {
            log.info("node {} steps down: it led term {}, and knows no leader in term {}", id, lastRole.term(), role.term());
        } else if (before == Role.CANDIDATE && role.role() == Role.FOLLOWER) {
            log.info("node {} lost the election for term {}; no leader known in term {}", id, lastRole.term(), role.term());
        }
        if (role.leader() != RaftNode.NONE) {
            lastLeader = role.leader();
            lastLeaderTerm = role.term();
        }
        lastRole = role;
    }

    /** One INFO line per change of the configuration this node uses: the index, what changed, before and after. */
    private void membersChanged(ClusterConfig before, Status now) {
        ClusterConfig after = now.members();
        List<String> changes = new ArrayList<>();
        for (Member m : after.members().values()) {
            Member old = before.members().get(m.id());
            if (old == null) {
                changes.add("node " + m.id() + " added as " + (m.kind() == Member.Kind.JOINING ? "a joining learner" : "a " + kind(m)));
            } else if (old.kind() != m.kind()) {
                changes.add("node " + m.id() + " from " + kind(old) + " to " + kind(m));
            } else if (!old.address().equals(m.address())) {
                changes.add("node " + m.id() + " moved to " + m.address());
            }
        }
        for (int gone : before.members().keySet()) {
            if (!after.members().containsKey(gone)) {
                changes.add("node " + gone + " removed");
            }
        }
        String index = driver.node().membersIndex() + (now.membersCommitted() ? "" : " (not committed yet)");
        if (before.members().isEmpty()) { // founding, or a joining node's first: nothing to compare with
            log.info("node {} uses the configuration of index {}: {}", options.raft().id(), index, after);
        } else {
            log.info("node {} uses the configuration of index {}: {}; was {}, now {}", options.raft().id(), index,
                    changes.isEmpty() ? "no member changed" : String.join(", ", changes), before, after);
        }
    }

    private static String kind(Member m) {
        return m.kind().name().toLowerCase(Locale.ROOT);
    }

    /** Queues a turn on the loop unless one is queued already. Any thread. */
    private void queueTurn() {
        if (turnQueued.compareAndSet(false, true)) {
            try {
                loop.execute(this::turn);
            } catch (RejectedExecutionException e) {
                turnQueued.set(false); // the loop is shutting down: close() or the loop's owner ends the node
            }
        }
    }

    /** On the loop: runs the events queued so far (up to a bound, so the loop's other work gets its turn), then their effects. */
    private void turn() {
        turnQueued.set(false); // first: an event queued from now on queues another turn
        onLoop(() -> {
            for (int i = 0; i < MAX_EVENTS_PER_TURN; i++) {
                Runnable event = inbox.poll();
                if (event == null) {
                    break;
                }
                event.run();
            }
            if (!inbox.isEmpty()) {
                queueTurn();
            }
        });
    }

    /** On the loop, once per tick interval. */
    private void tickTurn() {
        onLoop(driver::tick);
    }

    private static final int MAX_EVENTS_PER_TURN = 4096;

    /** Runs {@code work}, then carries out its effects; anything thrown stops the node for good. */
    private void onLoop(Runnable work) {
        loopThread = Thread.currentThread();
        if (!running) {
            stop(null); // close() asked; does nothing if the node has stopped already
            return;
        }
        try {
            work.run();
            if (running) {
                driver.process();
            }
            if (!running) {
                stop(null); // closed meanwhile, perhaps by one of this turn's callbacks: the node is done
                return;
            }
            Status next = driver.node().status();
            if (next.members() != status.members() && !next.members().equals(status.members())) {
                membersChanged(status.members(), next);
            }
            status = next;
            if (status.removed() && !removed.isDone()) {
                removed.complete(status.commitIndex());
            }
        } catch (RuntimeException | Error e) {
            stop(e);
        }
    }

    /** On the node's thread, once: stops taking work and answers every request still waiting. */
    private void stop(Throwable fatal) {
        if (stopped.getCount() == 0) {
            return;
        }
        int id = options.raft().id();
        running = false;
        ticker.cancel(false);
        Status last = status;
        status = new Status(id, Role.FOLLOWER, last.term(), RaftNode.NONE, last.commitIndex(), last.appliedIndex(),
                last.lastIndex(), Map.of(), last.members(), last.membersCommitted(), last.removed(), last.droppedInvalid(),
                last.leaderCommit());
        String why = fatal == null ? "stopped" : "failed (" + fatal.getMessage() + ")";
        if (fatal != null && saysItAll(fatal)) {
            if (failure.getNumberOfDependents() == 0) { // whoever listens to failure() says it, once
                log.error("node {} stopped for good: {}", id, fatal.getMessage());
            }
        } else if (fatal != null) {
            log.error("node {} stopped for good by an unexpected error: {}", id, fatal, fatal); // a bug: keep its trace
        }
        try {
            // Proposals handed to the node fail as outcome unknown (maybe appended and replicated), reads as refused.
            driver.failAll(new RaftException("node " + id + " " + why));
        } catch (RuntimeException e) {
            log.warn("node {}: failing the requests still waiting: {}", id, e.toString());
        } finally {
            failQueued();
            stopped.countDown();
            if (ownLoop) {
                loop.shutdown();
            }
            if (fatal != null) {
                failure.complete(fatal);
            }
        }
    }

    /**
     * One line for what stopped a node: the message of a disk error or of the node's own halt, which
     * say all; for anything else (a bug) the exception itself.
     */
    public static String describeFailure(Throwable fatal) {
        return saysItAll(fatal) && fatal.getMessage() != null ? fatal.getMessage() : fatal.toString();
    }

    /** A disk error or the node's own halt; anything else is a bug, whose stack trace is worth logging. */
    private static boolean saysItAll(Throwable t) {
        if (t instanceof NodeHaltedException) {
            return true;
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops the node. A leader first hands leadership to its most up-to-date follower and waits up to
     * {@code grace} for it to take over, so that clients see no election timeout.
     */
    public void shutdown(Duration grace) {
        if (running && status.role() == Role.LEADER) {
            status.peers().entrySet().stream()
                    .max((a, b) -> Long.compare(a.getValue().matchIndex(), b.getValue().matchIndex()))
                    .ifPresent(best -> transferLeadership(best.getKey()));
            try {
                steppedDown.get(grace.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                log.warn("node {}: no follower took over within {}; stopping anyway", options.raft().id(), grace);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close();
    }

    @Override
    public void close() {
        running = false;
        if (Thread.currentThread() == loopThread) {
            stop(null); // on the loop itself, as an embedder's loop task may be: waiting for the loop would wait forever
        } else {
            try {
                loop.execute(() -> stop(null));
            } catch (RejectedExecutionException e) {
                // The loop is gone (its owner shut it down first), and with it the only thread that touches the node.
                stop(null);
            }
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        diskWriter.shutdown();
        snapshotWriter.shutdown();
        try {
            // The storage's owner closes it after this: let a sync in progress end first.
            diskWriter.awaitTermination(30, TimeUnit.SECONDS);
            transport.close();
            snapshotWriter.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            transport.close();
        }
    }
}
