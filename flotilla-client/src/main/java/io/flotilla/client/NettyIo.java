package io.flotilla.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.ThreadFactory;

/**
 * The one place that picks Netty's I/O: the native epoll transport where its library loads (Linux),
 * else Java's NIO. Epoll wakes an event loop with an eventfd and reads and writes without NIO's
 * selector bookkeeping, which is measurably less per request on a small machine; the system
 * property {@code flotilla.nio=true} forces NIO. Channels follow their group, so a caller's own NIO
 * group still works.
 */
public final class NettyIo {
    /** Whether groups made here use the native epoll transport. */
    private static final boolean NATIVE = !Boolean.getBoolean("flotilla.nio") && Epoll.isAvailable();

    private NettyIo() {
    }

    /** An event loop group of {@code threads} threads, on the native transport when it is available. */
    public static EventLoopGroup group(int threads, ThreadFactory threadFactory) {
        IoHandlerFactory io = NATIVE ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, io);
    }

    /** The socket channel that {@code group}'s event loops can carry. */
    public static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The listening channel that {@code group}'s event loops can carry. */
    public static Class<? extends ServerSocketChannel> serverChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    private static boolean isEpoll(EventLoopGroup group) {
        return group instanceof IoEventLoopGroup io && io.isIoType(EpollIoHandler.class);
    }
}
