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
 * @param details what an operator reads beside the protocol state; {@link Details#UNKNOWN} from a node
 *                of protocol version 3 or older
 */
public record NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex,
                         long lastIndex, SortedMap<Integer, Member.Kind> members, boolean removed, Details details) {
    public NodeStatus {
        members = Collections.unmodifiableSortedMap(new TreeMap<>(members));
    }

    /** A status without details (protocol version 3). */
    public NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex,
                      long lastIndex, SortedMap<Integer, Member.Kind> members, boolean removed) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, lastIndex, members, removed, Details.UNKNOWN);
    }

    /**
     * Protocol version 4.
     *
     * @param version          the node's software version; empty if unknown (an older node)
     * @param uptimeMillis     since the process started
     * @param leaderCommit     the leader's commit index as far as this node knows it
     * @param snapshotIndex    the newest snapshot's last index; 0 for none
     * @param snapshotTerm     its term
     * @param snapshotTimeMillis when it was written (epoch ms); 0 for none
     * @param keyCount         keys in the state machine
     * @param dataDirBytes     bytes of the data directory (measured at most once a second)
     * @param healthProblem    why the node is unhealthy; empty when healthy (the /health check)
     * @param writes           writes clients sent to this node since it started (relayed to the leader or not);
     *                         a write relayed to the leader counts only where it entered, so the members' sum is
     *                         the cluster's (for writes/s on the cluster page)
     * @param reads            reads likewise
     */
    public record Details(String version, long uptimeMillis, long leaderCommit, long snapshotIndex, long snapshotTerm,
                          long snapshotTimeMillis, long keyCount, long dataDirBytes, String healthProblem, long writes, long reads) {
        public static final Details UNKNOWN = new Details("", 0, 0, 0, 0, 0, 0, 0, "", 0, 0);

        /** Details without request counters. */
        public Details(String version, long uptimeMillis, long leaderCommit, long snapshotIndex, long snapshotTerm,
                       long snapshotTimeMillis, long keyCount, long dataDirBytes, String healthProblem) {
            this(version, uptimeMillis, leaderCommit, snapshotIndex, snapshotTerm, snapshotTimeMillis, keyCount, dataDirBytes,
                    healthProblem, 0, 0);
        }

        public boolean known() {
            return !version.isEmpty();
        }

        public boolean healthy() {
            return healthProblem.isEmpty();
        }
    }

    /** How many entries this node's applied index trails the leader's commit index, as far as it knows. */
    public long lag() {
        return Math.max(0, details.leaderCommit() - appliedIndex);
    }

    /** A status without the configuration (protocol versions 1 and 2). */
    public NodeStatus(int nodeId, String role, long term, int leaderId, long commitIndex, long appliedIndex, long lastIndex) {
        this(nodeId, role, term, leaderId, commitIndex, appliedIndex, lastIndex, new TreeMap<>(), false);
    }
}
