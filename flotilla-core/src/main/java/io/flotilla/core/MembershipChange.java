package io.flotilla.core;

/**
 * One change to the cluster's configuration. Changes go through the log one at a time (the Raft
 * dissertation's single-server changes, §4.2): a learner joins without changing the voters, and
 * promoting or removing one member changes the voters by one, so any majority of the old voters
 * and any majority of the new ones overlap.
 */
public sealed interface MembershipChange {
    /** The node the change is about. */
    int id();

    /**
     * Adds a non-voting member that receives the log. With {@code promoteWhenCaughtUp} the leader
     * promotes it to voter by itself once it is within the configured distance of the leader's log.
     */
    record AddLearner(int id, String address, boolean promoteWhenCaughtUp) implements MembershipChange {
    }

    /** Makes a caught-up learner a voter. */
    record Promote(int id) implements MembershipChange {
    }

    /** Removes a member; its id is never used again in this cluster. */
    record Remove(int id) implements MembershipChange {
    }
}
