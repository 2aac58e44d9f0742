package io.flotilla.core.protocol;

/**
 * The protocol's settings, in ticks and counts; the runtime decides how long a tick is.
 *
 * @param id              this node's id (positive)
 * @param electionTicks   a follower that hears no leader for a random time in
 *                        {@code [electionTicks, 2 * electionTicks)} starts an election; a leader that
 *                        hears from no quorum for {@code electionTicks} steps down (CheckQuorum)
 * @param heartbeatTicks  how often a leader sends heartbeats; well below {@code electionTicks}
 * @param maxInflight     AppendEntries messages in flight to one follower (the pipelining window)
 * @param maxBatchBytes   payload bytes in one AppendEntries (at least one entry is always sent)
 * @param maxBatchEntries entries in one AppendEntries
 * @param maxApplyEntries committed entries handed to the state machine in one {@link Ready}
 * @param preVote         ask for pre-votes before starting a real election (dissertation §9.6)
 * @param checkQuorum     a leader steps down when it loses touch with a quorum, and followers that
 *                        hear a leader ignore vote requests (dissertation §6.2, §9.6)
 * @param catchUpEntries  a learner counts as caught up, and may be promoted to voter, once it holds
 *                        the leader's log up to at most this many entries from its end
 */
public record RaftConfig(int id, int electionTicks, int heartbeatTicks, int maxInflight,
                         int maxBatchBytes, int maxBatchEntries, int maxApplyEntries,
                         boolean preVote, boolean checkQuorum, int catchUpEntries) {
    /**
     * The default election timeout, in ticks: the one source of the default, which flotilla-server's
     * {@code --election-ticks} uses too. With the default 10 ms tick
     * ({@code RaftRuntime.Options.DEFAULT_TICK_MILLIS}) a follower that hears no leader campaigns after
     * 200-400 ms: a dead leader is replaced in well under half a second, while GC pauses and fsync
     * stalls of a loaded machine (tens of ms) stay far from the timeout.
     */
    public static final int DEFAULT_ELECTION_TICKS = 20;
    /** The default heartbeat interval, in ticks (50 ms with the default tick): a quarter of the election timeout. */
    public static final int DEFAULT_HEARTBEAT_TICKS = 5;

    public RaftConfig {
        require(id > 0, "id must be positive, got " + id);
        require(heartbeatTicks >= 1, "heartbeatTicks must be at least 1, got " + heartbeatTicks);
        require(electionTicks > heartbeatTicks,
                "electionTicks (" + electionTicks + ") must exceed heartbeatTicks (" + heartbeatTicks + ")");
        require(maxInflight >= 1, "maxInflight must be at least 1, got " + maxInflight);
        require(maxBatchBytes >= 1, "maxBatchBytes must be at least 1, got " + maxBatchBytes);
        require(maxBatchEntries >= 1, "maxBatchEntries must be at least 1, got " + maxBatchEntries);
        require(maxApplyEntries >= 1, "maxApplyEntries must be at least 1, got " + maxApplyEntries);
        require(catchUpEntries >= 0, "catchUpEntries must not be negative, got " + catchUpEntries);
    }

    /**
     * Defaults: election after {@link #DEFAULT_ELECTION_TICKS} to twice that, heartbeat every
     * {@link #DEFAULT_HEARTBEAT_TICKS}, 64 batches of up to 1 MiB in flight, a learner caught up within
     * 1,000 entries.
     */
    public static RaftConfig defaults(int id) {
        return new RaftConfig(id, DEFAULT_ELECTION_TICKS, DEFAULT_HEARTBEAT_TICKS, 64, 1 << 20, 4096, 4096, true, true, 1000);
    }

    public RaftConfig withTimings(int electionTicks, int heartbeatTicks) {
        return new RaftConfig(id, electionTicks, heartbeatTicks, maxInflight, maxBatchBytes,
                maxBatchEntries, maxApplyEntries, preVote, checkQuorum, catchUpEntries);
    }

    public RaftConfig withBatching(int maxInflight, int maxBatchBytes, int maxBatchEntries) {
        return new RaftConfig(id, electionTicks, heartbeatTicks, maxInflight, maxBatchBytes,
                maxBatchEntries, maxApplyEntries, preVote, checkQuorum, catchUpEntries);
    }

    public RaftConfig withPreVote(boolean preVote) {
        return new RaftConfig(id, electionTicks, heartbeatTicks, maxInflight, maxBatchBytes,
                maxBatchEntries, maxApplyEntries, preVote, checkQuorum, catchUpEntries);
    }

    public RaftConfig withCheckQuorum(boolean checkQuorum) {
        return new RaftConfig(id, electionTicks, heartbeatTicks, maxInflight, maxBatchBytes,
                maxBatchEntries, maxApplyEntries, preVote, checkQuorum, catchUpEntries);
    }

    public RaftConfig withCatchUpEntries(int catchUpEntries) {
        return new RaftConfig(id, electionTicks, heartbeatTicks, maxInflight, maxBatchBytes,
                maxBatchEntries, maxApplyEntries, preVote, checkQuorum, catchUpEntries);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
