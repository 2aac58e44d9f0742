package io.flotilla.client;

import io.flotilla.client.wire.Greeting;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.ProtocolException;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection to one node, carrying many requests at once: each has an id, and answers may come
 * back in any order. Used by {@link FlotillaClient} and by nodes that relay requests to the leader.
 */
public final class NodeConnection implements AutoCloseable {
    private final Channel channel;
    private final FlushBatcher out;
    private final InetSocketAddress address;
    private final int maxInFlight;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private volatile int nodeId;
    private volatile Optional<Hello.Limits> limits = Optional.empty();
    /** The version the hello asked for, and the one the node answered in (the connection's). */
    private final int askedVersion;
    private volatile int version;
    /** Set when the node said goodbye (closing an idle connection): nothing sent from then on is read. */
    private volatile String goodbye;
    /** With TLS: the node id the certificate must name (0: any); -1 without TLS. */
    private int expectedNode = -1;
    private NodeTls tls;

    private NodeConnection(Channel channel, InetSocketAddress address, int maxInFlight, int askedVersion) {
        this.channel = channel;
        this.askedVersion = askedVersion;
        this.out = new FlushBatcher(channel);
        this.address = address;
        this.maxInFlight = maxInFlight;
    }

    /**
     * Connects and completes once the node accepted the {@code hello} (a client's {@link Hello}, or a
     * relaying node's greeting); fails with an
     * {@link IOException} that names the address if it cannot connect or is refused.
     */
    public static CompletableFuture<NodeConnection> open(EventLoopGroup group, InetSocketAddress address, Greeting hello,
                                                         int maxFrameBytes, int maxInFlight, Duration connectTimeout) {
        return open(group, address, hello, maxFrameBytes, maxInFlight, connectTimeout, null, 0);
    }

    /**
     * As above, over TLS unless {@code tls} is null: then the connection opens only if the node presents a
     * node certificate ({@link NodeTls}) for the id its hello reply names, and, unless
     * {@code expectedNode} is 0, that id is {@code expectedNode}.
     */
    public static CompletableFuture<NodeConnection> open(EventLoopGroup group, InetSocketAddress address, Greeting hello,
                                                         int maxFrameBytes, int maxInFlight, Duration connectTimeout,
                                                         NodeTls tls, int expectedNode) {
        CompletableFuture<NodeConnection> opened = new CompletableFuture<>();
        Bootstrap bootstrap = new Bootstrap().group(group).channel(NettyIo.socketChannel(group))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        NodeConnection connection = new NodeConnection(ch, address, maxInFlight, hello.version());
                        if (tls != null) {
                            tls.addTo(ch, address);
                            connection.expectedNode = expectedNode;
                            connection.tls = tls;
                        }
                        ch.pipeline().addLast(
                                new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, 4, 0, 4),
                                new LengthFieldPrepender(4),
                                connection.new Handler(opened));
                    }
                });
        bootstrap.connect(address).addListener(f -> {
            if (!f.isSuccess()) {
                opened.completeExceptionally(new IOException("cannot connect to " + HostPort.format(address) + ": " + f.cause().getMessage()));
            } else {
                Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                ch.writeAndFlush(Unpooled.wrappedBuffer(hello.encode()));
                opened.whenComplete((connection, error) -> {
                    if (error != null) {
                        ch.close(); // no hello reply in time, or refused: do not leak the socket
                    }
                });
            }
        });
        return opened.orTimeout(connectTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    /**
     * Sends a request; the future fails with an {@link IOException} if the connection is lost first
     * (a {@link NotSentException} if the request never left: the connection was closed, the frame
     * was not completely written, or the request is over a limit the node announced), or with a
     * {@link java.util.concurrent.TimeoutException} after {@code timeout}.
     */
    public CompletableFuture<Response> send(Request request, Duration timeout) {
        CompletableFuture<Response> answer = new CompletableFuture<>();
        if (!isOpen()) {
            answer.completeExceptionally(notSent());
            return answer;
        }
        if (pending.size() >= maxInFlight) {
            answer.completeExceptionally(new NotSentException(maxInFlight + " requests already in flight to " + HostPort.format(address)));
            return answer;
        }
        long id = nextId.getAndIncrement();
        ByteBuffer frame = WireCodec.encodeRequest(id, request);
        Optional<String> overLimit = limits.flatMap(l -> l.check(request, frame.remaining()));
        if ((request instanceof Request.MemberList || request instanceof Request.MemberChange) && version < 3 && askedVersion >= 3) {
            // The node answered an older version than asked: it does not know the request and would close the connection.
            overLimit = Optional.of("node " + nodeId + " at " + HostPort.format(address) + " speaks protocol version " + version
                    + ", which has no membership requests (version 3 does): upgrade it first");
        }
        if ((request instanceof Request.SnapshotBegin || request instanceof Request.SnapshotRead) && version < 4 && askedVersion >= 4) {
            overLimit = Optional.of("node " + nodeId + " at " + HostPort.format(address) + " speaks protocol version " + version
                    + ", which has no snapshot requests (version 4 does): upgrade it first");
        }
        if ((request instanceof Request.GetMany || request instanceof Request.SetMany || request instanceof Request.DeleteMany)
                && version < 5 && askedVersion >= 5) {
            overLimit = Optional.of("node " + nodeId + " at " + HostPort.format(address) + " speaks protocol version " + version
                    + ", which has no requests of many keys (version 5 does): upgrade it first");
        }
        if (overLimit.isPresent()) {
            answer.completeExceptionally(new OverLimitException(overLimit.get()));
            return answer;
        }
        pending.put(id, answer);
        if (goodbye != null) { // said between the check above and now: the node reads nothing more
            pending.remove(id);
            answer.completeExceptionally(notSent());
            return answer;
        }
        answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((r, e) -> pending.remove(id));
        out.writeWatched(Unpooled.wrappedBuffer(frame)).addListener(written -> {
            if (!written.isSuccess()) {
                // Part of the frame never reached the socket, so the node cannot have read the request.
                answer.completeExceptionally(new NotSentException("the request to " + HostPort.format(address)
                        + " was not completely sent: " + written.cause()));
            }
        }); // and if the connection is lost after the write, channelInactive fails it as lost
        return answer;
    }

    /** The limits the node announced in its hello reply (protocol version 2), if it did. */
    public Optional<Hello.Limits> limits() {
        return limits;
    }

    /** Connected, and the node has not said goodbye. */
    public boolean isOpen() {
        return channel.isActive() && goodbye == null;
    }

    private NotSentException notSent() {
        String bye = goodbye;
        return new NotSentException("connection to " + HostPort.format(address) + " is closed" + (bye == null ? "" : ": " + bye));
    }

    /** The id of the node at the other end, from its hello reply. */
    public int nodeId() {
        return nodeId;
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        channel.close();
    }

    private void failAll() {
        IOException lost = new IOException("connection to " + HostPort.format(address) + " was lost");
        pending.values().forEach(f -> f.completeExceptionally(lost));
    }

    private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
        private final CompletableFuture<NodeConnection> opened;

        Handler(CompletableFuture<NodeConnection> opened) {
            this.opened = opened;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (!opened.isDone()) {
                Hello.Reply reply = WireCodec.decodeHelloReply(frame.nioBuffer());
                String impostor = reply.accepted() && expectedNode >= 0
                        ? NodeTls.notNode(ctx.channel(), expectedNode != 0 ? expectedNode : reply.nodeId()) : null;
                if (impostor != null) {
                    opened.completeExceptionally(new IOException(HostPort.format(address) + " is not the node it should be: " + impostor));
                    ctx.close();
                } else if (reply.accepted()) {
                    nodeId = reply.nodeId();
                    limits = reply.limits();
                    version = reply.version();
                    opened.complete(NodeConnection.this);
                } else {
                    opened.completeExceptionally(new IOException(HostPort.format(address) + " refused the connection: " + reply.message()));
                    ctx.close();
                }
                return;
            }
            WireCodec.Tagged<Response> answer = WireCodec.decodeResponse(frame.nioBuffer());
            if (answer.requestId() == WireCodec.GOODBYE_ID && answer.body() instanceof Response.Failure f) {
                // Every answer the node sent came before this: what is still pending was not read.
                goodbye = "the node closed it (" + f.message() + ")";
                NotSentException notSent = notSent();
                pending.values().forEach(p -> p.completeExceptionally(notSent));
                ctx.close();
                return;
            }
            CompletableFuture<Response> waiting = pending.remove(answer.requestId());
            if (waiting != null) {
                waiting.complete(answer.body());
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                opened.completeExceptionally(new IOException(tls.describe(done.cause(), HostPort.format(address))));
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            opened.completeExceptionally(new IOException("connection to " + HostPort.format(address) + " closed during the handshake"
                    + (expectedNode >= 0 ? " (a node that refused this client's certificate, or one without TLS?)" : "")));
            failAll();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (tls != null && NodeTls.isTlsFailure(cause)) {
                opened.completeExceptionally(new IOException(tls.describe(cause, HostPort.format(address))));
                ctx.close();
                return;
            }
            String why = cause instanceof ProtocolException ? cause.getMessage() : cause.toString();
            opened.completeExceptionally(new IOException("connection to " + HostPort.format(address) + " failed: " + why));
            ctx.close();
        }
    }
}
