package io.flotilla.core.message;

/** Tells an up-to-date follower to start an election at once: the last step of a leadership transfer. */
public record TimeoutNow(int from, int to, long term) implements Message {
    @Override
    public Kind kind() {
        return Kind.TIMEOUT_NOW;
    }
}
