package io.flotilla.client;

import io.flotilla.client.wire.Session;
import java.util.TreeSet;

/**
 * The client's side of its cluster session (Raft dissertation §6.3): a random id, the next write's
 * sequence number, and the writes whose answers have not been delivered yet. Every write is
 * numbered once, and every retry of it carries the same numbers, so the cluster applies it once.
 *
 * <p>{@code ackedBelow} tells the cluster which outcomes it may forget: it is the lowest sequence
 * number still waiting for its answer.
 */
final class WriteSession {
    /**
     * The most writes that may be numbered but not yet acknowledged. The cluster keeps at most
     * 1,000,000 outcomes per session (and drops the oldest beyond that, after which a late retry of
     * that write could apply twice), so the client stays well below.
     */
    static final int MAX_UNACKNOWLEDGED = 500_000;

    private final long clientId;
    private long nextSeq = 1;
    private final TreeSet<Long> waiting = new TreeSet<>();

    WriteSession(long clientId) {
        this.clientId = clientId;
    }

    long clientId() {
        return clientId;
    }

    /** Numbers a new write; fails (nothing sent) if too many earlier writes are still unanswered. */
    synchronized Session next() {
        if (!waiting.isEmpty() && nextSeq - waiting.first() >= MAX_UNACKNOWLEDGED) {
            throw new ClusterUnavailableException("write " + waiting.first() + " of this client has waited for its answer while "
                    + MAX_UNACKNOWLEDGED + " later writes were started; not sending more until it is settled (not applied)",
                    false, null);
        }
        long seq = nextSeq++;
        waiting.add(seq);
        return new Session(clientId, seq, waiting.first());
    }

    /** The write's answer was delivered (or the client gave up on it). */
    synchronized void settled(Session session) {
        waiting.remove(session.seq());
    }

    /** The acknowledgement the next write would carry; for tests. */
    synchronized long ackedBelow() {
        return waiting.isEmpty() ? nextSeq : waiting.first();
    }
}
