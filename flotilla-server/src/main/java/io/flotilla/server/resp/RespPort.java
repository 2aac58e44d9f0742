package io.flotilla.server.resp;

import io.flotilla.client.NettyIo;
import io.flotilla.client.HostPort;
import io.flotilla.server.net.ConnectionLimits;
import io.flotilla.server.net.RateLimitedLog;
import io.flotilla.server.net.ServerTls;
import io.flotilla.server.net.TrafficCounter;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.FixedRedisMessagePool;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's Redis protocol port ({@code --resp-port}): RESP2 and RESP3 on the node's own event loop,
 * decoded by Netty's Redis codec, with the native port's connection limits and TLS. Each connection
 * is a {@link RespConnection}; what the commands do is {@link RespCommands}.
 */
public final class RespPort implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RespPort.class);
    /** Arguments of one command (MSET of many keys takes two per key). */
    static final int MAX_ARGUMENTS = 1 << 16;

    private final RespNode node;
    private final RespCommands commands;
    private final ConnectionLimits limits;
    private final int maxCommandBytes;
    private final ServerTls tls;
    private final Events events = new Events();
    private final TrafficCounter traffic = new TrafficCounter();
    private final AtomicInteger clients = new AtomicInteger();
    private final ChannelGroup accepted = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private Channel listener;

    /** Room kept in a frame for what surrounds a write: the AppendEntries and entry headers, the session. */
    static final int FRAMING_BYTES = 1024;

    /**
     * @param maxFrameBytes the native port's {@code --max-frame-bytes}: a command and the log entry it
     *                      becomes must fit a frame
     * @param tls           null for plaintext
     */
    public RespPort(RespNode node, ConnectionLimits limits, int maxFrameBytes, ServerTls tls) {
        this.node = node;
        this.commands = new RespCommands(node);
        this.limits = limits;
        this.maxCommandBytes = Math.max(1, maxFrameBytes - FRAMING_BYTES);
        this.tls = tls;
    }

    public void bind(EventLoopGroup group, InetSocketAddress address) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NettyIo.serverChannel(group))
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(limits.maxOutputBufferBytes() / 4, limits.maxOutputBufferBytes() / 2))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (clients.incrementAndGet() > limits.maxConnections()) {
                            clients.decrementAndGet();
                            events.refused(ch);
                            // Redis's own words, in plaintext only (under TLS there is no session to say them in).
                            if (tls == null) {
                                ch.writeAndFlush(Unpooled.copiedBuffer("-ERR max number of clients reached\r\n", StandardCharsets.US_ASCII))
                                        .addListener(ChannelFutureListener.CLOSE);
                            } else {
                                ch.close();
                            }
                            return;
                        }
                        ch.closeFuture().addListener(f -> clients.decrementAndGet());
                        accepted.add(ch);
                        ch.pipeline().addLast(traffic);
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch));
                        }
                        RespEncoder encoder = new RespEncoder();
                        ch.pipeline().addLast(
                                new IdleStateHandler(0, 0, limits.clientIdleTimeout().toSeconds(), TimeUnit.SECONDS),
                                new FlushConsolidationHandler(256, true),
                                encoder,
                                new RedisDecoder(64 << 10, FixedRedisMessagePool.INSTANCE, true),
                                new RespCommandBounds(maxCommandBytes),
                                new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(MAX_ARGUMENTS, 1),
                                new RespConnection(commands, node, encoder, limits, events));
                    }
                });
        try {
            listener = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            String where = HostPort.format(address);
            throw new IOException(e instanceof BindException ? "cannot listen on " + where + " (--resp-port): the port is in use or the address is not local"
                    : "cannot listen on " + where + " (--resp-port): " + e.getMessage());
        }
    }

    /** The port bound (useful when asked for port 0). */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Redis connections open now. */
    public int connections() {
        return clients.get();
    }

    public long bytesReceived() {
        return traffic.received();
    }

    public long bytesSent() {
        return traffic.sent();
    }

    /** Connections closed for input that is not a Redis command, or over a limit. */
    public long closedForBadInput() {
        return events.badInput.get();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        accepted.close().awaitUninterruptibly();
    }

    /** What connections report: counted, and logged at most RateLimitedLog's lines per kind. */
    final class Events {
        private final AtomicLong badInput = new AtomicLong();
        private final RateLimitedLog refusals = new RateLimitedLog();
        private final RateLimitedLog badInputs = new RateLimitedLog();
        private final RateLimitedLog slowReaders = new RateLimitedLog();

        void refused(Channel ch) {
            refusals.warn(log, "refused a Redis client connection from {}: {} clients are connected (--max-connections)",
                    describe(ch.remoteAddress()), limits.maxConnections());
        }

        void closedForBadInput(Channel ch, String why) {
            badInput.incrementAndGet();
            badInputs.warn(log, "closing Redis connection from {}: {}", describe(ch.remoteAddress()), why);
        }

        void closedSlowReader(Channel ch, String why) {
            slowReaders.warn(log, "disconnected a Redis client from {}: {}", describe(ch.remoteAddress()), why);
        }

        void closedIdle(Channel ch) {
            log.debug("closing the Redis connection from {}: idle (--client-idle-timeout-s)", describe(ch.remoteAddress()));
        }

        private static String describe(SocketAddress address) {
            return address instanceof InetSocketAddress a ? HostPort.format(a) : String.valueOf(address);
        }
    }
}
