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
import java.util.SortedMap;
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

    private SessionLimits limits;
    /** Outcomes held by all sessions together, kept as they change: the budget is checked on every write. */
    private long outcomeCount;
    /** In access order: the first session is the one idle longest. */
    private final LinkedHashMap<Long, ClientSession> sessions = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Clients whose sessions were forgotten, oldest first, at most {@code maxSessions}: a retry from
     * one of them may repeat an applied write, while a retry from a client never seen is the retry
     * of a first write that never reached the log, and safe to apply.
     */
    private final LinkedHashSet<Long> forgotten = new LinkedHashSet<>();

    Sessions(SessionLimits limits) {
        this.limits = limits;
    }

    int size() {
        return sessions.size();
    }

    SessionLimits limits() {
        return limits;
    }

    long outcomeCount() {
        return outcomeCount;
    }

    /** The outcomes {@code clientId}'s session holds; a scan, since a lookup would reorder the sessions. */
    int outcomes(long clientId) {
        for (Map.Entry<Long, ClientSession> e : sessions.entrySet()) {
            if (e.getKey() == clientId) {
                return e.getValue().outcomes.size();
            }
        }
        return 0;
    }

    /**
     * New limits, from the log. Lower caps never drop an outcome: a session over them is refused
     * fresh writes until its client acknowledges. Only sessions beyond {@code maxSessions} go, as always.
     */
    void setLimits(SessionLimits next) {
        limits = next;
        evictBeyondLimit();
        while (forgotten.size() > limits.maxSessions()) {
            dropOldestForgotten();
        }
    }

    /** Forgets sessions idle for longer than the timeout, in log time. */
    void expire(long now) {
        Iterator<Map.Entry<Long, ClientSession>> it = sessions.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, ClientSession> e = it.next();
            if (now - e.getValue().lastUsed <= limits.timeoutMillis()) {
                break; // access order: all later sessions were used more recently
            }
            it.remove();
            forget(e.getKey(), e.getValue());
        }
    }

    private void evictBeyondLimit() {
        while (sessions.size() > limits.maxSessions()) {
            Iterator<Map.Entry<Long, ClientSession>> eldest = sessions.entrySet().iterator();
            Map.Entry<Long, ClientSession> e = eldest.next();
            eldest.remove();
            forget(e.getKey(), e.getValue());
        }
    }

    /** Its retries are refused from now on (SESSION_EXPIRED), so its outcomes are no longer needed. */
    private void forget(long clientId, ClientSession cs) {
        outcomeCount -= cs.outcomes.size();
        forgotten.add(clientId);
        if (forgotten.size() > limits.maxSessions()) {
            dropOldestForgotten();
        }
    }

    private void dropOldestForgotten() {
        Iterator<Long> oldest = forgotten.iterator();
        oldest.next();
        oldest.remove();
    }

    Verdict check(Session s, long now) {
        ClientSession cs = sessions.get(s.clientId());
        if (cs == null) {
            boolean wasForgotten = forgotten.contains(s.clientId());
            if (s.retry() && wasForgotten) {
                return expired(s);
            }
            // A first attempt cannot be a duplicate, so it may open (or reopen) the session. It holds
            // no outcome, so its write is never refused below, and it is the newest: never evicted here.
            cs = new ClientSession();
            cs.reopenedAtSeq = wasForgotten ? s.seq() : 0;
            sessions.put(s.clientId(), cs);
            evictBeyondLimit();
        }
        cs.lastUsed = now;
        if (s.ackedBelow() > cs.ackedBelow) {
            cs.ackedBelow = s.ackedBelow();
            SortedMap<Long, Response.Code> acked = cs.outcomes.headMap(s.ackedBelow());
            outcomeCount -= acked.size();
            acked.clear();
        }
        if (s.seq() < cs.ackedBelow) {
            return new Verdict.Refused(new Response.Failure(Response.Code.INVALID,
                    "write " + s.seq() + " was already answered (the client acknowledged it)"));
        }
        Response.Code previous = cs.outcomes.get(s.seq());
        if (previous != null) {
            return new Verdict.Duplicate(previous);
        }
        if (s.retry() && s.seq() < cs.reopenedAtSeq) {
            return expired(s);
        }
        // Refused, not made room for: dropping an outcome would let a late retry of that write apply twice.
        if (cs.outcomes.size() >= limits.maxOutcomesPerSession()) {
            return new Verdict.Refused(new Response.Failure(Response.Code.UNAVAILABLE, "session " + Long.toHexString(s.clientId())
                    + " holds " + cs.outcomes.size() + " unacknowledged write outcomes, the most one session may hold"
                    + " (--max-session-outcomes); write " + s.seq() + " was not applied: retry it once earlier writes are answered"));
        }
        // A session holding nothing may still record one: a client that waits for each answer always
        // gets through, and the total stays below maxOutcomes + maxSessions.
        if (outcomeCount >= limits.maxOutcomes() && !cs.outcomes.isEmpty()) {
            return new Verdict.Refused(new Response.Failure(Response.Code.UNAVAILABLE, "the cluster holds " + outcomeCount
                    + " unacknowledged write outcomes, the most all sessions together may hold (--max-outcomes); write " + s.seq()
                    + " of session " + Long.toHexString(s.clientId()) + " was not applied: retry it once earlier writes are answered"));
        }
        return new Verdict.Fresh();
    }

    private static Verdict expired(Session s) {
        return new Verdict.Refused(new Response.Failure(Response.Code.SESSION_EXPIRED, "session "
                + Long.toHexString(s.clientId()) + " was forgotten before write " + s.seq()
                + " was retried; its first attempt may or may not have been applied"));
    }

    /** The outcome of a write {@link #check} found fresh, just applied. */
    void record(Session s, Response.Code outcome) {
        ClientSession cs = sessions.get(s.clientId());
        if (cs.outcomes.put(s.seq(), outcome) != null) {
            throw new IllegalStateException("write " + s.seq() + " of session " + Long.toHexString(s.clientId()) + " recorded twice");
        }
        outcomeCount++;
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

    /**
     * Replaces the sessions with those {@link #toBytes} wrote, under {@code limits}. Counts are not
     * checked against the limits: lowered limits leave sessions holding more until acknowledged, and
     * nothing is allocated by count (a corrupt count ends at the end of the stream).
     */
    void readFrom(DataInputStream in, SessionLimits limits) throws IOException {
        this.limits = limits;
        sessions.clear();
        forgotten.clear();
        outcomeCount = 0;
        int count = in.readInt();
        if (count < 0) {
            throw new IOException("snapshot claims " + count + " sessions");
        }
        for (int i = 0; i < count; i++) {
            long clientId = in.readLong();
            ClientSession cs = new ClientSession();
            cs.lastUsed = in.readLong();
            cs.ackedBelow = in.readLong();
            cs.reopenedAtSeq = in.readLong();
            int outcomes = in.readInt();
            if (outcomes < 0) {
                throw new IOException("snapshot session claims " + outcomes + " outcomes");
            }
            for (int j = 0; j < outcomes; j++) {
                long seq = in.readLong();
                int wire = in.readUnsignedByte();
                cs.outcomes.put(seq, Response.Code.ofWire(wire)
                        .orElseThrow(() -> new IOException("snapshot holds unknown outcome code " + wire)));
            }
            outcomeCount += cs.outcomes.size();
            sessions.put(clientId, cs);
        }
        int forgottenCount = in.readInt();
        if (forgottenCount < 0) {
            throw new IOException("snapshot claims " + forgottenCount + " forgotten sessions");
        }
        for (int i = 0; i < forgottenCount; i++) {
            forgotten.add(in.readLong());
        }
    }
}
