package io.flotilla.server;

import java.util.concurrent.atomic.LongAdder;

/** Writes and reads this node took from clients (relayed ones included), for rates on /status and the page. */
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
