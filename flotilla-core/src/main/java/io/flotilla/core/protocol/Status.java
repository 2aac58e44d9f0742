package io.flotilla.core.protocol;

import java.util.Map;

/**
 * A node's view of itself and, on a leader, of its followers.
 *
 * @param peers on a leader, each follower's replication progress by id; empty otherwise
 */
public record Status(int id, Role role, long term, int leader, long commitIndex, long appliedIndex,
                     long lastIndex, Map<Integer, PeerStatus> peers) {
    /** @param state PROBE (finding where logs agree) or REPLICATE (streaming) */
    public record PeerStatus(long matchIndex, long nextIndex, String state) {
    }
}
