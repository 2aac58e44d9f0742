package io.flotilla.core.sim;

/** A simulation run went wrong; the message names the seed and the command that replays it. */
final class SimulationFailure extends AssertionError {
    final long seed;

    SimulationFailure(long seed, String message, Throwable cause) {
        super(message, cause);
        this.seed = seed;
    }
}
