package io.flotilla.client;

/**
 * The call ran out of its deadline or retry budget (or the client was closed) before the cluster
 * answered: no node could be reached, no leader was elected in time, or answers were lost. The
 * message names what was tried and why each attempt failed, and ends by saying whether the write
 * may have been applied ({@link #mayHaveBeenApplied()}).
 */
public final class ClusterUnavailableException extends FlotillaException {
    ClusterUnavailableException(String message, boolean mayHaveBeenApplied, Throwable cause) {
        super(message, mayHaveBeenApplied, cause);
    }
}
