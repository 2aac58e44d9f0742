package io.flotilla.core.sim;

/**
 * Thrown from inside a node's I/O to crash it on the spot, as a power cut would. An {@link Error}, so
 * that no handler in the code under test (such as the snapshot writer's, which turns a failed write
 * into a warning) mistakes the power cut for an I/O error it could survive.
 */
final class SimulatedCrash extends Error {
    SimulatedCrash(String where) {
        super("crash " + where, null, false, false);
    }
}
