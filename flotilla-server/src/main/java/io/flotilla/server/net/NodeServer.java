package io.flotilla.server.net;

import io.flotilla.client.FlushBatcher;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.ProtocolException;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.message.MessageFormatException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's one listening port, for peers and clients alike. Every connection starts with a
 * {@link Hello}; after it, a peer connection carries Raft messages and a client connection carries
 * requests, many in flight at once. Anything malformed closes that connection with one log line and
 * leaves every other connection alone.
 */
public final class NodeServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeServer.class);

    /**
     * What the server needs to know. {@code maxKeyBytes} and {@code maxValueBytes} are only told to
     * clients (in the hello reply), so that they refuse oversized requests before sending them; the
     * request handler enforces them.
     *
     * @param peerRefusal why a peer or relay of this id is refused, or null to accept it. Nodes that the
     *                    configuration does not name yet are accepted (a leader adding this node, or a
     *                    node being added, contacts us before we know it: dissertation §4.1); the
     *                    removed are refused
     */
    public record Settings(int nodeId, String clusterId, IntFunction<String> peerRefusal, int maxFrameBytes,
                           int maxInFlightPerConnection, int idleSeconds, int maxKeyBytes, int maxValueBytes) {
        Hello.Limits limits() {
            return new Hello.Limits(maxKeyBytes, maxValueBytes, maxFrameBytes);
        }
    }

    /** Answers client requests; never completes exceptionally. */
    public interface RequestHandler {
        CompletableFuture<Response> handle(Request request, boolean forwarded);
    }

    private final Settings settings;
    private final MessageCodec messageCodec;
    private final Peers peers;
    private final RequestHandler requests;
    private final AtomicLong closedForBadInput = new AtomicLong();
    private Channel listener;
    /** Every accepted connection, so that closing the node cuts them all (peers then notice at once). */
    private final ChannelGroup accepted = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    /** Where peers' connections and messages go: the {@link PeerTransport}. */
    public interface Peers {
        /**
         * Peer {@code id} has just connected to us over {@code channel}: it is up, so our link to it may
         * stop backing off; and the channel is the way back to a peer we have no link to.
         */
        void connected(int id, Channel channel);

        void deliver(Message message);
    }

    public NodeServer(Settings settings, MessageCodec messageCodec, Peers peers, RequestHandler requests) {
        this(settings, messageCodec, peers, requests, null);
    }

    /** With TLS on every connection unless {@code tls} is null; then PEER and FORWARD hellos need a node certificate. */
    public NodeServer(Settings settings, MessageCodec messageCodec, Peers peers, RequestHandler requests, ServerTls tls) {
        this.settings = settings;
        this.messageCodec = messageCodec;
        this.peers = peers;
        this.requests = requests;
        this.tls = tls;
    }

    /** Null for plaintext. */
    private final ServerTls tls;
    /** Refusals that anyone who reaches the port can cause (TLS, identity) are logged at most once a second. */
    private final RateLimitedLog refusals = new RateLimitedLog(log, 1, TimeUnit.SECONDS);

    /** Binds the port; a port in use fails with a one-line {@link IOException}. */
    public void bind(EventLoopGroup boss, EventLoopGroup workers, InetSocketAddress address) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true) // a restarted node rebinds while old connections sit in TIME_WAIT
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.add(ch);
                        FrameDecoder frames = new FrameDecoder(settings.maxFrameBytes());
                        if (tls != null) {
                            ch.pipeline().addLast(new TlsGate(tls, settings.nodeId(), settings.clusterId(), refusals));
                        }
                        ch.pipeline().addLast(
                                new IdleStateHandler(settings.idleSeconds(), 0, 0, TimeUnit.SECONDS),
                                frames,
                                new FlushConsolidationHandler(256, true),
                                new LengthFieldPrepender(4),
                                new Handshake(frames));
                    }
                });
        try {
            listener = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            if (e instanceof BindException) {
                throw new IOException("cannot listen on " + describe(address) + ": the port is in use or the address is not local");
            }
            throw new IOException("cannot listen on " + describe(address) + ": " + e.getMessage());
        }
    }

    /** Connections closed because of malformed or oversized input. */
    public long closedForBadInput() {
        return closedForBadInput.get();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        accepted.close().awaitUninterruptibly();
    }

    static String describe(SocketAddress address) {
        return address instanceof InetSocketAddress a ? a.getHostString() + ":" + a.getPort() : String.valueOf(address);
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
        closedForBadInput.incrementAndGet();
        log.warn("closing connection from {}: {}", describe(ctx.channel().remoteAddress()), reason);
        ctx.close();
    }

    /** Common error handling for every stage of a connection. */
    private abstract class Stage extends SimpleChannelInboundHandler<ByteBuf> {
        final FrameDecoder frames;

        Stage(FrameDecoder frames) {
            this.frames = frames;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause.getCause() != null && !(cause instanceof ProtocolException) ? cause.getCause() : cause;
            if (c instanceof TooLongFrameException) {
                reject(ctx, "frame larger than " + settings.maxFrameBytes() + " bytes");
            } else if (c instanceof ProtocolException || c instanceof MessageFormatException) {
                reject(ctx, c.getMessage());
            } else if (c instanceof IOException) {
                ctx.close(); // the peer went away: nothing to report
            } else {
                reject(ctx, c.toString());
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                onIdle(ctx);
            }
        }

        void onIdle(ChannelHandlerContext ctx) {
            if (frames.hasPartialFrame()) {
                reject(ctx, "sent part of a frame and nothing for " + settings.idleSeconds() + " s");
            }
        }
    }

    private final class Handshake extends Stage {
        Handshake(FrameDecoder frames) {
            super(frames);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (!ctx.channel().isActive()) {
                return; // refused: what the other side sent after its hello is not read
            }
            Hello hello = WireCodec.decodeHello(frame.nioBuffer());
            String refusal = null;
            boolean unauthenticated = false;
            boolean anyCluster = hello.role() == Hello.Role.CLIENT && hello.clusterId().isEmpty();
            if (!anyCluster && !hello.clusterId().equals(settings.clusterId())) {
                refusal = "cluster id '" + hello.clusterId() + "' does not match this node's '" + settings.clusterId() + "'";
            } else if (hello.role() != Hello.Role.CLIENT) {
                refusal = settings.peerRefusal().apply(hello.nodeId());
                if (refusal == null && tls != null) {
                    refusal = tls.identityRefusal(ctx.channel(), hello.nodeId());
                    unauthenticated = refusal != null;
                }
            }
            // Answer in the lower of the two versions: from version 2 on, the reply carries the limits.
            int version = Math.min(hello.version(), WireCodec.VERSION);
            Optional<Hello.Limits> limits = version >= 2 ? Optional.of(settings.limits()) : Optional.empty();
            ctx.writeAndFlush(Unpooled.wrappedBuffer(WireCodec.encodeHelloReply(new Hello.Reply(
                    refusal == null, settings.nodeId(), settings.clusterId(), refusal == null ? "" : refusal, limits, version))));
            if (unauthenticated) {
                closedForBadInput.incrementAndGet();
                refusals.warn("closing connection from {}: {}", describe(ctx.channel().remoteAddress()), refusal);
                ctx.close();
                return;
            }
            if (refusal != null) {
                reject(ctx, refusal);
                return;
            }
            if (hello.role() != Hello.Role.PEER) {
                frames.refuseOversizedRequests();
            }
            Stage next = hello.role() == Hello.Role.PEER
                    ? new PeerMessages(frames, hello.nodeId())
                    : new ClientRequests(frames, hello.role() == Hello.Role.FORWARD, version);
            ctx.pipeline().replace(this, "stage", next);
            if (hello.role() == Hello.Role.PEER) {
                peers.connected(hello.nodeId(), ctx.channel());
            }
        }

        @Override
        void onIdle(ChannelHandlerContext ctx) {
            reject(ctx, "no hello within " + settings.idleSeconds() + " s");
        }
    }

    private final class PeerMessages extends Stage {
        private final int peerId;

        PeerMessages(FrameDecoder frames, int peerId) {
            super(frames);
            this.peerId = peerId;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            Message m = messageCodec.decode(frame.nioBuffer());
            if (m.from() != peerId || m.to() != settings.nodeId()) {
                throw new ProtocolException("peer " + peerId + " sent a message from " + m.from() + " to " + m.to());
            }
            peers.deliver(m);
        }
    }

    private final class ClientRequests extends Stage {
        private final boolean forwarded;
        /** The connection's protocol version, which decides the form of a status answer. */
        private final int version;
        private final AtomicInteger inFlight = new AtomicInteger();
        private FlushBatcher out;

        ClientRequests(FrameDecoder frames, boolean forwarded, int version) {
            super(frames);
            this.forwarded = forwarded;
            this.version = version;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof FrameDecoder.Oversized o) {
                // Refused before it was read, so certainly not applied; the decoder skips its bytes.
                log.info("refused a request of {} bytes from {}: over --max-frame-bytes ({})", o.length(),
                        describe(ctx.channel().remoteAddress()), settings.maxFrameBytes());
                answers(ctx).write(Unpooled.wrappedBuffer(WireCodec.encodeResponse(o.requestId(), new Response.Failure(
                        Response.Code.INVALID, "the request is " + o.length() + " bytes; this cluster accepts at most "
                                + settings.maxFrameBytes() + " (--max-frame-bytes)"))));
            } else {
                super.channelRead(ctx, msg);
            }
        }

        private FlushBatcher answers(ChannelHandlerContext ctx) {
            if (out == null) {
                out = new FlushBatcher(ctx.channel());
            }
            return out;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            WireCodec.Tagged<Request> request = WireCodec.decodeRequest(frame.nioBuffer());
            Channel ch = ctx.channel();
            FlushBatcher answers = answers(ctx);
            if (inFlight.incrementAndGet() >= settings.maxInFlightPerConnection()) {
                ch.config().setAutoRead(false); // backpressure: read more once answers go out
            }
            requests.handle(request.body(), forwarded).whenComplete((response, error) -> {
                // The handler never fails; if it did, a write's fate is unknown.
                Response answer = response != null ? response : new Response.Failure(request.body().changesState()
                        ? Response.Code.UNKNOWN_OUTCOME : Response.Code.UNAVAILABLE, "internal error: " + error);
                answers.write(Unpooled.wrappedBuffer(WireCodec.encodeResponse(request.requestId(), answer, version)));
                if (inFlight.decrementAndGet() < settings.maxInFlightPerConnection() / 2 && !ch.config().isAutoRead()) {
                    ch.config().setAutoRead(true);
                }
            });
        }
    }
}
