package io.flotilla.client;

/**
 * A call that did not complete. Every subclass says, through {@link #mayHaveBeenApplied()},
 * whether a write might have taken effect anyway.
 */
public abstract class FlotillaException extends RuntimeException {
    private final boolean mayHaveBeenApplied;

    FlotillaException(String message, boolean mayHaveBeenApplied, Throwable cause) {
        super(message, cause);
        this.mayHaveBeenApplied = mayHaveBeenApplied;
    }

    /**
     * True if the call was a write and the cluster may have applied it: an attempt reached a node
     * and its answer was lost. False if it was certainly not applied (or was a read).
     */
    public boolean mayHaveBeenApplied() {
        return mayHaveBeenApplied;
    }
}
