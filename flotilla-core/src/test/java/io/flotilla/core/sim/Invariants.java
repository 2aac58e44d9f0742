package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.LogEntry;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import io.flotilla.core.protocol.Role;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Raft's safety properties (Raft paper, figure 3) and a few of the implementation's own, checked
 * over the whole history of a run, across crashes. The simulation reports what it observes after
 * every event; each check costs O(1) or O(log n) per observation, or is proportional to what
 * changed, so checking after every step stays cheap. Knows nothing of the application: commands
 * are compared as encoded bytes.
 */
final class Invariants {
    private record IndexTerm(long index, long term) {
    }

    private record Applied(Bytes command, Object result, int node) {
    }

    /** What is known about one node in its current incarnation (reset on restart, except the terms). */
    private static final class NodeView {
        long term;
        long commit;
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

    Invariants(int nodes) {
        views = new NodeView[nodes + 1];
        for (int i = 1; i <= nodes; i++) {
            views[i] = new NodeView();
        }
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
    void appended(int node, LogEntry entry, long chain) {
        Long known = chainOfEntry.putIfAbsent(new IndexTerm(entry.index(), entry.term()), chain);
        if (known != null && known != chain) {
            throw new InvariantViolation("Log Matching", "node " + node + " wrote entry " + entry
                    + " whose log prefix differs from that of another log holding index " + entry.index()
                    + " in term " + entry.term());
        }
    }

    /** Checks a node's state after an event. */
    void observe(int node, Role role, long term, long commit, long applied, SimStorage log) {
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
        if (commit > log.lastIndex()) {
            throw new InvariantViolation("Commit within log", "node " + node + " commits " + commit + " but its log ends at " + log.lastIndex());
        }
        if (commit > v.commit) {
            recordCommitted(node, term, v.commit, commit, log);
            v.commit = commit;
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
        for (long i = from + 1; i <= to; i++) {
            long chain = log.chainAt(i);
            Long known = committedChain.putIfAbsent(i, chain);
            if (known != null && known != chain) {
                throw new InvariantViolation("State Machine Safety", "node " + node + " committed " + log.entry(i)
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
     * leader of a term after t. The chain makes one comparison, at the highest such index, enough.
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
        if (required > 0 && (required > log.lastIndex() || log.chainAt(required) != committedChain.get(required))) {
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
     * A node may tell others a term only once it is durable, or after a crash it could vote twice
     * in it. Pre-vote requests and granted pre-votes carry a term nobody is in yet, so they are exempt.
     */
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

    /** A node came back: its term must not have gone back past what it told others. */
    void restarted(int node, long term) {
        NodeView v = views[node];
        if (term < v.exposedTerm) {
            throw new InvariantViolation("Durable term", "node " + node + " restarted in term " + term
                    + " after telling others term " + v.exposedTerm);
        }
        v.term = term;
        v.commit = 0;
        v.appliedCommand = 0;
        v.completenessCheckedAt = -1;
        v.ledTerm = -1;
    }
}
