package io.flotilla.core.sim;

/** Thrown from inside a node's I/O to crash it on the spot, as a power cut would. */
final class SimulatedCrash extends RuntimeException {
    SimulatedCrash(String where) {
        super("crash " + where, null, false, false);
    }
}
