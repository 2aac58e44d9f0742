package io.flotilla.core.check;

/** What the client learnt about an operation it invoked. */
public enum Outcome {
    /** It took effect exactly once, between its invocation and its response, returning the output. */
    OK,
    /** It certainly never took effect (refused, or abandoned before it could); the checker drops it. */
    FAILED,
    /**
     * The client never heard (timeout, crash): it may have taken effect at any time after its
     * invocation, even after the history ends, or never.
     */
    UNKNOWN
}
