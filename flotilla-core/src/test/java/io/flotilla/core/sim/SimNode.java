package io.flotilla.core.sim;

import io.flotilla.core.SimulatedDriver;
import io.flotilla.core.protocol.RaftNode;

/**
 * One simulated server: a disk that outlives crashes, and while it is up, the protocol, driver and
 * state machine of its current incarnation.
 */
final class SimNode<C, Q, R> {
    final int id;
    /** Replaced by an empty disk when the node loses its state. */
    SimStorage storage;
    int incarnation;
    /** Lost its state and, rightly, refused to rejoin as the member it was: down for good. */
    boolean retired;
    /** Started with no state to join the cluster by a membership change (not a founder). */
    boolean joiner;
    /** Null while the node is down. */
    SimulatedDriver<C, Q, R> driver;

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
        return isUp() ? raft() + ", " + storage : "node " + id + (retired ? " RETIRED, " : " DOWN, ") + storage;
    }
}
