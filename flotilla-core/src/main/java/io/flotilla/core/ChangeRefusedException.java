package io.flotilla.core;

/**
 * The leader refused a membership change by the rules of membership changes (one at a time, only
 * once it committed an entry of its term, a learner only once caught up, never below a reachable
 * quorum, a change that applies to the configuration); the message says why in one line. Nothing
 * was appended. Other failures of a change (not the leader, stopped) are plain {@link RaftException}s.
 */
public final class ChangeRefusedException extends RaftException {
    public ChangeRefusedException(String reason) {
        super(reason);
    }
}
