package io.flotilla.client;

/** How fresh a read must be. */
public enum ReadConsistency {
    /** The latest committed value: the leader confirms it still leads before answering (the default). */
    LINEARIZABLE,
    /** Whatever the node that receives the read holds now; faster, but may miss recent writes. */
    STALE
}
