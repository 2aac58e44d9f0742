package io.flotilla.client.wire;

/** A node's answer to {@link Request.StatusQuery}. {@code leaderId} is 0 when no leader is known. */
public record NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex,
                         long lastIndex) {
}
