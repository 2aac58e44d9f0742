package io.flotilla.server;

import java.util.concurrent.atomic.LongAdder;

/**
 * Writes and reads clients sent to this node, for rates on /status and the cluster page. A request a
 * follower relays to the leader counts at the follower only, so the members' counts add up to the
 * cluster's.
 */
final class RequestCounters {
    private final LongAdder writes = new LongAdder();
    private final LongAdder reads = new LongAdder();

    void write() {
        writes.increment();
    }

    void read() {
        reads.increment();
    }

    long writes() {
        return writes.sum();
    }

    long reads() {
        return reads.sum();
    }
}
