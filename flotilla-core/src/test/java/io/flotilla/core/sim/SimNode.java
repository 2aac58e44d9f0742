package io.flotilla.core.sim;

import io.flotilla.core.NodeDriver;
import io.flotilla.core.protocol.RaftNode;

/**
 * One simulated server: a disk that outlives crashes, and while it is up, the protocol, driver and
 * state machine of its current incarnation.
 */
final class SimNode<C, Q, R> {
    final int id;
    final SimStorage storage;
    int incarnation;
    /** Null while the node is down. */
    NodeDriver<C, Q, R> driver;

    SimNode(int id, SimStorage storage) {
        this.id = id;
        this.storage = storage;
    }

    boolean isUp() {
        return driver != null;
    }

    RaftNode raft() {
        return driver.node();
    }

    @Override
    public String toString() {
        return isUp() ? raft() + ", " + storage : "node " + id + " DOWN, " + storage;
    }
}
