package io.flotilla.core.message;

/**
 * Sent by a node that starts with no state at all, to each founding member, before it bootstraps:
 * "does the cluster already exist?". It carries term 0, and answering it changes nothing.
 */
public record BootstrapProbe(int from, int to, long term) implements Message {
    @Override
    public Kind kind() {
        return Kind.BOOTSTRAP_PROBE;
    }
}
