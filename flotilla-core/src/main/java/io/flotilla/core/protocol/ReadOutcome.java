package io.flotilla.core.protocol;

/** What became of a read request ({@link RaftNode#read(long)}). */
public sealed interface ReadOutcome {
    long id();

    /**
     * Leadership was confirmed after the read arrived: the read may be served once the state
     * machine has applied {@code index}.
     */
    record Ready(long id, long index) implements ReadOutcome {
    }

    /** This node is not (or no longer) the leader; {@code leader} is the one it knows, 0 if none. */
    record NotLeader(long id, int leader) implements ReadOutcome {
    }
}
