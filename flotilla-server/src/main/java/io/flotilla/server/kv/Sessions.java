package io.flotilla.server.kv;

import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The client sessions that make retried writes apply once (Raft dissertation §6.3): per client,
 * the outcome of each write it has not yet acknowledged. Everything here is a function of the log
 * (log time, sequence numbers), so every node holds the same sessions at the same index.
 */
final class Sessions {
    /** What to do with a write. */
    sealed interface Verdict {
        /** Not seen before: apply it and {@link #record} the outcome. */
        record Fresh() implements Verdict {
        }

        /** Applied before: answer this again, do not apply. */
        record Duplicate(Response.Code code) implements Verdict {
        }

        /** Refuse with this answer, do not apply. */
        record Refused(Response response) implements Verdict {
        }
    }

    private static final class ClientSession {
        long lastUsed;
        long ackedBelow = 1;
        /**
         * For a session reopened after the cluster forgot it: its first write here. Retries of earlier
         * writes may have been applied in the forgotten session; 0 for a session never forgotten,
         * whose writes may reach the log in any order.
         */
        long reopenedAtSeq;
        final TreeMap<Long, Response.Code> outcomes = new TreeMap<>();
    }

    private final long timeoutMillis;
    private final int maxSessions;
    private final int maxOutcomesPerSession;
    /** In access order: the first session is the one idle longest. */
    private final LinkedHashMap<Long, ClientSession> sessions = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Clients whose sessions were forgotten, oldest first, at most {@code maxSessions}: a retry from
     * one of them may repeat an applied write, while a retry from a client never seen is the retry
     * of a first write that never reached the log, and safe to apply.
     */
    private final LinkedHashSet<Long> forgotten = new LinkedHashSet<>();

    Sessions(long timeoutMillis, int maxSessions, int maxOutcomesPerSession) {
        this.timeoutMillis = timeoutMillis;
        this.maxSessions = maxSessions;
        this.maxOutcomesPerSession = maxOutcomesPerSession;
    }

    int size() {
        return sessions.size();
    }

    /** Forgets sessions idle for longer than the timeout, in log time. */
    void expire(long now) {
        Iterator<Map.Entry<Long, ClientSession>> it = sessions.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, ClientSession> e = it.next();
            if (now - e.getValue().lastUsed <= timeoutMillis) {
                break; // access order: all later sessions were used more recently
            }
            it.remove();
            forget(e.getKey());
        }
    }

    private void forget(long clientId) {
        forgotten.add(clientId);
        if (forgotten.size() > maxSessions) {
            Iterator<Long> oldest = forgotten.iterator();
            oldest.next();
            oldest.remove();
        }
    }

    Verdict check(Session s, long now) {
        ClientSession cs = sessions.get(s.clientId());
        if (cs == null) {
            boolean wasForgotten = forgotten.contains(s.clientId());
            if (s.retry() && wasForgotten) {
                return expired(s);
            }
            // A first attempt cannot be a duplicate, so it may open (or reopen) the session.
            cs = new ClientSession();
            cs.reopenedAtSeq = wasForgotten ? s.seq() : 0;
            sessions.put(s.clientId(), cs);
            if (sessions.size() > maxSessions) {
                Iterator<Long> eldest = sessions.keySet().iterator();
                long evicted = eldest.next();
                eldest.remove();
                forget(evicted);
            }
        }
        cs.lastUsed = now;
        if (s.ackedBelow() > cs.ackedBelow) {
            cs.ackedBelow = s.ackedBelow();
            cs.outcomes.headMap(s.ackedBelow()).clear();
        }
        if (s.seq() < cs.ackedBelow) {
            return new Verdict.Refused(new Response.Failure(Response.Code.INVALID,
                    "write " + s.seq() + " was already answered (the client acknowledged it)"));
        }
        Response.Code previous = cs.outcomes.get(s.seq());
        if (previous != null) {
            return new Verdict.Duplicate(previous);
        }
        return s.retry() && s.seq() < cs.reopenedAtSeq ? expired(s) : new Verdict.Fresh();
    }

    private static Verdict expired(Session s) {
        return new Verdict.Refused(new Response.Failure(Response.Code.SESSION_EXPIRED, "session "
                + Long.toHexString(s.clientId()) + " was forgotten before write " + s.seq()
                + " was retried; its first attempt may or may not have been applied"));
    }

    void record(Session s, Response.Code outcome) {
        ClientSession cs = sessions.get(s.clientId());
        cs.outcomes.put(s.seq(), outcome);
        if (cs.outcomes.size() > maxOutcomesPerSession) {
            cs.outcomes.pollFirstEntry(); // a client with this many unacknowledged writes has lost track of them
        }
    }

    /** The sessions as {@link #readFrom} reads them. */
    byte[] toBytes() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeTo(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // cannot happen in memory
        }
        return bytes.toByteArray();
    }

    private void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(sessions.size());
        for (Map.Entry<Long, ClientSession> e : sessions.entrySet()) {
            ClientSession cs = e.getValue();
            out.writeLong(e.getKey());
            out.writeLong(cs.lastUsed);
            out.writeLong(cs.ackedBelow);
            out.writeLong(cs.reopenedAtSeq);
            out.writeInt(cs.outcomes.size());
            for (Map.Entry<Long, Response.Code> o : cs.outcomes.entrySet()) {
                out.writeLong(o.getKey());
                out.writeByte(o.getValue().wire());
            }
        }
        out.writeInt(forgotten.size());
        for (long clientId : forgotten) {
            out.writeLong(clientId);
        }
    }

    void readFrom(DataInputStream in) throws IOException {
        sessions.clear();
        int count = in.readInt();
        if (count < 0 || count > maxSessions) {
            throw new IOException("snapshot holds " + count + " sessions; the limit is " + maxSessions);
        }
        for (int i = 0; i < count; i++) {
            long clientId = in.readLong();
            ClientSession cs = new ClientSession();
            cs.lastUsed = in.readLong();
            cs.ackedBelow = in.readLong();
            cs.reopenedAtSeq = in.readLong();
            int outcomes = in.readInt();
            if (outcomes < 0 || outcomes > maxOutcomesPerSession) {
                throw new IOException("snapshot session holds " + outcomes + " outcomes; the limit is " + maxOutcomesPerSession);
            }
            for (int j = 0; j < outcomes; j++) {
                long seq = in.readLong();
                int wire = in.readUnsignedByte();
                cs.outcomes.put(seq, Response.Code.ofWire(wire)
                        .orElseThrow(() -> new IOException("snapshot holds unknown outcome code " + wire)));
            }
            sessions.put(clientId, cs);
        }
        forgotten.clear();
        int forgottenCount = in.readInt();
        if (forgottenCount < 0 || forgottenCount > maxSessions) {
            throw new IOException("snapshot holds " + forgottenCount + " forgotten sessions; the limit is " + maxSessions);
        }
        for (int i = 0; i < forgottenCount; i++) {
            forgotten.add(in.readLong());
        }
    }
}
