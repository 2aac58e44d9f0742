package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;

/** What goes into the log: a client's write, or the session limits the state machine applies from then on. */
public sealed interface KvCommand {
    /**
     * A write, stamped by the leader with its clock. The stamp is the state machine's only notion of
     * time ("log time"), so sessions expire at the same point of the log on every node, whatever
     * their clocks say when they apply it.
     *
     * @param leaderTimeMillis from 0 to 2^56 - 1: its top byte is 0, which tells a write from other
     *                         commands in the log ({@link KvCodec})
     */
    record Write(long leaderTimeMillis, Request.Write write) implements KvCommand {
        public Write {
            if (leaderTimeMillis < 0 || leaderTimeMillis >>> 56 != 0) {
                throw new IllegalArgumentException("log time " + leaderTimeMillis + " is out of range");
            }
        }
    }

    /**
     * From this entry on, every node applies these session limits (a leader proposes its own when
     * the log's differ), whatever its own flags say.
     */
    record Limits(SessionLimits sessions) implements KvCommand {
    }
}
