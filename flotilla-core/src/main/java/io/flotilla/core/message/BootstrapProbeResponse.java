package io.flotilla.core.message;

/**
 * The answer to a {@link BootstrapProbe}: the responder's term and the last index of its log. A
 * term above 1 or a log beyond the founding configuration entry means the cluster already exists.
 * Receiving it changes nothing on a node that has state.
 */
public record BootstrapProbeResponse(int from, int to, long term, long lastIndex) implements Message {
    @Override
    public Kind kind() {
        return Kind.BOOTSTRAP_PROBE_RESPONSE;
    }
}
