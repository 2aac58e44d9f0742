package io.flotilla.core;

/**
 * A request the node refused or abandoned before applying it: the command was certainly not
 * applied, so it is safe to retry (on the leader). Outcomes that are unknown never use this type;
 * they show as a caller's timeout.
 */
public class RaftException extends RuntimeException {
    public RaftException(String message) {
        super(message, null, false, false);
    }
}
