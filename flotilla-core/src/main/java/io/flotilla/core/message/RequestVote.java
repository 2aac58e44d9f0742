package io.flotilla.core.message;

/**
 * Asks for a vote (Raft §5.2). With {@code preVote} it only asks whether the receiver would vote
 * for {@code term}, without anyone changing term (dissertation §9.6). {@code transfer} marks an
 * election started by a leadership transfer, which voters honour even while they hear a leader.
 */
public record RequestVote(int from, int to, long term, long lastLogIndex, long lastLogTerm,
                          boolean preVote, boolean transfer) implements Message {
    @Override
    public Kind kind() {
        return Kind.REQUEST_VOTE;
    }
}
