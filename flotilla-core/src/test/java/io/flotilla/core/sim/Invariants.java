package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import io.flotilla.core.protocol.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/**
 * Raft's safety properties (Raft paper, figure 3) and a few of the implementation's own, checked
 * over the whole history of a run, across crashes. The simulation reports what it observes after
 * every event; each check costs O(1) or O(log n) per observation, or is proportional to what
 * changed, so checking after every step stays cheap. Knows nothing of the application: commands
 * are compared as encoded bytes, and states as the bytes of their snapshots.
 *
 * <p>Snapshots: every snapshot a node commits or restores must stand for an entry some log really
 * held, agree with the committed history at its index, carry the configuration in force there,
 * and hold exactly the state of a {@link Replica} that applied the committed log up to its index.
 */
final class Invariants {
    /**
     * A reference copy of the application, fed the committed history in order, to which every
     * snapshot's state is compared.
     */
    interface Replica {
        void apply(long index, Bytes command);

        /** The state now, as the application writes it into a snapshot. */
        Bytes state();
    }

    private record IndexTerm(long index, long term) {
    }

    /** One entry in the history, by the chain value of the log ending at it: the entry and the chain before it. */
    private record Link(long previous, LogEntry entry) {
    }

    private record Applied(Bytes command, Object result, int node) {
    }

    /** What is known about one node in its current incarnation (reset on restart, except the terms). */
    private static final class NodeView {
        long term;
        long commit;
        /** Commit is checked against other logs up to here: the committed entries this node's disk holds yet. */
        long commitRecorded;
        /** The last index whose command the state machine applied. */
        long appliedCommand;
        /** The highest term the node ever put in a message that promises it (survives crashes). */
        long exposedTerm;
        /** {@link #commitVersion} when this node's log was last checked for Leader Completeness. */
        long completenessCheckedAt = -1;
        long completenessTerm;
        /** While leading: the term, and the log's last index and chain when last observed. */
        long ledTerm = -1;
        long ledLast;
        long ledChain;
    }

    private final NodeView[] views;
    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    private final Map<IndexTerm, Long> chainOfEntry = new HashMap<>();
    private final Map<Long, Long> committedChain = new HashMap<>();
    /** For each term, the highest index a node in that term knew to be committed. */
    private final TreeMap<Long, Long> committedInTerm = new TreeMap<>();
    private long commitVersion;
    private final Map<Long, Applied> appliedAt = new HashMap<>();
    private final Map<Long, Link> linkOfChain = new HashMap<>();

    /** The replica has applied the history up to {@code replicaIndex}; per index, its chain value and state hash. */
    private final Replica replica;
    private long replicaIndex;
    private long[] replicaChain = new long[256];
    private long[] replicaState = new long[256];
    /** The encoded configuration in force from each CONFIG entry the replica passed. */
    private final TreeMap<Long, Bytes> replicaConfig = new TreeMap<>();
    private long snapshotsChecked;

    Invariants(int nodes) {
        this(nodes, null);
    }

    /** With a {@link Replica} (null: snapshots' states are not compared). */
    Invariants(int nodes, Replica replica) {
        views = new NodeView[nodes + 1];
        for (int i = 1; i <= nodes; i++) {
            views[i] = new NodeView();
        }
        this.replica = replica;
        if (replica != null) {
            replicaState[0] = hash(replica.state());
        }
    }

    /** Snapshots whose state was compared with the replica's. */
    long snapshotsChecked() {
        return snapshotsChecked;
    }

    /** Elections that produced a leader. */
    int elections() {
        return leaderOfTerm.size();
    }

    /**
     * Log Matching: two logs with an entry of the same index and term hold identical entries up to
     * it. Every entry any node ever wrote is recorded with its chain value, so this covers logs
     * that no longer exist, too.
     */
    void appended(int node, LogEntry entry, long previousChain, long chain) {
        Long known = chainOfEntry.putIfAbsent(new IndexTerm(entry.index(), entry.term()), chain);
        if (known != null && known != chain) {
            throw new InvariantViolation("Log Matching", "node " + node + " wrote entry " + entry
                    + " whose log prefix differs from that of another log holding index " + entry.index()
                    + " in term " + entry.term());
        }
        linkOfChain.putIfAbsent(chain, new Link(previousChain, entry));
    }

    /**
     * The chain value of every log that holds entry {@code index} of {@code term} (by Log Matching
     * there is one), for a log that a snapshot replaced.
     */
    long chainOf(long index, long term) {
        Long chain = chainOfEntry.get(new IndexTerm(index, term));
        if (chain == null) {
            throw new InvariantViolation("Snapshot from history", "a snapshot stands for entry " + index + " of term " + term
                    + ", which no node's log ever held");
        }
        return chain;
    }

    /** Checks a node's state after an event. */
    void observe(int node, Role role, long term, long commit, long applied, SimStorage log) {
        observe(node, role, term, commit, applied, log.lastIndex(), log);
    }

    /** Checks a node's state after an event; its log is durable up to {@code persisted} (writes may be running). */
    void observe(int node, Role role, long term, long commit, long applied, long persisted, SimStorage log) {
        NodeView v = views[node];
        if (term < v.term) {
            throw new InvariantViolation("Term monotonic", "node " + node + " went from term " + v.term + " back to " + term);
        }
        v.term = term;
        if (commit < v.commit) {
            throw new InvariantViolation("Commit monotonic", "node " + node + " lowered its commit index from " + v.commit + " to " + commit);
        }
        if (applied > commit) {
            throw new InvariantViolation("Applied within commit", "node " + node + " applied " + applied + " beyond its commit index " + commit);
        }
        if (applied > log.lastIndex()) {
            throw new InvariantViolation("Applied from disk", "node " + node + " applied " + applied
                    + " but its disk holds entries up to " + log.lastIndex());
        }
        v.commit = commit;
        // A node may learn that entries commit before its own write of them is done (they are durable on
        // a quorum): they are compared with the other logs once on its disk.
        if (persisted > log.lastIndex()) {
            throw new InvariantViolation("Persisted on disk", "node " + node + " counts its log durable up to " + persisted
                    + " but its disk holds entries up to " + log.lastIndex());
        }
        long recordable = Math.min(commit, persisted);
        if (recordable > v.commitRecorded) {
            recordCommitted(node, term, v.commitRecorded, recordable, log);
            v.commitRecorded = recordable;
        }
        if (role == Role.LEADER) {
            checkElectionSafety(node, term);
            checkLeaderAppendOnly(node, term, log);
            checkLeaderCompleteness(node, term, log);
        } else {
            v.ledTerm = -1;
        }
    }

    /** Leader Append-Only: a leader never overwrites or deletes entries in its log, only appends. */
    private void checkLeaderAppendOnly(int node, long term, SimStorage log) {
        NodeView v = views[node];
        if (v.ledTerm == term && (log.lastIndex() < v.ledLast || log.chainAt(v.ledLast) != v.ledChain)) {
            throw new InvariantViolation("Leader Append-Only", "node " + node + ", leading term " + term
                    + ", changed its log at or below index " + v.ledLast + " (it now ends at " + log.lastIndex() + ")");
        }
        v.ledTerm = term;
        v.ledLast = log.lastIndex();
        v.ledChain = log.chainAt(v.ledLast);
    }

    private void recordCommitted(int node, long term, long from, long to, SimStorage log) {
        for (long i = Math.max(from + 1, log.chainStart()); i <= to; i++) {
            long chain = log.chainAt(i);
            Long known = committedChain.putIfAbsent(i, chain);
            if (known != null && known != chain) {
                LogEntry e = log.writtenEntry(i);
                throw new InvariantViolation("State Machine Safety", "node " + node + " committed "
                        + (e != null ? e : "the log up to its snapshot at index " + i)
                        + " but a different log was committed up to index " + i + " before");
            }
        }
        committedInTerm.merge(term, to, Math::max);
        commitVersion++;
    }

    /** Election Safety: at most one leader per term, over the whole run. */
    private void checkElectionSafety(int node, long term) {
        Integer leader = leaderOfTerm.putIfAbsent(term, node);
        if (leader != null && leader != node) {
            throw new InvariantViolation("Election Safety", "nodes " + leader + " and " + node + " both led term " + term);
        }
    }

    /**
     * Leader Completeness: an entry known committed by a node in term t is in the log of every
     * leader of a term after t. The chain makes one comparison, at the highest such index, enough;
     * if the leader's log was replaced by a snapshot after that index, at the snapshot's index (whose
     * chain value stands for the whole prefix).
     */
    private void checkLeaderCompleteness(int node, long term, SimStorage log) {
        NodeView v = views[node];
        if (v.completenessCheckedAt == commitVersion && v.completenessTerm == term) {
            return;
        }
        long required = 0;
        for (long index : committedInTerm.headMap(term, false).values()) {
            required = Math.max(required, index);
        }
        long at = Math.max(required, log.chainStart());
        Long expected = committedChain.get(at);
        if (required > 0 && (required > log.lastIndex() || (expected != null && log.chainAt(at) != expected))) {
            throw new InvariantViolation("Leader Completeness", "node " + node + " leads term " + term
                    + " but its log (last index " + log.lastIndex() + ") lacks the entries committed up to index "
                    + required + " in an earlier term");
        }
        v.completenessCheckedAt = commitVersion;
        v.completenessTerm = term;
    }

    /**
     * State Machine Safety, as the state machines see it: a node applies the command its log holds at
     * that index, no two nodes apply different commands at one index, and applying a command gives
     * the same result everywhere (apply is deterministic).
     */
    void applied(int node, long index, Bytes command, Object result, SimStorage log) {
        NodeView v = views[node];
        if (index > log.lastIndex() || !log.entry(index).data().equals(command)) {
            throw new InvariantViolation("Apply from log", "node " + node + " applied " + command + " at index " + index
                    + " but its log holds " + (index > log.lastIndex() ? "no entry there" : log.entry(index)));
        }
        if (index <= v.appliedCommand) {
            throw new InvariantViolation("Apply order", "node " + node + " applied index " + index + " after " + v.appliedCommand);
        }
        v.appliedCommand = index;
        Applied first = appliedAt.putIfAbsent(index, new Applied(command, result, node));
        if (first == null) {
            return;
        }
        if (!first.command().equals(command)) {
            throw new InvariantViolation("State Machine Safety", "at index " + index + " node " + first.node()
                    + " applied " + first.command() + " but node " + node + " applied " + command);
        }
        if (!Objects.equals(first.result(), result)) {
            throw new InvariantViolation("Deterministic apply", "at index " + index + " node " + first.node()
                    + " got " + first.result() + " but node " + node + " got " + result);
        }
    }

    /**
     * A node committed a snapshot, its own or a leader's: it must stand for an entry of the history,
     * at an index whose committed entry it agrees with, with that point's configuration and state.
     */
    void snapshotCommitted(int node, SnapshotMeta meta, Bytes data) {
        checkSnapshot(node, meta, data, "committed a snapshot");
    }

    /** A node's state machine was restored from a snapshot (at start, or from a leader's). */
    void restored(int node, SnapshotMeta meta, Bytes data) {
        NodeView v = views[node];
        if (meta.index() < v.appliedCommand) {
            throw new InvariantViolation("Restore order", "node " + node + " restored the snapshot at index " + meta.index()
                    + " after applying up to " + v.appliedCommand);
        }
        v.appliedCommand = meta.index();
        checkSnapshot(node, meta, data, "restored its state machine from a snapshot");
    }

    private void checkSnapshot(int node, SnapshotMeta meta, Bytes data, String what) {
        String where = "node " + node + " " + what + " at index " + meta.index() + " of term " + meta.term();
        Long chain = chainOfEntry.get(new IndexTerm(meta.index(), meta.term()));
        if (chain == null) {
            throw new InvariantViolation("Snapshot from history", where + ", an entry no node's log ever held");
        }
        Long committed = committedChain.putIfAbsent(meta.index(), chain);
        if (committed != null && committed != (long) chain) {
            throw new InvariantViolation("Snapshot agrees with commits", where + ", but a different log was committed up to that index");
        }
        if (replica == null) {
            return;
        }
        advanceReplica(where, meta.index(), chain);
        if (replicaChain[(int) meta.index()] != chain) {
            throw new InvariantViolation("Snapshot agrees with commits", where + ", but the history that snapshots and commits"
                    + " agreed on so far holds another entry there");
        }
        Map.Entry<Long, Bytes> inForce = replicaConfig.floorEntry(meta.index());
        Bytes config = inForce == null ? null : inForce.getValue();
        if (config != null && !config.equals(meta.config().encode())) {
            throw new InvariantViolation("Snapshot configuration", where + " with configuration " + meta.config()
                    + ", but the configuration in force there is " + io.flotilla.core.ClusterConfig.decode(config));
        }
        if (replicaState[(int) meta.index()] != hash(data)) {
            throw new InvariantViolation("Snapshot state", where + ", but its state (" + data.length() + " bytes) differs from"
                    + " that of a replica that applied the committed log up to there");
        }
        snapshotsChecked++;
    }

    /**
     * Moves the replica along the history ending at the entry whose log has {@code chain} at {@code index}
     * (walking back from it through the entries written), checking that it continues what the replica
     * applied so far.
     */
    private void advanceReplica(String where, long index, long chain) {
        if (index <= replicaIndex) {
            return;
        }
        List<LogEntry> path = new ArrayList<>();
        List<Long> chains = new ArrayList<>();
        long c = chain;
        for (long i = index; i > replicaIndex; i--) {
            Link link = linkOfChain.get(c);
            if (link == null || link.entry().index() != i) {
                throw new AssertionError("no entry " + i + " known for chain value " + c + " (" + where + ")");
            }
            path.add(link.entry());
            chains.add(c);
            c = link.previous();
        }
        if (c != replicaChain[(int) replicaIndex]) {
            throw new InvariantViolation("Snapshot agrees with commits", where + ", but its history differs at or before index "
                    + replicaIndex + " from the one earlier snapshots stood for");
        }
        if (replicaChain.length <= index) {
            int size = (int) Math.max(index + 1, replicaChain.length * 2L);
            replicaChain = Arrays.copyOf(replicaChain, size);
            replicaState = Arrays.copyOf(replicaState, size);
        }
        for (int k = path.size() - 1; k >= 0; k--) {
            LogEntry e = path.get(k);
            if (e.type() == EntryType.NORMAL) {
                replica.apply(e.index(), e.data());
            } else if (e.type() == EntryType.CONFIG) {
                replicaConfig.put(e.index(), e.data());
            }
            replicaIndex = e.index();
            replicaChain[(int) replicaIndex] = chains.get(k);
            replicaState[(int) replicaIndex] = hash(replica.state());
        }
    }

    /** A 64-bit FNV-1a hash of the bytes. */
    private static long hash(Bytes data) {
        long h = 0xcbf29ce484222325L;
        for (byte b : data.unsafeArray()) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h ^ data.length();
    }

    /**
     * A node may tell others a term only once it is durable, or after a crash it could vote twice
     * in it. Pre-vote requests and granted pre-votes carry a term nobody is in yet, so they are exempt.
     */
    /**
     * Single-server changes keep every committed entry on enough voters that each quorum of the
     * configuration in force includes one: at least {@code voters - quorum + 1} of them.
     *
     * @param holds whether a voter holds the entry {@code (index, term)} durably (or can never vote against it)
     */
    static void checkHeldByQuorum(ClusterConfig config, long index, long term, int leader, IntPredicate holds) {
        int holders = 0;
        for (int voter : config.voters()) {
            if (holds.test(voter)) {
                holders++;
            }
        }
        int needed = config.voters().size() - config.quorum() + 1;
        if (holders < needed) {
            throw new InvariantViolation("Committed entries on a quorum", "entry " + index + " (term " + term + ") is durable on "
                    + holders + " voters of " + config + " used by leader " + leader + ", but every quorum of it needs one:"
                    + " at least " + needed + " of them must hold it");
        }
    }

    void sent(int node, Message m, long durableTerm) {
        boolean hypothetical = m instanceof RequestVote rv && rv.preVote()
                || m instanceof VoteResponse vr && vr.preVote() && vr.granted();
        if (hypothetical) {
            return;
        }
        if (m.term() > durableTerm) {
            throw new InvariantViolation("Durable term", "node " + node + " sent " + m + " before term " + m.term()
                    + " was durable (durable term " + durableTerm + ")");
        }
        views[node].exposedTerm = Math.max(views[node].exposedTerm, m.term());
    }

    /**
     * A node lost its disk: it starts again from nothing, as a new node would. What it did before stays
     * in the history, so every check across nodes still holds it to that.
     */
    void stateLost(int node) {
        views[node] = new NodeView();
    }

    /** A node came back: its term must not have gone back past what it told others. */
    void restarted(int node, long term) {
        NodeView v = views[node];
        if (term < v.exposedTerm) {
            throw new InvariantViolation("Durable term", "node " + node + " restarted in term " + term
                    + " after telling others term " + v.exposedTerm);
        }
        v.term = term;
        v.commit = 0;
        v.commitRecorded = 0;
        v.appliedCommand = 0;
        v.completenessCheckedAt = -1;
        v.ledTerm = -1;
    }
}
