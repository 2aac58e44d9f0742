package io.flotilla.client.wire;

import io.flotilla.core.Member;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A node's answer to {@link Request.StatusQuery}. {@code leaderId} is 0 when no leader is known.
 *
 * @param members the configuration this node uses, member id to kind; empty from a node of protocol
 *                version 2 or older, or from a node that waits to be added
 * @param removed a committed configuration removed this node from the cluster
 */
public record NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex,
                         long lastIndex, SortedMap<Integer, Member.Kind> members, boolean removed) {
    public NodeStatus {
        members = Collections.unmodifiableSortedMap(new TreeMap<>(members));
    }

    /** A status without the configuration (protocol versions 1 and 2). */
    public NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex, long lastIndex) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, lastIndex, new TreeMap<>(), false);
    }
}
