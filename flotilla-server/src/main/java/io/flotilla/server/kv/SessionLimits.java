package io.flotilla.server.kv;

/**
 * The limits that decide which writes the session table accepts. They change what is applied, so
 * the state machine takes them from the log ({@link KvCommand.Limits}), never from the node's own
 * flags: every replica applies the same limits at the same index (docs/protocol.md, "Sessions").
 *
 * @param timeoutMillis         log time after which an idle session is forgotten
 * @param maxSessions           sessions remembered; beyond, the least recently used is forgotten
 * @param maxOutcomesPerSession unacknowledged outcomes one session may hold; beyond, its fresh writes are refused
 * @param maxOutcomes           unacknowledged outcomes all sessions together may hold; beyond, fresh writes are refused
 */
public record SessionLimits(long timeoutMillis, int maxSessions, int maxOutcomesPerSession, int maxOutcomes) {
    /** In force until the log says otherwise. */
    public static final SessionLimits DEFAULTS = KvLimits.DEFAULTS.sessions();

    public SessionLimits {
        if (timeoutMillis < 1 || maxSessions < 1 || maxOutcomesPerSession < 1 || maxOutcomes < 1) {
            throw new IllegalArgumentException("session limits must be positive: " + timeoutMillis + " ms, " + maxSessions
                    + " sessions, " + maxOutcomesPerSession + " outcomes per session, " + maxOutcomes + " outcomes");
        }
    }

    @Override
    public String toString() {
        return "timeout " + timeoutMillis + " ms, " + maxSessions + " sessions, " + maxOutcomesPerSession
                + " outcomes per session, " + maxOutcomes + " outcomes in all";
    }
}
