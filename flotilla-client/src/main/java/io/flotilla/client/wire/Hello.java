package io.flotilla.client.wire;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * A client's first frame on a connection. A node closes a connection whose first frame is not a
 * valid hello for its cluster. (Nodes greet each other with hellos of other roles, which are
 * flotilla-server's business: a client never sends or reads them.)
 *
 * @param version   the highest protocol version the client speaks; the node answers in the lower of
 *                  this and its own, and both use that version from then on
 * @param clusterId the cluster the client expects; empty to accept any
 */
public record Hello(int version, String clusterId) implements Greeting {
    public Hello {
        if (version < 1 || version > 255) {
            throw new IllegalArgumentException("protocol version " + version + " does not exist");
        }
    }

    /** A hello in the newest version, whose reply carries the node's limits. */
    public static Hello client(String clusterId) {
        return new Hello(WireCodec.VERSION, clusterId);
    }

    @Override
    public ByteBuffer encode() {
        return WireCodec.encodeHello(this);
    }

    /**
     * What a node accepts, so that a client can refuse an oversized request before sending it.
     * Each is named after the node's option that sets it.
     */
    public record Limits(int maxKeyBytes, int maxValueBytes, int maxFrameBytes) {
        /**
         * Why a node with these limits would refuse {@code request}, whose frame body is
         * {@code frameBytes} long; empty if it is within them.
         */
        public Optional<String> check(Request request, int frameBytes) {
            Optional<String> refusal = Optional.empty();
            if (request instanceof Request.Get g) {
                refusal = over("the key", g.key().length(), maxKeyBytes, "--max-key-bytes");
            } else if (request instanceof Request.Set s) {
                refusal = over("the key", s.key().length(), maxKeyBytes, "--max-key-bytes")
                        .or(() -> over("the value", s.value().length(), maxValueBytes, "--max-value-bytes"));
            } else if (request instanceof Request.Delete d) {
                refusal = over("the key", d.key().length(), maxKeyBytes, "--max-key-bytes");
            } else if (request instanceof Request.Cas c) {
                refusal = over("the key", c.key().length(), maxKeyBytes, "--max-key-bytes")
                        .or(() -> c.expected().flatMap(e -> over("the expected value", e.length(), maxValueBytes, "--max-value-bytes")))
                        .or(() -> over("the new value", c.value().length(), maxValueBytes, "--max-value-bytes"));
            } else if (request instanceof Request.SetMany m) {
                refusal = m.entries().stream().map(e -> over("a key", e.key().length(), maxKeyBytes, "--max-key-bytes")
                        .or(() -> over("a value", e.value().length(), maxValueBytes, "--max-value-bytes"))).flatMap(Optional::stream).findFirst();
            } else if (request instanceof Request.DeleteMany d) {
                refusal = d.keys().stream().map(k -> over("a key", k.length(), maxKeyBytes, "--max-key-bytes")).flatMap(Optional::stream).findFirst();
            } else if (request instanceof Request.GetMany g) {
                refusal = g.keys().stream().map(k -> over("a key", k.length(), maxKeyBytes, "--max-key-bytes")).flatMap(Optional::stream).findFirst();
            }
            return refusal.or(() -> over("the request", frameBytes, maxFrameBytes, "--max-frame-bytes"));
        }

        private static Optional<String> over(String what, int bytes, int limit, String option) {
            return bytes <= limit ? Optional.empty()
                    : Optional.of(what + " is " + bytes + " bytes; this cluster accepts at most " + limit + " (" + option + ")");
        }
    }

    /**
     * The answer: {@code accepted}, or refused with a one-line reason. {@code nodeId} is the
     * answering node's. {@code limits} are present from version 2 on.
     */
    public record Reply(boolean accepted, int nodeId, String clusterId, String message, Optional<Limits> limits, int version) {
        public Reply {
            if (version < 1 || version > WireCodec.VERSION || limits.isPresent() != (version >= 2)) {
                throw new IllegalArgumentException("a hello reply of version " + version + (limits.isPresent() ? " with" : " without")
                        + " limits");
            }
        }

        /** A version 1 reply, without limits. */
        public Reply(boolean accepted, int nodeId, String clusterId, String message) {
            this(accepted, nodeId, clusterId, message, Optional.empty(), 1);
        }

        /** A version 2 reply if it has limits, else version 1. */
        public Reply(boolean accepted, int nodeId, String clusterId, String message, Optional<Limits> limits) {
            this(accepted, nodeId, clusterId, message, limits, limits.isPresent() ? 2 : 1);
        }
    }
}
