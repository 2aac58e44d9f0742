package io.flotilla.server.kv;

import io.flotilla.client.wire.Request;

/**
 * A write as it goes into the log: the client's request, stamped by the leader with its clock.
 * The stamp is the state machine's only notion of time ("log time"), so sessions expire at the same
 * point of the log on every node, whatever their clocks say when they apply it.
 */
public record KvCommand(long leaderTimeMillis, Request write) {
    public KvCommand {
        if (!write.isWrite()) {
            throw new IllegalArgumentException("only writes go into the log, not " + write);
        }
    }
}
