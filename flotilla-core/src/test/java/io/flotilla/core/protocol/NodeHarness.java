package io.flotilla.core.protocol;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * One {@link RaftNode} on a {@link MemoryStorage}, driven by hand: tick it, deliver messages to it,
 * and {@link #drain()} its outbox, which persists what the {@link Ready} asks for and advances, as
 * the runtime would. Randomness is seeded, so every test replays exactly.
 */
final class NodeHarness {
    static final int ELECTION_TICKS = 10;
    static final int HEARTBEAT_TICKS = 2;

    final RaftConfig config;
    final MemoryStorage storage;
    final RaftNode node;
    /** Every committed entry handed out so far, in the order handed out. */
    final List<LogEntry> applied = new ArrayList<>();
    /** Every read outcome handed out so far. */
    final List<ReadOutcome> reads = new ArrayList<>();
    private io.flotilla.core.SnapshotSink incoming;

    private NodeHarness(RaftConfig config, MemoryStorage storage, RandomGenerator random) {
        this(config, storage, random, null);
    }

    private NodeHarness(RaftConfig config, MemoryStorage storage, RandomGenerator random, ClusterConfig founders) {
        this.config = config;
        this.storage = storage;
        this.node = new RaftNode(config, storage, random, founders);
    }

    /** A founder of {@code voters} that starts with no state at all (first start, or a lost disk). */
    static NodeHarness blank(int id, int... voters) {
        return new NodeHarness(config(id), new MemoryStorage(), new SplittableRandom(id), members(voters));
    }

    /** A new node with no state and no founders: it waits to be added to a cluster as a learner. */
    static NodeHarness joining(RaftConfig config) {
        return new NodeHarness(config, new MemoryStorage(), new SplittableRandom(config.id()));
    }

    /** The same node restarted from what its storage holds. */
    NodeHarness restarted() {
        return new NodeHarness(config, storage, new SplittableRandom(config.id()));
    }

    /** Test settings: election after 10 to 20 ticks, heartbeat every 2, pre-vote and CheckQuorum on. */
    static RaftConfig config(int id) {
        return RaftConfig.defaults(id).withTimings(ELECTION_TICKS, HEARTBEAT_TICKS);
    }

    /** A founding member of a new cluster of {@code voters} (entry 1, term 1, is the configuration). */
    static NodeHarness bootstrap(int id, int... voters) {
        return bootstrap(config(id), voters);
    }

    static NodeHarness bootstrap(RaftConfig config, int... voters) {
        MemoryStorage storage = new MemoryStorage();
        storage.bootstrap(members(voters));
        return new NodeHarness(config, storage, new SplittableRandom(config.id()));
    }

    static NodeHarness bootstrap(RaftConfig config, long seed, int... voters) {
        MemoryStorage storage = new MemoryStorage();
        storage.bootstrap(members(voters));
        return new NodeHarness(config, storage, new SplittableRandom(seed));
    }

    /**
     * A node restarted from a given state: a configuration entry of {@code voters} at index 1 (term 1),
     * then entries at indexes 2, 3, ... with the given terms, and the hard state {@code (term, votedFor)}.
     */
    static NodeHarness withLog(RaftConfig config, int[] voters, long term, int votedFor, long... termsFrom2) {
        MemoryStorage storage = new MemoryStorage();
        List<LogEntry> log = new ArrayList<>();
        log.add(new LogEntry(1, 1, EntryType.CONFIG, members(voters).encode()));
        for (int i = 0; i < termsFrom2.length; i++) {
            log.add(entry(i + 2, termsFrom2[i]));
        }
        storage.append(log);
        storage.saveHardState(new HardState(term, votedFor));
        return new NodeHarness(config, storage, new SplittableRandom(config.id()));
    }

    static ClusterConfig members(int... voters) {
        Integer[] boxed = new Integer[voters.length];
        for (int i = 0; i < voters.length; i++) {
            boxed[i] = voters[i];
        }
        return ClusterConfig.of(boxed);
    }

    // ---- driving -----------------------------------------------------------------------------

    int id() {
        return node.id();
    }

    void tick(int times) {
        for (int i = 0; i < times; i++) {
            node.tick();
        }
    }

    /** Ticks until {@code done} holds (checked before each tick); returns the ticks it took. */
    int tickUntil(Predicate<RaftNode> done) {
        int ticks = 0;
        while (!done.test(node)) {
            if (ticks == 1000) {
                throw new AssertionError("still not there after 1000 ticks: " + node);
            }
            node.tick();
            ticks++;
        }
        return ticks;
    }

    /** Ticks until the node leaves the follower role (starts a pre-vote or an election). */
    int tickUntilCampaign() {
        return tickUntil(n -> n.role() != Role.FOLLOWER);
    }

    void deliver(Message m) {
        node.step(m);
    }

    /** Delivers {@code m}, then drains: the outbox that answers it. */
    Ready deliverAndDrain(Message m) {
        node.step(m);
        return drain();
    }

    ProposeOutcome propose(String command) {
        return node.propose(Bytes.utf8(command));
    }

    /**
     * Takes the outbox and carries it out as the runtime does: entries and hard state go to storage
     * (then sync), committed entries are recorded as applied, and the node is told via advance().
     */
    Ready drain() {
        Ready ready = node.ready();
        storage.append(ready.entries());
        storage.saveHardState(ready.hardState());
        storage.sync();
        for (InstallSnapshot chunk : ready.snapshotChunks()) {
            receive(chunk);
        }
        applied.addAll(ready.committed());
        reads.addAll(ready.reads());
        node.advance(ready);
        return ready;
    }

    /** Stores a snapshot chunk as the runtime does; the last one replaces the log. */
    private void receive(InstallSnapshot chunk) {
        try {
            if (chunk.offset() == 0) {
                incoming = storage.beginSnapshot(chunk.meta());
            }
            incoming.out().write(chunk.chunk().unsafeArray());
            if (chunk.done()) {
                incoming.commit();
                storage.resetToSnapshot(chunk.meta());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Drains until the node has nothing more to say; returns all the outboxes in order. */
    List<Ready> drainAll() {
        List<Ready> readies = new ArrayList<>();
        do {
            readies.add(drain());
        } while (node.hasReady());
        return readies;
    }

    /**
     * Times the node out and feeds it a grant from every other voter, first for the pre-vote (if on)
     * and then for the election, so that it leads.
     *
     * @return the outbox of the new leader: its no-op entry and its first AppendEntries
     */
    Ready winElection() {
        tickUntilCampaign();
        if (node.role() == Role.LEADER) {
            return drain(); // a one-voter cluster
        }
        drain();
        if (node.role() == Role.PRE_CANDIDATE) {
            for (int voter : others()) {
                deliver(preGrant(voter, id(), node.term() + 1));
            }
            drain();
        }
        for (int voter : others()) {
            deliver(grant(voter, id(), node.term()));
        }
        if (node.role() != Role.LEADER) {
            throw new AssertionError("did not win: " + node);
        }
        return drain();
    }

    /** On a leader: every follower acknowledges the whole log, so all are in REPLICATE and it commits. */
    Ready acknowledgeAll() {
        for (int voter : others()) {
            deliver(ack(voter, id(), node.term(), node.status().lastIndex()));
        }
        return drain();
    }

    /** A leader with every follower caught up and its no-op committed. */
    static NodeHarness leader(RaftConfig config, int... voters) {
        NodeHarness h = bootstrap(config, voters);
        h.winElection();
        h.acknowledgeAll();
        h.drainAll();
        return h;
    }

    /** A follower at {@code term} that has heard a heartbeat from {@code leader}. */
    static NodeHarness follower(RaftConfig config, int leader, long term, int... voters) {
        NodeHarness h = bootstrap(config, voters);
        h.deliver(heartbeat(leader, h.id(), term, 1, 1, 0));
        h.drainAll();
        return h;
    }

    List<Integer> others() {
        List<Integer> out = new ArrayList<>();
        for (int voter : node.members().voters()) {
            if (voter != id()) {
                out.add(voter);
            }
        }
        return out;
    }

    // ---- inspecting --------------------------------------------------------------------------

    /** The durable log, as {@code index/term} pairs' terms from index 1. */
    List<Long> logTerms() {
        List<Long> terms = new ArrayList<>();
        for (LogEntry e : storage.entries(1, storage.lastIndex() + 1, Long.MAX_VALUE)) {
            terms.add(e.term());
        }
        return terms;
    }

    List<LogEntry> log() {
        return storage.entries(1, storage.lastIndex() + 1, Long.MAX_VALUE);
    }

    Progress.State progressState(int peer) {
        return Progress.State.valueOf(node.status().peers().get(peer).state());
    }

    long matchIndex(int peer) {
        return node.status().peers().get(peer).matchIndex();
    }

    // ---- message and entry builders ----------------------------------------------------------

    static LogEntry entry(long index, long term) {
        return new LogEntry(index, term, EntryType.NORMAL, Bytes.utf8("e" + index + "t" + term));
    }

    static LogEntry entry(long index, long term, String command) {
        return new LogEntry(index, term, EntryType.NORMAL, Bytes.utf8(command));
    }

    static List<LogEntry> entries(long firstIndex, long... terms) {
        List<LogEntry> out = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            out.add(entry(firstIndex + i, terms[i]));
        }
        return out;
    }

    static AppendEntries append(int from, int to, long term, long prevIndex, long prevTerm,
                                List<LogEntry> entries, long commit) {
        return new AppendEntries(from, to, term, prevIndex, prevTerm, entries, commit, 0);
    }

    static AppendEntries heartbeat(int from, int to, long term, long prevIndex, long prevTerm, long commit) {
        return new AppendEntries(from, to, term, prevIndex, prevTerm, List.of(), commit, 0);
    }

    static RequestVote vote(int from, int to, long term, long lastIndex, long lastTerm) {
        return new RequestVote(from, to, term, lastIndex, lastTerm, false, false);
    }

    static RequestVote preVote(int from, int to, long term, long lastIndex, long lastTerm) {
        return new RequestVote(from, to, term, lastIndex, lastTerm, true, false);
    }

    static VoteResponse grant(int from, int to, long term) {
        return new VoteResponse(from, to, term, true, false);
    }

    static VoteResponse reject(int from, int to, long term) {
        return new VoteResponse(from, to, term, false, false);
    }

    static VoteResponse preGrant(int from, int to, long term) {
        return new VoteResponse(from, to, term, true, true);
    }

    static AppendResponse ack(int from, int to, long term, long index) {
        return AppendResponse.success(from, to, term, index, 0);
    }

    // ---- picking messages out of an outbox ---------------------------------------------------

    static <T extends Message> List<T> ofType(List<Message> messages, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (Message m : messages) {
            if (type.isInstance(m)) {
                out.add(type.cast(m));
            }
        }
        return out;
    }

    static <T extends Message> List<T> ofType(List<Message> messages, Class<T> type, int to) {
        List<T> out = new ArrayList<>();
        for (T m : ofType(messages, type)) {
            if (m.to() == to) {
                out.add(m);
            }
        }
        return out;
    }

    /** Every message of the outbox, sent before or after the sync. */
    static List<Message> allMessages(Ready ready) {
        List<Message> all = new ArrayList<>(ready.messages());
        all.addAll(ready.messagesAfterSync());
        return all;
    }

    @Override
    public String toString() {
        return node.toString();
    }
}
