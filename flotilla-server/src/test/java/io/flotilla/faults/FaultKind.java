package io.flotilla.faults;

/** The faults the {@link Nemesis} injects; each is undone before the next one starts. */
enum FaultKind {
    /** SIGKILL the leader; restart it on the same data directory when the fault ends. */
    KILL_LEADER,
    /** SIGKILL any node; restart it on the same data directory. */
    KILL_RANDOM,
    /** SIGSTOP the leader; SIGCONT when the fault ends. */
    PAUSE_LEADER,
    /** SIGSTOP any node; SIGCONT. */
    PAUSE_RANDOM,
    /** Cut every link to and from the leader. */
    ISOLATE_LEADER,
    /** Cut every link to and from one follower. */
    ISOLATE_FOLLOWER,
    /** Split the cluster into a majority and a minority at random (the leader on either side). */
    SPLIT,
    /**
     * {@code member remove} a follower, which then exits by itself; when the fault ends a fresh node
     * under a new id starts with {@code --join} and is added ({@code member add --wait}): a machine
     * replaced.
     */
    REPLACE_FOLLOWER,
    /**
     * A fresh node under a new id starts with {@code --join} and is added as a learner
     * ({@code member add --learner}); when the fault ends it is promoted ({@code member promote}).
     * With five members already, a follower is removed instead (REMOVE_FOLLOWER).
     */
    ADD_LEARNER,
    /** {@code member remove} a follower (with three members or fewer, a learner is added instead: ADD_LEARNER). */
    REMOVE_FOLLOWER,
    /**
     * {@code member remove} the leader: it hands over, steps down and exits by itself; when the fault
     * ends, with fewer than three members left, a fresh node joins and is added in its place.
     */
    REMOVE_LEADER;

    /** Faults that change the cluster's configuration. */
    boolean changesMembership() {
        return this == REPLACE_FOLLOWER || this == ADD_LEARNER || this == REMOVE_FOLLOWER || this == REMOVE_LEADER;
    }

    /** The faults every schedule but the membership one draws from (the "mixed" schedule's set). */
    static FaultKind[] withoutMembership() {
        return java.util.Arrays.stream(values()).filter(k -> !k.changesMembership()).toArray(FaultKind[]::new);
    }
}
