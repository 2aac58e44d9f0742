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
    SPLIT
}
