package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import io.flotilla.core.StateMachine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key-value store: a hash map of byte strings, plus the client sessions that make writes
 * exactly-once. Writes come through the log as {@link KvCommand}s; GETs are queries.
 */
public final class KvStateMachine implements StateMachine<KvCommand, Request.Read, Response> {
    /** 2 adds the session limits; 1 (before limits were in the log) is still read, under the initial limits. */
    private static final int SNAPSHOT_VERSION = 2;

    private final SessionLimits initialSessionLimits;
    private final FreezableMap data = new FreezableMap();
    private final Sessions sessions;
    /** Log time: the newest leader stamp applied; never goes back. */
    private long now;
    /** Copies for other threads (the leader's check of its limits, diagnostics), published after each apply. */
    private volatile SessionLimits publishedLimits;
    private volatile long publishedOutcomes;
    private volatile int publishedKeys;
    private volatile int publishedSessions;

    /**
     * A store whose sessions start under {@link SessionLimits#DEFAULTS} until the log sets others.
     * It takes no limits of this node's: what it applies must be the same on every replica, so every
     * limit that decides an answer comes from the log ({@link KvLimits} are checked at the door, in
     * {@code KvService}).
     */
    public KvStateMachine() {
        this(SessionLimits.DEFAULTS);
    }

    /** For tests: sessions start under {@code initial}. Every replica of one log must use the same. */
    KvStateMachine(SessionLimits initial) {
        this.initialSessionLimits = initial;
        this.sessions = new Sessions(initial);
        publish();
    }

    public int size() {
        return data.size();
    }

    /** The session limits in force as of the last entry applied (any thread). */
    public SessionLimits sessionLimits() {
        return publishedLimits;
    }

    /** Unacknowledged write outcomes all sessions hold, as of the last entry applied (any thread). */
    public long outcomeCount() {
        return publishedOutcomes;
    }

    /**
     * Unacknowledged write outcomes {@code clientId}'s session holds; for tests and diagnostics, on
     * the node's thread or once nothing is being applied (it reads the session table unguarded).
     */
    public int sessionOutcomes(long clientId) {
        return sessions.outcomes(clientId);
    }

    /** Keys held, as of the last entry applied (any thread). */
    public int keyCount() {
        return publishedKeys;
    }

    /** Client sessions remembered, as of the last entry applied (any thread). */
    public int sessionCount() {
        return publishedSessions;
    }

    private void publish() {
        publishedLimits = sessions.limits();
        publishedOutcomes = sessions.outcomeCount();
        publishedKeys = data.size();
        publishedSessions = sessions.size();
    }

    @Override
    public Response apply(long index, KvCommand command) {
        Response response = command instanceof KvCommand.Write w ? applyWrite(w) : applyLimits((KvCommand.Limits) command);
        publish();
        return response;
    }

    private Response applyLimits(KvCommand.Limits command) {
        sessions.setLimits(command.sessions());
        return Response.OK;
    }

    private Response applyWrite(KvCommand.Write command) {
        now = Math.max(now, command.leaderTimeMillis());
        sessions.expire(now);
        Request.Write write = command.write();
        Sessions.Verdict verdict = sessions.check(write.session(), now);
        if (verdict instanceof Sessions.Verdict.Duplicate d) {
            return new Response.Outcome(d.code());
        }
        if (verdict instanceof Sessions.Verdict.Refused r) {
            return r.response();
        }
        Response outcome = execute(write);
        sessions.record(write.session(), outcome.code()); // a DeleteMany's count is not kept: a duplicate answers OK
        return outcome;
    }

    private Response execute(Request.Write write) {
        if (write instanceof Request.Set s) {
            data.put(s.key(), s.value());
            return Response.OK;
        } else if (write instanceof Request.Delete d) {
            return data.remove(d.key()) != null ? Response.OK : Response.NOT_FOUND;
        } else if (write instanceof Request.Cas c) {
            Optional<Bytes> current = Optional.ofNullable(data.get(c.key()));
            if (!current.equals(c.expected())) {
                return Response.CAS_MISMATCH;
            }
            data.put(c.key(), c.value());
            return Response.OK;
        } else if (write instanceof Request.SetMany m) {
            m.entries().forEach(e -> data.put(e.key(), e.value()));
            return Response.OK;
        } else if (write instanceof Request.DeleteMany d) {
            long removed = d.keys().stream().filter(k -> data.remove(k) != null).count();
            return removed == 0 ? Response.NOT_FOUND : new Response.Count(removed);
        }
        throw new AssertionError(write);
    }

    @Override
    public Response query(Request.Read read) {
        if (read instanceof Request.GetMany many) {
            return new Response.Values(many.keys().stream().map(k -> Optional.ofNullable(data.get(k))).toList());
        }
        Bytes value = data.get(((Request.Get) read).key());
        return value == null ? Response.NOT_FOUND : new Response.Value(value);
    }

    /**
     * Freezes the map (O(1): see {@link FreezableMap}) and copies the sessions (small), then writes
     * them on the snapshot thread, keys in sorted order so that every node writes the same bytes for
     * the same state. The returned snapshot can be written once.
     */
    @Override
    public Snapshot snapshot() {
        FreezableMap.Frozen frozen = data.freeze();
        long capturedNow = now;
        SessionLimits capturedLimits = sessions.limits();
        byte[] capturedSessions = sessions.toBytes();
        return stream -> {
            List<Map.Entry<Bytes, Bytes>> entries = frozen.sortedEntries();
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
            out.writeInt(SNAPSHOT_VERSION);
            out.writeLong(capturedNow);
            out.writeLong(capturedLimits.timeoutMillis());
            out.writeInt(capturedLimits.maxSessions());
            out.writeInt(capturedLimits.maxOutcomesPerSession());
            out.writeInt(capturedLimits.maxOutcomes());
            out.writeInt(entries.size());
            for (Map.Entry<Bytes, Bytes> e : entries) {
                write(out, e.getKey());
                write(out, e.getValue());
            }
            out.write(capturedSessions);
            out.flush();
        };
    }

    /** Changes made since the last capture that are not yet folded back into the map, for tests. */
    int overlaySize() {
        return data.overlaySize();
    }

    @Override
    public void restore(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
        int version = in.readInt();
        if (version != 1 && version != SNAPSHOT_VERSION) {
            throw new IOException("key-value snapshot version " + version + " is not supported");
        }
        data.clear();
        now = in.readLong();
        SessionLimits sessionLimits = initialSessionLimits;
        if (version >= 2) {
            try {
                sessionLimits = new SessionLimits(in.readLong(), in.readInt(), in.readInt(), in.readInt());
            } catch (IllegalArgumentException e) {
                throw new IOException("key-value snapshot holds bad " + e.getMessage());
            }
        }
        int count = in.readInt();
        if (count < 0) {
            throw new IOException("key-value snapshot claims " + count + " keys");
        }
        for (int i = 0; i < count; i++) {
            data.put(read(in), read(in));
        }
        sessions.readFrom(in, sessionLimits);
        publish();
    }

    /**
     * How many keys a snapshot of this store holds, read from the start of its data without restoring
     * it (a restored backup says how many keys it brought).
     */
    public static long keyCount(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int version = in.readInt();
        if (version != 1 && version != SNAPSHOT_VERSION) {
            throw new IOException("key-value snapshot version " + version + " is not supported");
        }
        in.readLong(); // log time
        if (version >= 2) {
            in.readLong(); // the session limits
            in.readInt();
            in.readInt();
            in.readInt();
        }
        int count = in.readInt();
        if (count < 0) {
            throw new IOException("key-value snapshot claims " + count + " keys");
        }
        return count;
    }

    private static void write(DataOutputStream out, Bytes b) throws IOException {
        out.writeInt(b.length());
        out.write(b.unsafeArray());
    }

    /**
     * A length-prefixed string. Not checked against this node's own --max-key-bytes or
     * --max-value-bytes: the leader admitted it under its limits, which may be larger, and a follower
     * must still install its snapshot. The buffer grows with the bytes actually read, so a corrupt
     * length costs no more memory than the stream holds.
     */
    private static Bytes read(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("key-value snapshot holds a string of negative length " + length);
        }
        byte[] data = in.readNBytes(length);
        if (data.length != length) {
            throw new EOFException("key-value snapshot ends inside a " + length + "-byte string, after " + data.length + " bytes");
        }
        return Bytes.wrap(data);
    }
}
