package io.flotilla.core.protocol;

import java.util.ArrayDeque;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * A leader's linearizable reads (ReadIndex, dissertation §6.4). Each read records the commit index
 * when it arrived and waits until a quorum answered a heartbeat round that started after it: then no
 * other leader can have committed anything this one does not know. Reads that arrive before the
 * leader committed an entry of its own term wait for that first (the commit index may lag until then).
 * Every AppendEntries carries the current round; reads asked for between two {@code ready()} calls
 * share the next one.
 */
final class ReadIndex {
    private record PendingRead(long id, long index, long round) {
    }

    private long round;
    private boolean roundWanted;
    private final ArrayDeque<Long> beforeCommit = new ArrayDeque<>();
    private final ArrayDeque<PendingRead> pending = new ArrayDeque<>();

    /** The current heartbeat round. */
    long round() {
        return round;
    }

    /** A new leadership: rounds count from 0 again (a round is only compared within one term). */
    void reset() {
        round = 0;
        roundWanted = false;
    }

    /** A read that must wait for the leader's first commit in its term. */
    void waitForCommit(long readId) {
        beforeCommit.add(readId);
    }

    /** A read at {@code commitIndex}, released once a quorum answers the next round. */
    void add(long readId, long commitIndex) {
        pending.add(new PendingRead(readId, commitIndex, round + 1));
        roundWanted = true;
    }

    /** The leader committed its first entry of the term: the reads that waited for it take this index. */
    void committedInTerm(long commitIndex) {
        while (!beforeCommit.isEmpty()) {
            add(beforeCommit.poll(), commitIndex);
        }
    }

    /** Starts the round reads asked for, if any: true if every follower must hear it now. */
    boolean startWantedRound() {
        if (!roundWanted) {
            return false;
        }
        round++;
        roundWanted = false;
        return true;
    }

    /**
     * Releases, in order, the reads whose round enough nodes answered.
     *
     * @param answered how many nodes (this one included) answered a given round or a later one
     */
    void confirm(LongUnaryOperator answered, int quorum, List<ReadOutcome> out) {
        while (!pending.isEmpty() && answered.applyAsLong(pending.peek().round()) >= quorum) {
            PendingRead r = pending.poll();
            out.add(new ReadOutcome.Ready(r.id(), r.index()));
        }
    }

    /** Leadership is lost: every read waiting is refused, naming the leader if known. */
    void failAll(int leader, List<ReadOutcome> out) {
        beforeCommit.forEach(readId -> out.add(new ReadOutcome.NotLeader(readId, leader)));
        pending.forEach(r -> out.add(new ReadOutcome.NotLeader(r.id(), leader)));
        beforeCommit.clear();
        pending.clear();
    }
}
