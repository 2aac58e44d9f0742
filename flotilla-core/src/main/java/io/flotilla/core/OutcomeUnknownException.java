package io.flotilla.core;

/**
 * This node can no longer tell whether a command was applied: it may have been, by a leader this
 * node lost touch with. Retrying is safe only if the command is idempotent or carries a session.
 */
public final class OutcomeUnknownException extends RuntimeException {
    public OutcomeUnknownException(String message) {
        super(message, null, false, false);
    }
}
