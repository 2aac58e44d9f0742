package io.flotilla.core.sim;

/** The kinds of fault a simulation run may inject; each run enables a random subset (swarm testing). */
enum FaultKind {
    /** Messages are lost. */
    DROP,
    /** Messages arrive twice. */
    DUPLICATE,
    /** Some messages are very late, so they arrive out of order and after their sender moved on. */
    DELAY,
    /** The network splits: random halves, an isolated leader, or a link cut one way only. */
    PARTITION,
    /** A node loses power between events, and restarts later from what its disk kept. */
    CRASH,
    /** A node loses power in the middle of writing to disk: unsynced writes are lost or torn. */
    CRASH_IN_IO,
    /** Nodes' clocks run at different rates. */
    CLOCK_SKEW,
    /** The leader hands leadership to another node. */
    TRANSFER,
    /**
     * A crashed node loses its disk: it restarts with no state at all, and must find out that the
     * cluster exists rather than found it again (at most one node per run, drawn apart from the others).
     */
    STATE_LOSS,
    /**
     * The leader is asked to change the membership: add a fresh node as a learner (promoted by hand or
     * once caught up), promote a learner, or remove a member (the leader included). Drawn last.
     */
    MEMBERSHIP
}
