package io.flotilla.core.sim;

/**
 * A simulated run went wrong. The message says what (the invariant broken, or the history the
 * checker could not linearize), names the seed and the command that replays it, and ends with the
 * run's shape, its nodes and its last events.
 */
public final class SimulationFailure extends AssertionError {
    private final long seed;

    SimulationFailure(long seed, String message, Throwable cause) {
        super(message, cause);
        this.seed = seed;
    }

    /** The seed that fails; {@code Simulator.withSeeds(seed, 1)} replays it. */
    public long seed() {
        return seed;
    }
}
