package io.flotilla.core.protocol;

/** The immediate answer to a proposal: where it went in the log, or why it was refused. */
public sealed interface ProposeOutcome {
    /** Appended at {@code index} in {@code term}; it is applied if and only if that entry commits. */
    record Accepted(long index, long term) implements ProposeOutcome {
    }

    /** Not the leader; {@code leader} is the one this node knows, 0 if none. */
    record NotLeader(int leader) implements ProposeOutcome {
    }

    /**
     * The leader refused it; {@code reason} says why in one line. Nothing was appended. With
     * {@code retrySoon}, the same request is likely to succeed in a moment (a new leader has not yet
     * committed an entry of its term).
     */
    record Refused(String reason, boolean retrySoon) implements ProposeOutcome {
        public Refused(String reason) {
            this(reason, false);
        }
    }

    /** The leader is handing leadership to {@code transferee} and takes no new proposals meanwhile. */
    record Transferring(int transferee) implements ProposeOutcome {
    }
}
