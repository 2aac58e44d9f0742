package io.flotilla.core.storage;

import java.util.Objects;

/**
 * Whose data a directory holds. Recorded on first open and checked on every later one, so a node
 * pointed at another node's (or another cluster's) directory refuses to start instead of joining
 * with somebody else's log and vote.
 */
public record Identity(String clusterId, int nodeId) {
    public Identity {
        Objects.requireNonNull(clusterId, "clusterId");
        if (clusterId.isBlank() || clusterId.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("cluster id must be non-blank printable text: '" + clusterId + "'");
        }
        if (nodeId <= 0) {
            throw new IllegalArgumentException("node ids are positive: " + nodeId);
        }
    }

    @Override
    public String toString() {
        return "cluster '" + clusterId + "' node " + nodeId;
    }
}
