package io.flotilla.core;

/** What a node must never forget: its current term and whom it voted for in it (0 for nobody). */
public record HardState(long term, int votedFor) {
    public static final HardState INITIAL = new HardState(0, 0);

    public HardState {
        if (term < 0 || votedFor < 0) {
            throw new IllegalArgumentException("bad hard state " + term + "/" + votedFor);
        }
    }
}
