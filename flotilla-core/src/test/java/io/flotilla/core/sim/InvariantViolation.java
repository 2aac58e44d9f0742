package io.flotilla.core.sim;

/** A Raft safety property does not hold. */
final class InvariantViolation extends AssertionError {
    InvariantViolation(String property, String detail) {
        super(property + ": " + detail);
    }
}
