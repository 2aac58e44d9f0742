package io.flotilla.server.net;

import io.flotilla.client.NettyIo;
import io.flotilla.client.FlushBatcher;
import io.flotilla.client.HostPort;
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
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
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
import java.nio.ByteBuffer;
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
     * @param connections bounds on connections and on what each may hold (back-pressure)
     */
    public record Settings(int nodeId, String clusterId, IntFunction<String> peerRefusal, int maxFrameBytes,
                           ConnectionLimits connections, int idleSeconds, int maxKeyBytes, int maxValueBytes) {
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
    /** Connections that have not completed their hello, and client connections (not peers or relays). */
    private final AtomicInteger handshaking = new AtomicInteger();
    private final AtomicInteger clients = new AtomicInteger();
    private final AtomicLong refusedHandshakes = new AtomicLong();
    private final AtomicLong refusedClients = new AtomicLong();
    private final AtomicLong closedSlowReaders = new AtomicLong();
    private final AtomicLong closedIdle = new AtomicLong();
    private final AtomicLong peakHeldBytes = new AtomicLong();
    private final TrafficCounter traffic = new TrafficCounter();
    // A line per refused or closed connection, naming its address and why, up to RateLimitedLog's limit for each kind.
    private final RateLimitedLog handshakeRefusals = new RateLimitedLog();
    private final RateLimitedLog clientRefusals = new RateLimitedLog();
    private final RateLimitedLog slowReaderCloses = new RateLimitedLog();
    private final RateLimitedLog silentCloses = new RateLimitedLog();
    /** Peers and clients refused at their hello (another cluster, a removed node) or closed for bad input. */
    private final RateLimitedLog rejections = new RateLimitedLog();
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
    /** Refusals for TLS and identity (TlsGate, ServerTls). */
    private final RateLimitedLog refusals = new RateLimitedLog();

    /** Binds the port; a port in use fails with a one-line {@link IOException}. */
    public void bind(EventLoopGroup group, InetSocketAddress address) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NettyIo.serverChannel(group))
                .option(ChannelOption.SO_REUSEADDR, true) // a restarted node rebinds while old connections sit in TIME_WAIT
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (handshaking.incrementAndGet() > settings.connections().maxHandshakes()) {
                            handshaking.decrementAndGet();
                            refusedHandshakes.incrementAndGet();
                            handshakeRefusals.warn(log, "refused a connection from {}: {} connections have not completed their hello "
                                    + "(--max-handshakes)", HostPort.format(ch.remoteAddress()), settings.connections().maxHandshakes());
                            ch.close();
                            return;
                        }
                        accepted.add(ch);
                        ch.pipeline().addLast(traffic);
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
                throw new IOException("cannot listen on " + HostPort.format(address) + ": the port is in use or the address is not local");
            }
            throw new IOException("cannot listen on " + HostPort.format(address) + ": " + e.getMessage());
        }
    }

    /** Connections closed because of malformed or oversized input. */
    public long closedForBadInput() {
        return closedForBadInput.get();
    }

    /** Connections closed at once because {@code maxHandshakes} had not completed their hello. */
    public long refusedHandshakes() {
        return refusedHandshakes.get();
    }

    /** Client hellos refused because {@code maxConnections} clients were connected. */
    public long refusedClients() {
        return refusedClients.get();
    }

    /** Client connections open now. */
    public int clientConnections() {
        return clients.get();
    }

    /** Connections closed because their unwritten answers exceeded {@code maxOutputBufferBytes}. */
    public long closedSlowReaders() {
        return closedSlowReaders.get();
    }

    /** Client connections closed for being idle. */
    public long closedIdle() {
        return closedIdle.get();
    }

    /** Connections open now on this port: clients, peers, relays and those still in their hello. */
    public int openConnections() {
        return accepted.size();
    }

    /** Bytes read from this port's connections (as on the wire, so encrypted under TLS). */
    public long bytesReceived() {
        return traffic.received();
    }

    /** Bytes written to this port's connections (as on the wire). */
    public long bytesSent() {
        return traffic.sent();
    }

    /** The most bytes of answers that one connection ever held unwritten (encoded, not yet in the socket). */
    public long peakHeldBytes() {
        return peakHeldBytes.get();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        accepted.close().awaitUninterruptibly();
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
        closedForBadInput.incrementAndGet();
        rejections.warn(log, "closing connection from {}: {}", HostPort.format(ctx.channel().remoteAddress()), reason);
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

        /** Whether this connection still counts as handshaking; it stops at the hello or the close. */
        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            handshaking.decrementAndGet();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (!ctx.channel().isActive()) {
                return; // refused: what the other side sent after its hello is not read
            }
            NodeHello hello = NodeHello.decode(frame.nioBuffer());
            String refusal = null;
            boolean full = false;
            boolean unauthenticated = false;
            boolean anyCluster = hello.role() == NodeHello.Role.CLIENT && hello.clusterId().isEmpty();
            if (!anyCluster && !hello.clusterId().equals(settings.clusterId())) {
                refusal = "cluster id '" + hello.clusterId() + "' does not match this node's '" + settings.clusterId() + "'";
            } else if (hello.role() != NodeHello.Role.CLIENT) {
                refusal = settings.peerRefusal().apply(hello.nodeId()); // peers and relays are never refused for capacity
                if (refusal == null && tls != null) {
                    refusal = tls.identityRefusal(ctx.channel(), hello.nodeId());
                    unauthenticated = refusal != null;
                }
            } else if (!admitClient(ctx.channel())) {
                full = true;
                refusal = "this node serves " + settings.connections().maxConnections()
                        + " client connections (--max-connections); try another node or later";
            }
            // Answer in the lower of the two versions: from version 2 on, the reply carries the limits.
            int version = Math.min(hello.version(), WireCodec.VERSION);
            Optional<Hello.Limits> limits = version >= 2 ? Optional.of(settings.limits()) : Optional.empty();
            ctx.writeAndFlush(Unpooled.wrappedBuffer(WireCodec.encodeHelloReply(new Hello.Reply(
                    refusal == null, settings.nodeId(), settings.clusterId(), refusal == null ? "" : refusal, limits, version))));
            if (full) {
                refusedClients.incrementAndGet();
                clientRefusals.warn(log, "refused a client connection from {}: {} clients are connected (--max-connections)",
                        HostPort.format(ctx.channel().remoteAddress()), settings.connections().maxConnections());
                ctx.close();
                return;
            }
            if (unauthenticated) {
                closedForBadInput.incrementAndGet();
                refusals.warn(log, "closing connection from {}: {}", HostPort.format(ctx.channel().remoteAddress()), refusal);
                ctx.close();
                return;
            }
            if (refusal != null) {
                reject(ctx, refusal);
                return;
            }
            if (hello.role() != NodeHello.Role.PEER) {
                frames.refuseOversizedRequests();
                // Netty's writability follows the same marks as our own count of unwritten answers (ClientRequests).
                int max = settings.connections().maxOutputBufferBytes();
                ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(max / 4, max / 2));
            }
            Stage next = hello.role() == NodeHello.Role.PEER
                    ? new PeerMessages(frames, hello.nodeId())
                    : new ClientRequests(frames, hello.role() == NodeHello.Role.FORWARD, version);
            ctx.pipeline().replace(this, "stage", next);
            if (hello.role() == NodeHello.Role.PEER) {
                peers.connected(hello.nodeId(), ctx.channel());
            }
        }

        @Override
        void onIdle(ChannelHandlerContext ctx) {
            // Many at once is a flood of silent connections: say so once, not once each.
            closedForBadInput.incrementAndGet();
            silentCloses.warn(log, "closed a connection from {}: no hello within {} s", HostPort.format(ctx.channel().remoteAddress()),
                    settings.idleSeconds());
            ctx.close();
        }
    }

    /** Counts a client connection until it closes, if there is room for it. */
    private boolean admitClient(Channel ch) {
        if (clients.incrementAndGet() > settings.connections().maxConnections()) {
            clients.decrementAndGet();
            return false;
        }
        ch.closeFuture().addListener(f -> clients.decrementAndGet());
        return true;
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

    /**
     * Requests of a client or relay, many in flight. Back-pressure: the connection stops reading (and
     * its decoder stops handing on frames already read) while {@code maxInFlight} requests are being
     * handled, or while its unwritten answers exceed half of {@code maxOutputBufferBytes}; a request
     * stays in flight until its answer is written to the socket, not merely queued. Answers of
     * requests already in flight may still come; if they would take the connection's unwritten bytes
     * over {@code maxOutputBufferBytes}, the client is not reading them and is disconnected (as
     * Redis's client-output-buffer-limit does) rather than buffered without bound.
     */
    private final class ClientRequests extends Stage {
        private final boolean forwarded;
        /** The connection's protocol version, which decides the form of a status answer. */
        private final int version;
        private final ConnectionLimits limits = settings.connections();
        private final AtomicInteger inFlight = new AtomicInteger();
        /** Bytes of answers encoded and not yet written to the socket: what this connection holds of the node's memory. */
        private final AtomicLong held = new AtomicLong();
        /** Set once the connection is being closed (idle or slow): requests read from then on are dropped, unanswered. */
        private volatile boolean closing;
        private volatile boolean pausedForBytes;
        // Event loop only:
        private boolean pausedForInFlight;
        private long lastActiveNanos = System.nanoTime();
        private ChannelHandlerContext ctx;
        private FlushBatcher out;

        ClientRequests(FrameDecoder frames, boolean forwarded, int version) {
            super(frames);
            this.forwarded = forwarded;
            this.version = version;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            this.out = new FlushBatcher(ctx.channel());
            if (!forwarded) {
                checkIdleIn(limits.clientIdleTimeout().toNanos());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof FrameDecoder.Oversized o) {
                // Refused before it was read, so certainly not applied; the decoder skips its bytes.
                log.info("refused a request of {} bytes from {}: over --max-frame-bytes ({})", o.length(),
                        HostPort.format(ctx.channel().remoteAddress()), settings.maxFrameBytes());
                started();
                answer(o.requestId(), new Response.Failure(Response.Code.INVALID, "the request is " + o.length()
                        + " bytes; this cluster accepts at most " + settings.maxFrameBytes() + " (--max-frame-bytes)"));
            } else {
                super.channelRead(ctx, msg);
            }
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (closing) {
                return; // never handled, so never applied: the client learns so from the goodbye or the close
            }
            WireCodec.Tagged<Request> request = WireCodec.decodeRequest(frame.nioBuffer());
            started();
            requests.handle(request.body(), forwarded).whenComplete((response, error) -> {
                // The handler never fails; if it did, a write's fate is unknown.
                answer(request.requestId(), response != null ? response : new Response.Failure(request.body().changesState()
                        ? Response.Code.UNKNOWN_OUTCOME : Response.Code.UNAVAILABLE, "internal error: " + error));
            });
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            updateReading();
            ctx.fireChannelWritabilityChanged();
        }

        private void started() {
            lastActiveNanos = System.nanoTime();
            if (inFlight.incrementAndGet() >= limits.maxInFlight()) {
                pausedForInFlight = true;
                updateReading();
            }
        }

        /** Queues an answer, from any thread; it stays in flight until written. */
        private void answer(long requestId, Response response) {
            if (closing) {
                inFlight.decrementAndGet(); // the connection is going: do not even encode it
                return;
            }
            ByteBuffer bytes = WireCodec.encodeResponse(requestId, response, version);
            long size = bytes.remaining() + 4L; // and its length prefix
            long now = held.addAndGet(size);
            if (now > limits.maxOutputBufferBytes()) {
                held.addAndGet(-size);
                inFlight.decrementAndGet();
                closeSlowReader("its unread answers would take " + now + " bytes, over --max-connection-buffer-bytes ("
                        + limits.maxOutputBufferBytes() + ")");
                return;
            }
            peakHeldBytes.accumulateAndGet(now, Math::max);
            if (now >= limits.maxOutputBufferBytes() / 2 && !pausedForBytes) {
                ctx.executor().execute(this::updateReading);
            }
            out.writeWatched(Unpooled.wrappedBuffer(bytes)).addListener(f -> written(size));
        }

        /** On the event loop, once an answer reached the socket (or the connection failed). */
        private void written(long size) {
            held.addAndGet(-size);
            lastActiveNanos = System.nanoTime();
            if (inFlight.decrementAndGet() <= limits.maxInFlight() / 2) {
                pausedForInFlight = false;
            }
            updateReading();
        }

        /** Reads while few enough requests are in flight and few enough answers wait to be written. */
        private void updateReading() {
            if (!ctx.executor().inEventLoop()) {
                ctx.executor().execute(this::updateReading);
                return;
            }
            long h = held.get();
            if (h >= limits.maxOutputBufferBytes() / 2) {
                pausedForBytes = true;
            } else if (h <= limits.maxOutputBufferBytes() / 4) {
                pausedForBytes = false;
            }
            Channel ch = ctx.channel();
            boolean read = !closing && !pausedForInFlight && !pausedForBytes && ch.isWritable();
            if (read == ch.config().isAutoRead()) {
                return;
            }
            ch.config().setAutoRead(read);
            if (!read) {
                frames.pause();
            } else {
                ChannelHandlerContext decoder = ch.pipeline().context(frames);
                if (decoder != null) {
                    try {
                        frames.resume(decoder);
                    } catch (Exception e) {
                        exceptionCaught(ctx, e);
                    }
                }
            }
        }

        private void closeSlowReader(String why) {
            if (closing) {
                return;
            }
            closing = true;
            closedSlowReaders.incrementAndGet();
            slowReaderCloses.warn(log, "disconnected a {} connection from {}: {}", forwarded ? "relay" : "client",
                    HostPort.format(ctx.channel().remoteAddress()), why);
            ctx.channel().close();
        }

        /**
         * Closes a client connection with nothing in flight and nothing read for the idle timeout. It
         * first says goodbye (an answer to request id 0, which no request has): every request the
         * client has sent and not had answered before it was not read, so certainly not applied.
         */
        private void checkIdleIn(long nanos) {
            ctx.executor().schedule(this::checkIdle, nanos, TimeUnit.NANOSECONDS);
        }

        private void checkIdle() {
            if (closing || !ctx.channel().isActive()) {
                return;
            }
            long timeout = limits.clientIdleTimeout().toNanos();
            long idle = System.nanoTime() - lastActiveNanos;
            if (held.get() > 0 && idle >= timeout) {
                // Answers waited unwritten for the whole timeout: the client stopped reading, and would
                // otherwise keep up to --max-connection-buffer-bytes of the node's memory for good.
                closeSlowReader("it read none of its answers (" + held.get() + " bytes) for " + limits.clientIdleTimeout().toSeconds()
                        + " s (--client-idle-timeout-s)");
                return;
            }
            if (inFlight.get() > 0 || frames.hasPartialFrame() || idle < timeout) {
                checkIdleIn(inFlight.get() > 0 || idle >= timeout ? timeout : timeout - idle);
                return;
            }
            closing = true;
            closedIdle.incrementAndGet();
            long seconds = limits.clientIdleTimeout().toSeconds();
            log.debug("closing the client connection from {}: idle for {} s (--client-idle-timeout-s)",
                    HostPort.format(ctx.channel().remoteAddress()), seconds);
            updateReading();
            out.writeWatched(Unpooled.wrappedBuffer(WireCodec.encodeResponse(WireCodec.GOODBYE_ID, new Response.Failure(
                    Response.Code.UNAVAILABLE, "closing a connection idle for " + seconds + " s"), version)))
                    .addListener(f -> ctx.channel().close());
        }
    }
}
