package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import java.util.Optional;

/**
 * Limits on what the store accepts. Key and value sizes are checked when a request arrives, so an
 * oversized write is refused with a readable answer before it reaches the log; the session limits
 * bound the session table (docs/protocol.md, "Sessions"); the state machine takes those from the log,
 * so here they are only what this node proposes when it leads ({@link #sessions()}).
 *
 * @param maxOutcomesPerSession unacknowledged outcomes one session may hold
 * @param maxOutcomes           unacknowledged outcomes all sessions together may hold
 */
public record KvLimits(int maxKeyBytes, int maxValueBytes, long sessionTimeoutMillis, int maxSessions,
                       int maxOutcomesPerSession, int maxOutcomes) {
    public static final KvLimits DEFAULTS = new KvLimits(4096, 1 << 20, 10 * 60_000L, 100_000, 10_000, 1_000_000);

    public KvLimits {
        if (maxKeyBytes < 1 || maxValueBytes < 0 || sessionTimeoutMillis < 1 || maxSessions < 1 || maxOutcomesPerSession < 1
                || maxOutcomes < 1) {
            throw new IllegalArgumentException("key-value limits must be positive");
        }
    }

    /** The session limits this node proposes when it leads. */
    public SessionLimits sessions() {
        return new SessionLimits(sessionTimeoutMillis, maxSessions, maxOutcomesPerSession, maxOutcomes);
    }

    /** The refusal for a request over a limit, if it is. */
    public Optional<Response> check(Request request) {
        if (request instanceof Request.Get g) {
            return checkKey(g.key());
        } else if (request instanceof Request.Set s) {
            return checkKey(s.key()).or(() -> checkValue(s.value()));
        } else if (request instanceof Request.Delete d) {
            return checkKey(d.key());
        } else if (request instanceof Request.Cas c) {
            return checkKey(c.key()).or(() -> c.expected().flatMap(this::checkValue)).or(() -> checkValue(c.value()));
        } else if (request instanceof Request.SetMany m) {
            return checkCount(m.entries()).or(() -> m.entries().stream()
                    .map(e -> checkKey(e.key()).or(() -> checkValue(e.value()))).flatMap(Optional::stream).findFirst());
        } else if (request instanceof Request.DeleteMany d) {
            return checkCount(d.keys()).or(() -> d.keys().stream().map(this::checkKey).flatMap(Optional::stream).findFirst());
        } else if (request instanceof Request.GetMany g) {
            return checkCount(g.keys()).or(() -> g.keys().stream().map(this::checkKey).flatMap(Optional::stream).findFirst());
        }
        return Optional.empty();
    }

    private static Optional<Response> checkCount(java.util.List<?> keys) {
        return keys.isEmpty() ? Optional.of(new Response.Failure(Response.Code.INVALID, "no keys")) : Optional.empty();
    }

    private Optional<Response> checkKey(Bytes key) {
        if (key.length() == 0) {
            return Optional.of(new Response.Failure(Response.Code.INVALID, "the key is empty"));
        }
        return key.length() <= maxKeyBytes ? Optional.empty() : Optional.of(new Response.Failure(Response.Code.INVALID,
                "the key is " + key.length() + " bytes; the limit is " + maxKeyBytes + " (--max-key-bytes)"));
    }

    private Optional<Response> checkValue(Bytes value) {
        return value.length() <= maxValueBytes ? Optional.empty() : Optional.of(new Response.Failure(Response.Code.INVALID,
                "the value is " + value.length() + " bytes; the limit is " + maxValueBytes + " (--max-value-bytes)"));
    }
}
