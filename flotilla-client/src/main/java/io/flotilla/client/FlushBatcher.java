package io.flotilla.client;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes to a channel from any thread and flushes once per turn of its event loop rather than once
 * per message: under load, the many requests or answers of one turn leave in one system call.
 */
public final class FlushBatcher {
    private final Channel channel;
    private final AtomicBoolean flushPending = new AtomicBoolean();
    private final Runnable flush;

    public FlushBatcher(Channel channel) {
        this.channel = channel;
        this.flush = () -> {
            flushPending.set(false);
            channel.flush();
        };
    }

    public void write(Object message) {
        channel.write(message, channel.voidPromise());
        if (flushPending.compareAndSet(false, true)) {
            channel.eventLoop().execute(flush); // runs after the write above, which is queued first
        }
    }
}
