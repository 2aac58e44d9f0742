package io.flotilla.client;

import io.flotilla.client.wire.Session;
import java.util.TreeSet;

/**
 * The client's side of its cluster session (Raft dissertation §6.3): a random id, the next write's
 * sequence number, and the writes whose answers have not been delivered yet. Every write is
 * numbered once, and every retry of it carries the same numbers, so the cluster applies it once.
 *
 * <p>{@code ackedBelow} tells the cluster which outcomes it may forget: it is the lowest sequence
 * number still waiting for its answer. Public for the server's Redis port, whose connections are sessions too.
 */
public final class WriteSession {
    /**
     * The most writes that may be numbered but not yet acknowledged. A session holding this many
     * unacknowledged outcomes has its new writes refused by the cluster (UNAVAILABLE; 10,000 unless
     * the leader runs with another --max-session-outcomes), so by default the client stops first.
     */
    static final int MAX_UNACKNOWLEDGED = 10_000;

    private final long clientId;
    private long nextSeq = 1;
    private final TreeSet<Long> waiting = new TreeSet<>();

    public WriteSession(long clientId) {
        this.clientId = clientId;
    }

    long clientId() {
        return clientId;
    }

    /** Numbers a new write; fails (nothing sent) if too many earlier writes are still unanswered. */
    public synchronized Session next() {
        if (!waiting.isEmpty() && nextSeq - waiting.first() >= MAX_UNACKNOWLEDGED) {
            throw new ClusterUnavailableException("write " + waiting.first() + " of this client has waited for its answer while "
                    + MAX_UNACKNOWLEDGED + " later writes were started; not sending more until it is settled (not applied)",
                    false, null);
        }
        long seq = nextSeq++;
        waiting.add(seq);
        return new Session(clientId, seq, waiting.first());
    }

    /**
     * {@code s} (a write of this session still waiting) carrying the acknowledgement as it is now:
     * every attempt tells the cluster which outcomes it may forget, so a write refused while its
     * session was full gets through once earlier writes are answered, without waiting for a new write.
     */
    public synchronized Session refreshed(Session s) {
        long acked = Math.min(s.seq(), waiting.isEmpty() ? nextSeq : waiting.first());
        return s.clientId() == clientId && acked > s.ackedBelow() ? new Session(clientId, s.seq(), acked, s.retry()) : s;
    }

    /** The write's answer was delivered (or the client gave up on it). */
    public synchronized void settled(Session session) {
        waiting.remove(session.seq());
    }

    /** The acknowledgement the next write would carry; for tests. */
    synchronized long ackedBelow() {
        return waiting.isEmpty() ? nextSeq : waiting.first();
    }
}
