package io.flotilla.client;

import io.flotilla.client.wire.NodeStatus;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** What every known node said about itself, or why it did not answer. */
public record ClusterStatus(List<Node> nodes) {
    public ClusterStatus {
        nodes = List.copyOf(nodes);
    }

    /**
     * One node: its {@code status} if it answered, else {@code error} says why not.
     */
    public record Node(InetSocketAddress address, Optional<NodeStatus> status, String error) {
        public boolean reachable() {
            return status.isPresent();
        }

        public String describeAddress() {
            return HostPort.format(address);
        }
    }

    /** The node that says it leads (the one in the newest term, should two say so). */
    public Optional<Node> leader() {
        return nodes.stream()
                .filter(n -> n.status().map(s -> "LEADER".equals(s.role())).orElse(false))
                .max(Comparator.comparingLong(n -> n.status().orElseThrow().term()));
    }

    /** The leader's id: the one that leads, else the one the nodes in the newest term name; 0 if none. */
    public int leaderId() {
        Optional<Node> leader = leader();
        if (leader.isPresent()) {
            return leader.get().status().orElseThrow().nodeId();
        }
        return nodes.stream().flatMap(n -> n.status().stream())
                .filter(s -> s.leaderId() != 0)
                .max(Comparator.comparingLong(NodeStatus::term))
                .map(NodeStatus::leaderId).orElse(0);
    }

    public List<Node> unreachable() {
        return nodes.stream().filter(n -> !n.reachable()).toList();
    }
}
