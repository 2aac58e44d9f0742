package io.flotilla.core.sim;

/**
 * How a client's operation reaches a node ({@link Workload#request}): a command proposed through the
 * log, or a query served as a linearizable read. A top-level type rather than one nested in
 * {@link Workload}, so that it never hides an application's own {@code Request} type.
 */
public sealed interface Submission<C, Q> {
    record Propose<C, Q>(C command) implements Submission<C, Q> {
    }

    record Read<C, Q>(Q query) implements Submission<C, Q> {
    }
}
