package io.flotilla.client.wire;

/**
 * Identifies one write of one client (Raft dissertation §6.3). The cluster remembers, per client,
 * the results of writes it has not yet been told are answered, and replays a result instead of
 * applying a retried write twice.
 *
 * @param clientId   chosen at random by the client, once per client instance
 * @param seq        the write's number in this client's sequence, from 1
 * @param ackedBelow every write with a lower sequence number has had its answer delivered, so the
 *                   cluster may forget those results
 * @param retry      an earlier attempt of this write may have been applied (its outcome was unknown:
 *                   a timeout, a lost connection, UNKNOWN_OUTCOME); if the cluster has forgotten the
 *                   session meanwhile it refuses the write rather than risk applying it twice
 */
public record Session(long clientId, long seq, long ackedBelow, boolean retry) {
    public Session {
        if (seq < 1 || ackedBelow < 1 || ackedBelow > seq) {
            throw new IllegalArgumentException("bad session numbers: seq " + seq + ", ackedBelow " + ackedBelow);
        }
    }

    /** The first attempt of a write. */
    public Session(long clientId, long seq, long ackedBelow) {
        this(clientId, seq, ackedBelow, false);
    }

    /** The same write, sent again after an attempt whose outcome is unknown. */
    public Session asRetry() {
        return new Session(clientId, seq, ackedBelow, true);
    }
}
