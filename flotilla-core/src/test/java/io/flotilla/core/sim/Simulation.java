package io.flotilla.core.sim;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Bytes;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SimulatedDriver;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.CheckResult;
import io.flotilla.core.check.LinearizabilityChecker;
import io.flotilla.core.check.Operation;
import io.flotilla.core.check.Outcome;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.SnapshotResponse;
import io.flotilla.core.message.VoteResponse;
import io.flotilla.core.protocol.RaftNode;
import io.flotilla.core.protocol.Role;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A deterministic simulation of a cluster, in the manner of TigerBeetle's VOPR and FoundationDB's
 * simulator: the production {@link RaftNode} and its driver run on one thread in virtual
 * time, with a simulated network and disk, and one seed drives every choice (cluster size, faults,
 * timing, the workload), so any failure replays from its seed.
 *
 * <p>A run has three phases. Safety: faults for a number of steps, with Raft's invariants checked
 * after every step. Liveness: the network heals, crashed nodes restart and faults stop; a leader
 * must then commit a new command and every node apply it within a bounded time. Finally the
 * clients' history must be linearizable.
 *
 * <p>Snapshots: unless the seed turns them off, nodes take one every few entries and compact their
 * logs behind it, so lagging and restarted followers catch up through InstallSnapshot. The
 * snapshot is written synchronously (the state machine's writer runs on the spot, and a crash
 * during it is a crash of the node); its report to the node's thread, which compacts the log, is a
 * separate event a little later, as in the runtime, where it waits in the node's inbox.
 */
final class Simulation<I, C, Q, R> {
    /**
     * @param safetySteps events to run with faults on
     * @param lyingDisk     a broken disk that forgets the hard state, for testing that failures are caught
     * @param trace         print every event
     * @param blindRejoin   a node that lost its disk founds the cluster again at once, without asking (the
     *                      unsafe behaviour {@link io.flotilla.core.protocol.RaftNode} guards against), and
     *                      every crash of a run with state loss loses the disk: for testing that it is caught
     */
    record Options(long safetySteps, boolean lyingDisk, boolean trace, boolean blindRejoin) {
        Options(long safetySteps, boolean lyingDisk, boolean trace) {
            this(safetySteps, lyingDisk, trace, false);
        }
    }

    private record Tick(int node, int incarnation) implements EventQueue.Event {
    }

    private record Deliver(Message message) implements EventQueue.Event {
    }

    private record FaultTurn() implements EventQueue.Event {
    }

    private record Restart(int node) implements EventQueue.Event {
    }

    private record Heal() implements EventQueue.Event {
    }

    private record Probe() implements EventQueue.Event {
    }

    /** A task for the node's thread (the snapshot writer's report), for the incarnation that asked for it. */
    private record NodeTask(int node, int incarnation, Runnable task) implements EventQueue.Event {
        @Override
        public String toString() {
            return "NodeTask[node=" + node + ", incarnation=" + incarnation + "]";
        }
    }

    private static final int TRACE_LENGTH = 60;
    private static final MessageCodec WIRE = new MessageCodec(64 << 20);
    /** Liveness: after healing, progress must come within this many election timeouts... */
    private static final int LIVENESS_ELECTION_TIMEOUTS = 40;
    /**
     * ...or, while the slowest node is still catching up (some settings replicate one small entry per
     * round trip, or a snapshot in chunks of a byte), within this many after it last applied something
     * or received more of a snapshot, up to {@link #LIVENESS_LIMIT}.
     */
    private static final int LIVENESS_CATCH_UP_ELECTION_TIMEOUTS = 10;
    private static final int LIVENESS_LIMIT = 400;
    /** Nodes a run with membership changes may add beyond the founders. */
    private static final int SPARE_NODES = 4;

    private final long seed;
    private final Workload<I, C, Q, R> workload;
    private final Options options;
    private final Swarm swarm;
    private final SplittableRandom faultRandom;
    private final SplittableRandom nodeRandom;
    private final SplittableRandom snapshotRandom;
    private final SplittableRandom diskRandom;
    private final SimStats stats = new SimStats();
    private final EventQueue queue = new EventQueue();
    private final SimNetwork network;
    private final Invariants invariants;
    private final Clients<I, C, Q, R> clients;
    private final List<SimNode<C, Q, R>> nodes = new ArrayList<>();
    private final Deque<EventQueue.Scheduled> recent = new ArrayDeque<>();
    private final long electionTime;
    private boolean faultsOn = true;
    private String phase = "safety";
    private ClusterConfig founders;
    /**
     * Per node, its last answer to a snapshot chunk; and how often one moved on (a new snapshot, or
     * further into one). For liveness, a snapshot arriving is progress: chunks may be of one byte.
     */
    private final Map<Integer, SnapshotResponse> snapshotReceived = new HashMap<>();
    private long snapshotProgress;
    /** The node that lost its state in this run, or 0 (one at most: Raft tolerates no more). */
    private int lostState;
    /**
     * Whether that node granted a vote or campaigned since it lost its state. (Its term is no sign: a
     * node waiting to be added learns terms from leaders' messages but never votes.)
     */
    private boolean lostStateVoted;

    private Simulation(long seed, Workload<I, C, Q, R> workload, Options options) {
        this.seed = seed;
        this.workload = workload;
        this.options = options;
        SplittableRandom root = new SplittableRandom(seed);
        this.swarm = Swarm.draw(root.split());
        this.faultRandom = root.split();
        this.nodeRandom = root.split();
        this.network = new SimNetwork(swarm, root.split(), stats, swarm.nodes() + SPARE_NODES);
        this.invariants = new Invariants(swarm.nodes() + SPARE_NODES, replica(workload));
        this.clients = new Clients<>(workload, queue, root.split(), stats, swarm.nodes(), swarm.clients(), swarm.clientTimeout(),
                this::note);
        this.snapshotRandom = root.split();
        this.diskRandom = root.split();
        this.electionTime = (long) swarm.raft().electionTicks() * Swarm.TICK;
    }

    /**
     * Runs one seed; throws {@link SimulationFailure} naming the seed if anything goes wrong. Tests of
     * the harness itself call this, with broken parts switched on in {@code options}; applications
     * use {@link Simulator}.
     */
    static <I, C, Q, R> SimStats run(long seed, Workload<I, C, Q, R> workload, Options options) {
        return new Simulation<>(seed, workload, options).run();
    }

    private SimStats run() {
        if (options.trace()) {
            System.out.println("seed " + seed + ": " + swarm);
        }
        try {
            boot();
            while (stats.steps < options.safetySteps()) {
                step();
            }
            demandLiveness();
            drainClients();
            checkHistory();
        } catch (SimulationFailure f) {
            throw f;
        } catch (RuntimeException | AssertionError e) {
            throw failure(e.toString(), e);
        }
        stats.seeds = 1;
        stats.seedsWithMembership = swarm.faults().contains(FaultKind.MEMBERSHIP) ? 1 : 0;
        stats.refounded = lostState != 0 && !nodes.get(lostState - 1).retired ? 1 : 0;
        stats.seedsWithSnapshots = swarm.snapshotEvery() > 0 ? 1 : 0;
        stats.snapshotsChecked = invariants.snapshotsChecked();
        stats.elections = invariants.elections();
        stats.virtualTime = queue.now();
        return stats;
    }

    // ---- the event loop ----------------------------------------------------------------------

    private void step() {
        EventQueue.Scheduled s = queue.next();
        stats.steps++;
        recent.addLast(s);
        if (recent.size() > TRACE_LENGTH) {
            recent.removeFirst();
        }
        if (options.trace()) {
            System.out.println(stats.steps + " " + s);
        }
        EventQueue.Event e = s.event();
        if (e instanceof Tick t) {
            tick(t);
        } else if (e instanceof Deliver d) {
            deliver(d.message());
        } else if (e instanceof Clients.Turn t) {
            clients.turn(t, this::act);
        } else if (e instanceof Clients.Timeout t) {
            clients.timeout(t);
        } else if (e instanceof Clients.Retry r) {
            clients.retry(r, this::act);
        } else if (e instanceof FaultTurn) {
            injectFault();
        } else if (e instanceof Restart r) {
            if (!nodes.get(r.node() - 1).isUp() && !nodes.get(r.node() - 1).retired) {
                start(nodes.get(r.node() - 1));
            }
        } else if (e instanceof Heal) {
            note("network healed");
            network.heal();
        } else if (e instanceof Probe) {
            probe();
        } else if (e instanceof NodeTask t) {
            SimNode<C, Q, R> n = nodes.get(t.node() - 1);
            if (n.isUp() && n.incarnation == t.incarnation()) {
                act(n.id, driver -> t.task().run());
            }
        } else {
            throw new AssertionError(e);
        }
        checkInvariants();
    }

    private void checkInvariants() {
        SimNode<C, Q, R> newestCommit = null;
        for (SimNode<C, Q, R> n : nodes) {
            if (n.isUp()) {
                RaftNode raft = n.raft();
                invariants.observe(n.id, raft.role(), raft.term(), raft.commitIndex(), n.driver.appliedIndex(),
                        raft.persistedIndex(), n.storage);
                if (newestCommit == null || committedOnDisk(n) > committedOnDisk(newestCommit)) {
                    newestCommit = n;
                }
            }
        }
        if (newestCommit != null && committedOnDisk(newestCommit) > 0) {
            long index = committedOnDisk(newestCommit);
            checkCommittedHeldByQuorum(index, newestCommit.storage.term(index));
        }
    }

    /** The newest entry a node knows committed that its own disk holds (its writes may trail its commit index). */
    private static long committedOnDisk(SimNode<?, ?, ?> n) {
        return Math.min(n.raft().commitIndex(), n.raft().persistedIndex());
    }

    /**
     * The newest committed entry is on enough disks that every quorum of the configuration a current
     * leader uses includes one of them, so no node without it can be elected (single-server changes
     * keep this true from one configuration to the next). A current leader is one whose own log holds
     * the entry; a node that lost its state counts as holding it while it has never voted since.
     */
    private void checkCommittedHeldByQuorum(long index, long term) {
        SimNode<C, Q, R> leader = leader();
        if (leader == null || !leader.storage.holdsDurably(index, term)) {
            return;
        }
        Invariants.checkHeldByQuorum(leader.raft().members(), index, term, leader.id, voter -> {
            SimNode<C, Q, R> v = voter <= nodes.size() ? nodes.get(voter - 1) : null;
            return v != null && (v.storage.holdsDurably(index, term)
                    || v.id == lostState && (v.retired || !lostStateVoted));
        });
    }

    private void tick(Tick t) {
        SimNode<C, Q, R> n = nodes.get(t.node() - 1);
        if (n.isUp() && n.incarnation == t.incarnation()) {
            act(n.id, SimulatedDriver::tick);
            queue.after(tickInterval(n.id), t);
        }
    }

    private void deliver(Message m) {
        SimNode<C, Q, R> to = nodes.get(m.to() - 1);
        if (to.isUp() && network.connected(m.from(), m.to())) {
            stats.messagesDelivered++;
            if (m instanceof SnapshotResponse r) {
                SnapshotResponse before = snapshotReceived.put(r.from(), r);
                if (before == null || before.index() != r.index() || before.nextOffset() < r.nextOffset()) {
                    snapshotProgress++;
                }
            }
            act(to.id, driver -> driver.receive(m));
        } else if (m instanceof InstallSnapshot) {
            stats.snapshotChunksLost++;
        }
    }

    /** Gives a node an event and has it carry out the effects; a crash on its disk takes it down. */
    private boolean act(int id, Consumer<SimulatedDriver<C, Q, R>> action) {
        SimNode<C, Q, R> n = nodes.get(id - 1);
        if (!n.isUp()) {
            return false;
        }
        try {
            action.accept(n.driver);
            n.driver.process();
        } catch (NodeHaltedException h) {
            boolean removedBeforeItJoined = n.joiner && nodes.stream()
                    .anyMatch(o -> o != n && o.isUp() && o.raft().members().removed().contains(n.id));
            if (n.id != lostState && !removedBeforeItJoined) {
                throw h; // a node that kept its state never has a reason to halt
            }
            stats.rejoinsRefused++;
            note("node " + id + " halts: " + h.getMessage());
            n.driver = null;
            n.retired = true;
            n.incarnation++;
            clients.nodeCrashed(n.id);
        } catch (SimulatedCrash c) {
            stats.fault(FaultKind.CRASH_IN_IO);
            note("node " + id + " " + c.getMessage());
            crash(n);
            scheduleRestart(n);
        }
        return true;
    }

    private void send(int from, Message m) {
        if (from == lostState && (m instanceof VoteResponse r && r.granted() && !r.preVote()
                || m instanceof RequestVote v && !v.preVote())) {
            lostStateVoted = true;
        }
        invariants.sent(from, m, nodes.get(from - 1).storage.durableHardState().term());
        stats.messagesSent++;
        Message received = overTheWire(m);
        long[] fate = network.fate(received);
        if (m instanceof InstallSnapshot) {
            stats.snapshotChunksSent++;
            if (fate.length == 0) {
                stats.snapshotChunksLost++;
            }
        }
        for (long delay : fate) {
            queue.after(delay, new Deliver(received));
        }
    }

    /** Sends each message through the real wire codec, so the simulation checks it too. */
    private static Message overTheWire(Message m) {
        Message decoded = WIRE.decode(ByteBuffer.wrap(WIRE.encode(m)));
        if (!decoded.equals(m)) {
            throw new AssertionError("the wire codec turned " + m + " into " + decoded);
        }
        return decoded;
    }

    // ---- nodes -------------------------------------------------------------------------------

    private void boot() {
        // A node that joins later starts with no founders: it must be added, never found a cluster.
        Integer[] ids = new Integer[swarm.nodes()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i + 1;
        }
        founders = ClusterConfig.of(ids);
        for (int id = 1; id <= swarm.nodes(); id++) {
            nodes.add(new SimNode<>(id, newStorage(id, founders)));
        }
        nodes.forEach(this::start);
        if (swarm.faults().contains(FaultKind.PARTITION) || swarm.faults().contains(FaultKind.CRASH)
                || swarm.faults().contains(FaultKind.TRANSFER) || swarm.faults().contains(FaultKind.MEMBERSHIP)) {
            queue.after(nextFaultDelay(), new FaultTurn());
        }
    }

    /** A disk for node {@code nodeId}, observed by the invariants: bootstrapped with {@code config}, or blank if null. */
    private SimStorage newStorage(int nodeId, ClusterConfig config) {
        SimStorage storage = new SimStorage(options.lyingDisk());
        storage.observeAppends((entry, previous, chain) -> invariants.appended(nodeId, entry, previous, chain));
        storage.observeSnapshots(new SimStorage.SnapshotObserver() {
            @Override
            public void committed(SnapshotMeta meta, Bytes data) {
                stats.snapshotsCommitted++;
                invariants.snapshotCommitted(nodeId, meta, data);
                CheckedStateMachine.checkRoundTrip(workload.newStateMachine(), data,
                        "node " + nodeId + " committed a snapshot at index " + meta.index());
            }

            @Override
            public void reset(SnapshotMeta meta, boolean keptLog) {
                stats.snapshotsInstalled++;
                stats.logsReplacedBySnapshots += keptLog ? 0 : 1;
            }

            @Override
            public void compacted(long from, long to) {
                stats.compactions++;
                stats.entriesCompacted += to - from + 1;
            }
        });
        storage.chainsFrom(invariants::chainOf);
        if (config != null) {
            storage.bootstrap(config);
        }
        storage.crashAt(where -> faultsOn && faultRandom.nextDouble() < swarm.ioCrashRate());
        return storage;
    }

    private void start(SimNode<C, Q, R> n) {
        note("node " + n.id + " starts, incarnation " + n.incarnation + ", " + n.storage);
        RaftNode raft = new RaftNode(swarm.raftFor(n.id), n.storage, nodeRandom.split(), n.joiner ? null : founders);
        invariants.restarted(n.id, raft.term());
        if (n.storage.latestSnapshot().isPresent()) {
            stats.restartsFromSnapshots++;
        }
        StateMachine<C, Q, R> stateMachine = new CheckedStateMachine<>(n.id, workload.newStateMachine(), workload.codec(),
                invariants, n.storage, stats);
        int incarnation = n.incarnation;
        // Snapshots are written on the spot, and reported to the node's thread a little later. Each
        // batch of entries is written and synced a little later, now and then much later (a slow
        // disk), while the node goes on taking events, as on the runtime's storage thread.
        n.driver = new SimulatedDriver<>(raft, n.storage, stateMachine, workload.codec(), m -> send(n.id, m),
                swarm.snapshotEvery(), swarm.snapshotTrail(),
                task -> queue.after(snapshotRandom.nextLong(0, 2L * Swarm.TICK), new NodeTask(n.id, incarnation, task)),
                task -> queue.after(diskDelay(), new NodeTask(n.id, incarnation, task)));
        queue.after(nodeRandom.nextLong(1, tickInterval(n.id) + 1), new Tick(n.id, incarnation));
        act(n.id, driver -> { });
    }

    /** How long a batch's write and sync take: under a tick, one time in twenty up to five ticks. */
    private long diskDelay() {
        return diskRandom.nextInt(20) == 0 ? diskRandom.nextLong(0, 5L * Swarm.TICK) : diskRandom.nextLong(0, Swarm.TICK);
    }

    /** Virtual time between a node's ticks: a founder's as drawn (clock skew), the usual for a node added later. */
    private int tickInterval(int id) {
        return id <= swarm.nodes() ? swarm.tickInterval()[id - 1] : Swarm.TICK;
    }

    /** A copy of the application fed the committed history, for the invariants to compare snapshots with. */
    private static <C> Invariants.Replica replica(Workload<?, C, ?, ?> workload) {
        StateMachine<C, ?, ?> reference = workload.newStateMachine();
        return new Invariants.Replica() {
            @Override
            public void apply(long index, Bytes command) {
                reference.apply(index, workload.codec().decode(command));
            }

            @Override
            public Bytes state() {
                return CheckedStateMachine.write(reference.snapshot());
            }
        };
    }

    private void crash(SimNode<C, Q, R> n) {
        stats.crashes++;
        n.driver = null;
        n.incarnation++;
        stats.entriesLostInCrashes += n.storage.crash(faultRandom, true);
        clients.nodeCrashed(n.id);
        if (options.blindRejoin() && swarm.faults().contains(FaultKind.STATE_LOSS)) {
            stats.fault(FaultKind.STATE_LOSS);
            note("node " + n.id + " loses its disk and founds the cluster again");
            n.storage = newStorage(n.id, founders);
            invariants.stateLost(n.id);
        } else if (swarm.faults().contains(FaultKind.STATE_LOSS) && lostState == 0 && faultRandom.nextInt(4) == 0) {
            lostState = n.id;
            stats.fault(FaultKind.STATE_LOSS);
            note("node " + n.id + " loses its disk");
            n.storage = newStorage(n.id, null);
            invariants.stateLost(n.id);
        }
    }

    private void scheduleRestart(SimNode<C, Q, R> n) {
        long downFor = faultRandom.nextInt(10) == 0 ? 30 * electionTime : 4 * electionTime;
        queue.after(faultRandom.nextLong(Swarm.TICK, downFor), new Restart(n.id));
    }

    // ---- faults ------------------------------------------------------------------------------

    private long nextFaultDelay() {
        return faultRandom.nextLong(1, 2L * swarm.faultInterval());
    }

    private void injectFault() {
        if (!faultsOn) {
            return;
        }
        queue.after(nextFaultDelay(), new FaultTurn());
        List<FaultKind> kinds = new ArrayList<>();
        for (FaultKind k : List.of(FaultKind.PARTITION, FaultKind.CRASH, FaultKind.TRANSFER, FaultKind.MEMBERSHIP)) {
            if (swarm.faults().contains(k)) {
                kinds.add(k);
            }
        }
        FaultKind kind = kinds.get(faultRandom.nextInt(kinds.size()));
        SimNode<C, Q, R> leader = leader();
        switch (kind) {
            case PARTITION -> partition(leader);
            case CRASH -> {
                List<SimNode<C, Q, R>> up = nodes.stream().filter(SimNode::isUp).toList();
                if (!up.isEmpty()) {
                    SimNode<C, Q, R> victim = leader != null && faultRandom.nextInt(3) == 0
                            ? leader : up.get(faultRandom.nextInt(up.size()));
                    stats.fault(FaultKind.CRASH);
                    note("node " + victim.id + " crashes");
                    crash(victim);
                    scheduleRestart(victim);
                }
            }
            case TRANSFER -> {
                if (leader != null) {
                    int target = faultRandom.nextInt(1, swarm.nodes() + 1);
                    stats.fault(FaultKind.TRANSFER);
                    note("node " + leader.id + " transfers leadership to " + target);
                    act(leader.id, driver -> driver.node().transferLeadership(target));
                }
            }
            case MEMBERSHIP -> changeMembership(leader);
            default -> throw new AssertionError(kind);
        }
    }

    /**
     * Asks the leader for a random membership change: add a fresh node (under a new id, as the
     * procedure for a lost disk does), promote a learner, or remove a member. A node that lost its
     * state is removed first, and the voters never drop below three, so the one node a run may lose
     * never costs the cluster its quorum for good. The leader may refuse; that is part of the test.
     */
    private void changeMembership(SimNode<C, Q, R> leader) {
        if (leader == null) {
            return;
        }
        ClusterConfig config = leader.raft().members();
        List<Integer> learners = config.members().values().stream().filter(m -> !m.kind().votes()).map(Member::id).toList();
        List<Integer> members = List.copyOf(config.members().keySet());
        int choice = faultRandom.nextInt(4);
        MembershipChange change;
        if (lostState != 0 && nodes.get(lostState - 1).retired && config.isMember(lostState) && config.voters().size() > 3) {
            change = new MembershipChange.Remove(lostState);
        } else if ((choice == 0 || config.voters().size() <= 3 && choice == 3) && nodes.size() < swarm.nodes() + SPARE_NODES) {
            SimNode<C, Q, R> fresh = new SimNode<>(nodes.size() + 1, newStorage(nodes.size() + 1, null));
            fresh.joiner = true;
            nodes.add(fresh);
            start(fresh);
            change = new MembershipChange.AddLearner(fresh.id, "", faultRandom.nextBoolean());
        } else if (choice == 1 && !learners.isEmpty()) {
            change = new MembershipChange.Promote(learners.get(faultRandom.nextInt(learners.size())));
        } else {
            int victim = members.get(faultRandom.nextInt(members.size()));
            if (config.isVoter(victim) && config.voters().size() <= 3) {
                return;
            }
            change = new MembershipChange.Remove(victim);
        }
        stats.fault(FaultKind.MEMBERSHIP);
        note("leader " + leader.id + " is asked for " + change);
        act(leader.id, driver -> driver.changeMembership(change, new SimulatedDriver.Callback<>() {
            @Override
            public void complete(ClusterConfig result, long index) {
                stats.membershipChanges++;
                note("membership change committed at " + index + ": " + result);
            }

            @Override
            public void fail(RuntimeException error) {
                stats.membershipChangesRefused++;
                note("membership change failed: " + error.getMessage());
            }
        }));
    }

    private void partition(SimNode<C, Q, R> leader) {
        if (network.isPartitioned() && faultRandom.nextBoolean()) {
            note("network healed");
            network.heal();
            return;
        }
        stats.fault(FaultKind.PARTITION);
        int shape = faultRandom.nextInt(5);
        if (shape < 2 && leader != null) {
            network.isolate(leader.id);
            note("leader " + leader.id + " isolated");
        } else if (shape < 4) {
            note("network " + network.splitRandomly());
        } else {
            note("network " + network.cutOneWay());
        }
        queue.after(faultRandom.nextLong(electionTime, 20 * electionTime), new Heal());
    }

    /** The up node that leads the highest term, if any. */
    private SimNode<C, Q, R> leader() {
        SimNode<C, Q, R> best = null;
        for (SimNode<C, Q, R> n : nodes) {
            if (n.isUp() && n.raft().role() == Role.LEADER && (best == null || n.raft().term() > best.raft().term())) {
                best = n;
            }
        }
        return best;
    }

    // ---- liveness and the history --------------------------------------------------------------

    private void demandLiveness() {
        phase = "liveness";
        faultsOn = false;
        network.heal();
        network.calm();
        nodes.stream().filter(n -> !n.isUp() && !n.retired).forEach(this::start);
        long start = queue.now();
        long deadline = start + LIVENESS_ELECTION_TIMEOUTS * electionTime;
        long slowest = slowestApplied();
        long snapshotMoves = snapshotProgress;
        queue.after(Swarm.TICK, new Probe());
        while (!progressMade()) {
            long now = slowestApplied();
            if (now < slowest) {
                slowest = now; // a node joined the ones that must progress (a leader was found, a member added)
            } else if (now > slowest || snapshotProgress > snapshotMoves) {
                slowest = now;
                snapshotMoves = snapshotProgress;
                deadline = Math.max(deadline, Math.min(start + LIVENESS_LIMIT * electionTime,
                        queue.now() + LIVENESS_CATCH_UP_ELECTION_TIMEOUTS * electionTime));
            }
            if (queue.now() > deadline) {
                throw failure("Liveness: with the network healed and every node up, no new command was committed and "
                        + "applied everywhere within " + LIVENESS_ELECTION_TIMEOUTS + " election timeouts (nor within "
                        + LIVENESS_CATCH_UP_ELECTION_TIMEOUTS + " after the slowest node last applied an entry or received more "
                        + "of a snapshot, or "
                        + LIVENESS_LIMIT + " in all)", null);
            }
            step();
        }
    }

    /** The lowest index applied by any node that must make progress. */
    private long slowestApplied() {
        long min = Long.MAX_VALUE;
        for (SimNode<C, Q, R> n : nodes) {
            if (mustProgress(n)) {
                min = Math.min(min, n.isUp() ? n.driver.appliedIndex() : 0);
            }
        }
        return min;
    }

    /** True once the probe client's command committed and every node applied it. */
    private boolean progressMade() {
        long index = clients.lastOkIndex(clients.probeClient());
        if (index < 0) {
            return false;
        }
        for (SimNode<C, Q, R> n : nodes) {
            if (mustProgress(n) && (!n.isUp() || n.driver.appliedIndex() < index)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Every node must apply the probe but those that lost their state, and those outside the
     * leader's configuration (removed, or never added).
     */
    private boolean mustProgress(SimNode<C, Q, R> n) {
        SimNode<C, Q, R> leader = leader();
        return !n.retired && (leader == null ? !n.joiner : leader.raft().members().isMember(n.id));
    }

    private void probe() {
        int probe = clients.probeClient();
        if (clients.lastOkIndex(probe) >= 0) {
            return;
        }
        queue.after(Swarm.TICK, new Probe());
        SimNode<C, Q, R> leader = leader();
        if (leader != null && !clients.isOpen(probe)) {
            clients.sendProbe(leader.id, this::act);
        }
    }

    private void drainClients() {
        phase = "drain";
        clients.stop();
        long deadline = queue.now() + swarm.clientTimeout() + 1;
        while (clients.anyOpen() && queue.now() <= deadline) {
            step();
        }
    }

    private void checkHistory() {
        phase = "linearizability check";
        List<Operation<I, R>> history = clients.history().operations();
        stats.operations = history.size();
        stats.operationsOk = history.stream().filter(op -> op.outcome() == Outcome.OK).count();
        stats.operationsUnknown = history.stream().filter(op -> op.outcome() == Outcome.UNKNOWN).count();
        stats.operationsChecked = stats.operationsOk + stats.operationsUnknown;
        CheckResult result = LinearizabilityChecker.check(workload.model(), history);
        if (result.verdict() == CheckResult.Verdict.NOT_LINEARIZABLE) {
            throw failure("Linearizability: the clients' history has no valid linearization\n" + result.report(), null);
        }
        if (result.verdict() == CheckResult.Verdict.UNDECIDED) {
            stats.undecided++;
            System.out.println("seed " + seed + ": linearizability undecided: " + result.report());
        }
    }

    // ---- reporting ---------------------------------------------------------------------------

    private void note(String what) {
        if (options.trace()) {
            System.out.println("    " + what);
        }
    }

    private SimulationFailure failure(String what, Throwable cause) {
        StringBuilder s = new StringBuilder();
        s.append("Simulation failed: seed ").append(seed).append(", step ").append(stats.steps)
                .append(", time ").append(queue.now()).append(", ").append(phase).append(" phase\n");
        s.append(what).append('\n');
        s.append("Replay: ").append(Simulator.replayCommand(seed, options.safetySteps())).append('\n');
        s.append("Run: ").append(swarm).append('\n');
        s.append("Nodes:\n");
        nodes.forEach(n -> s.append("  ").append(n).append('\n'));
        s.append("Last ").append(recent.size()).append(" events:\n");
        recent.forEach(e -> s.append("  ").append(e).append('\n'));
        return new SimulationFailure(seed, s.toString(), cause);
    }
}
