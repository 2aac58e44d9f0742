package io.flotilla.client;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;

/**
 * Writes to a channel from any thread and flushes once per turn of its event loop rather than once
 * per message: under load, the many requests or answers of one turn leave in one system call. All
 * of its state lives on the event loop, so a flush can never run between another thread's write
 * and the moment that write reaches the channel.
 */
public final class FlushBatcher {
    private final Channel channel;
    private final EventLoop loop;
    private final Runnable flush;
    /** A flush task is queued on the loop; read and written only there. */
    private boolean flushQueued;

    public FlushBatcher(Channel channel) {
        this.channel = channel;
        this.loop = channel.eventLoop();
        this.flush = () -> {
            flushQueued = false;
            channel.flush();
        };
    }

    public void write(Object message) {
        if (loop.inEventLoop()) {
            writeOnLoop(message);
        } else {
            loop.execute(() -> writeOnLoop(message));
        }
    }

    private void writeOnLoop(Object message) {
        channel.write(message, channel.voidPromise());
        if (!flushQueued) {
            flushQueued = true;
            loop.execute(flush); // after every write queued so far, so it sends them all
        }
    }
}
