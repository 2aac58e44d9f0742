package io.flotilla.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes to a channel from any thread and flushes once per batch rather than once per message:
 * writers queue their messages and the first of a batch wakes the event loop, which writes all
 * that are queued by then and flushes once. Under load, the many requests or answers of one turn
 * leave in one system call and cost one wake-up. (The queue holds at most what the callers allow in
 * flight on the connection.)
 */
public final class FlushBatcher {
    private record Queued(Object message, ChannelPromise promise) {
    }

    private final Channel channel;
    private final Queue<Queued> queued = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain;

    private static final AttributeKey<FlushBatcher> SHARED = AttributeKey.valueOf(FlushBatcher.class, "shared");

    /**
     * The batcher every caller of this method shares for {@code channel}, made on first use: writers of
     * one channel must share one batcher, or their messages could leave out of order.
     */
    public static FlushBatcher of(Channel channel) {
        Attribute<FlushBatcher> attribute = channel.attr(SHARED);
        FlushBatcher existing = attribute.get();
        if (existing != null) {
            return existing;
        }
        FlushBatcher created = new FlushBatcher(channel);
        existing = attribute.setIfAbsent(created);
        return existing != null ? existing : created;
    }

    public FlushBatcher(Channel channel) {
        this.channel = channel;
        this.drain = () -> {
            drainScheduled.set(false); // first: a message queued from now on schedules another drain
            Queued q;
            while ((q = queued.poll()) != null) {
                channel.write(q.message(), q.promise());
            }
            channel.flush();
        };
    }

    public void write(Object message) {
        enqueue(new Queued(message, channel.voidPromise()));
    }

    /** Writes, and completes the future once the whole message is handed to the socket (or fails to be). */
    public ChannelFuture writeWatched(Object message) {
        ChannelPromise promise = channel.newPromise();
        enqueue(new Queued(message, promise));
        return promise;
    }

    private void enqueue(Queued q) {
        queued.add(q);
        if (drainScheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(drain);
        }
    }
}
