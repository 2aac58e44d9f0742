package io.flotilla.core.protocol;

import io.flotilla.core.ClusterConfig;
import java.util.Map;

/**
 * A node's view of itself and, on a leader, of its followers.
 *
 * @param peers   on a leader, each other member's replication progress by id; empty otherwise
 * @param members the configuration this node uses (the newest in its log)
 * @param membersCommitted {@code members} is committed (no membership change is under way)
 * @param removed a committed configuration removed this node: it takes no further part
 * @param droppedInvalid messages dropped because they contradicted what this node knows (forged, corrupt
 *                or from a buggy sender; docs/security.md)
 * @param leaderCommit the leader's commit index as far as this node knows it (its own on a leader; on a
 *                follower the highest the leader of this term announced, at least its own): how far
 *                behind {@code appliedIndex} is
 */
public record Status(int id, Role role, long term, int leader, long commitIndex, long appliedIndex,
                     long lastIndex, Map<Integer, PeerStatus> peers, ClusterConfig members, boolean membersCommitted,
                     boolean removed, long droppedInvalid, long leaderCommit) {
    /**
     * @param state PROBE (finding where the logs agree), REPLICATE (streaming entries) or SNAPSHOT (sending
     *              the snapshot: the follower needs entries the leader has compacted away)
     */
    public record PeerStatus(long matchIndex, long nextIndex, String state) {
    }
}
