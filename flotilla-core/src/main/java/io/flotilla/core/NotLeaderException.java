package io.flotilla.core;

/** This node does not lead; {@link #leader()} is the node it believes does, or 0 if it knows none. */
public final class NotLeaderException extends RaftException {
    private final int leader;

    public NotLeaderException(int leader) {
        super(leader == 0 ? "not the leader, and no leader is known" : "not the leader; node " + leader + " is");
        this.leader = leader;
    }

    public int leader() {
        return leader;
    }
}
