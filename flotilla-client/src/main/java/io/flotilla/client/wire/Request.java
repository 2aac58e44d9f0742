package io.flotilla.client.wire;

import io.flotilla.core.Bytes;
import java.util.Optional;

/** What a client asks of a node. Writes carry a {@link Session} so that retries apply once. */
public sealed interface Request {
    /** Reads a key; linearizable unless {@code stale}, which any node answers from its own state. */
    record Get(Bytes key, boolean stale) implements Request {
    }

    record Set(Session session, Bytes key, Bytes value) implements Request {
    }

    /** Deletes a key; answers {@link Response.Code#NOT_FOUND} if it was absent. */
    record Delete(Session session, Bytes key) implements Request {
    }

    /** Sets {@code key} to {@code value} only if it now holds {@code expected}; an empty expected means absent. */
    record Cas(Session session, Bytes key, Optional<Bytes> expected, Bytes value) implements Request {
    }

    /** Asks the node about itself: role, term, leader, indexes. */
    record StatusQuery() implements Request {
    }

    /** Writes only: the session that makes retries safe. */
    default Session session() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " carries no session");
    }

    default boolean isWrite() {
        return this instanceof Set || this instanceof Delete || this instanceof Cas;
    }
}
