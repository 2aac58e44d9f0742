package io.flotilla.client.wire;

import io.flotilla.core.Bytes;
import io.flotilla.core.MembershipChange;
import java.util.List;
import java.util.Optional;

/** What a client asks of a node. {@link Write}s carry a {@link Session} so that retries apply once. */
public sealed interface Request {
    /** A key-value write: the only requests that go into the log, and the only ones with a session. */
    sealed interface Write extends Request {
        Session session();

        /** The same write with other session numbers (a retry, or a newer acknowledgement). */
        Write withSession(Session session);
    }

    /** A read of the state machine: linearizable unless {@code stale}, which any node answers from its own state. */
    sealed interface Read extends Request {
        boolean stale();
    }

    /** Reads a key. */
    record Get(Bytes key, boolean stale) implements Read {
    }

    /** Reads every key at one point of the log (protocol version 5); answered with {@link Response.Values}. */
    record GetMany(List<Bytes> keys, boolean stale) implements Read {
        public GetMany {
            keys = List.copyOf(keys);
        }
    }

    record Set(Session session, Bytes key, Bytes value) implements Write {
        @Override
        public Set withSession(Session session) {
            return new Set(session, key, value);
        }
    }

    /** Deletes a key; answers {@link Response.Code#NOT_FOUND} if it was absent. */
    record Delete(Session session, Bytes key) implements Write {
        @Override
        public Delete withSession(Session session) {
            return new Delete(session, key);
        }
    }

    /** Sets {@code key} to {@code value} only if it now holds {@code expected}; an empty expected means absent. */
    record Cas(Session session, Bytes key, Optional<Bytes> expected, Bytes value) implements Write {
        @Override
        public Cas withSession(Session session) {
            return new Cas(session, key, expected, value);
        }
    }

    /** Sets every key to its value in one log entry, all or none (protocol version 5); a key named twice takes its last value. */
    record SetMany(Session session, List<KeyValue> entries) implements Write {
        public SetMany {
            entries = List.copyOf(entries);
        }

        @Override
        public SetMany withSession(Session session) {
            return new SetMany(session, entries);
        }
    }

    record KeyValue(Bytes key, Bytes value) {
    }

    /**
     * Deletes every key in one log entry (protocol version 5); answered with {@link Response.Count}
     * of the keys that existed (NOT_FOUND for none).
     */
    record DeleteMany(Session session, List<Bytes> keys) implements Write {
        public DeleteMany {
            keys = List.copyOf(keys);
        }

        @Override
        public DeleteMany withSession(Session session) {
            return new DeleteMany(session, keys);
        }
    }

    /** Asks the node about itself: role, term, leader, indexes. */
    record StatusQuery() implements Request {
    }

    /** Asks the leader for the cluster's membership (protocol version 3); followers relay it. */
    record MemberList() implements Request {
    }

    /**
     * Asks the leader to change the membership (protocol version 3); followers relay it. Like a
     * write, its outcome may be unknown; it carries no session, because a repeated change is refused
     * by the cluster itself (the member is already there, or already gone).
     */
    record MemberChange(MembershipChange change) implements Request {
    }

    /**
     * Asks the leader for a consistent snapshot of the whole store, for a backup (protocol version 4);
     * followers relay it. Answered with a {@link Response.Snapshot} once the leader holds a snapshot
     * covering every write committed when the request arrived (it confirms its leadership first).
     */
    record SnapshotBegin() implements Request {
    }

    /**
     * Reads up to {@code maxBytes} of the data of snapshot {@code streamId} held open by node
     * {@code nodeId}, from {@code offset} (protocol version 4). Any node relays it to {@code nodeId}
     * (leader or not). Answered with a {@link Response.SnapshotData}, empty at the end.
     */
    record SnapshotRead(int nodeId, long streamId, long offset, int maxBytes) implements Request {
    }

    /** A write or a membership change: once sent, its failure may leave its outcome unknown. */
    default boolean changesState() {
        return this instanceof Write || this instanceof MemberChange;
    }
}
