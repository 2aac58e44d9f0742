package io.flotilla.server.net;

import io.flotilla.client.NettyIo;
import io.flotilla.client.FlushBatcher;
import io.flotilla.client.HostPort;
import io.flotilla.client.NodeTls;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Transport;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.net.InetSocketAddress;
import io.flotilla.client.wire.ProtocolException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends Raft messages to the other nodes over long-lived outbound connections, one per peer, that
 * reconnect with backoff. A message for a peer that is down, or whose socket is backed up, is
 * dropped and counted rather than queued: Raft resends what matters. Inbound messages arrive on
 * the connections the peers open to us ({@link NodeServer}).
 *
 * <p>The peers change with the cluster's configuration ({@link #setPeers}). A node that waits to be
 * added knows no peer at all, yet must answer the leader that contacts it (dissertation §4.1): a
 * message to a node we have no link to goes back over that node's own connection to us, and every
 * link reads the messages that come back on it (docs/protocol.md, "Peer connections").
 */
public final class PeerTransport implements Transport, NodeServer.Peers {
    private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
    private static final long MIN_BACKOFF_MS = 50;
    private static final long MAX_BACKOFF_MS = 2000;
    private static final int MAX_REPLY_BYTES = 64 * 1024;
    private static final long HELLO_TIMEOUT_MS = 2000;

    private final int selfId;
    private final String clusterId;
    private final MessageCodec codec;
    private final EventLoopGroup group;
    /** Written by {@link #setPeers} (any thread), read by {@link #send} (the node's thread). */
    private final Map<Integer, Link> links = new ConcurrentSkipListMap<>();
    /** Each peer's latest connection to us, the way back to a peer we have no link to. */
    private final Map<Integer, Channel> inboundChannels = new ConcurrentHashMap<>();
    private volatile boolean started;
    private final AtomicLong dropped = new AtomicLong();
    private final TrafficCounter traffic = new TrafficCounter();
    private volatile boolean closed;
    private volatile Consumer<Message> inbound = m -> { };
    /** Null for plaintext. */
    private final NodeTls tls;

    public PeerTransport(int selfId, String clusterId, Map<Integer, InetSocketAddress> peers, MessageCodec codec,
                         EventLoopGroup group) {
        this(selfId, clusterId, peers, codec, group, null);
    }

    /**
     * Links over TLS unless {@code tls} is null: a link is up only once the peer presented the
     * certificate of the node it should be ({@code CN=node-<peer id>}).
     */
    public PeerTransport(int selfId, String clusterId, Map<Integer, InetSocketAddress> peers, MessageCodec codec,
                         EventLoopGroup group, NodeTls tls) {
        this.tls = tls;
        this.selfId = selfId;
        this.clusterId = clusterId;
        this.codec = codec;
        this.group = group;
        peers.forEach((id, address) -> {
            if (id != selfId) {
                links.put(id, new Link(id, address));
            }
        });
    }

    /** Messages dropped because their peer was unreachable or backed up. */
    public long droppedMessages() {
        return dropped.get();
    }

    /** Bytes read from this node's links to its peers (as on the wire). */
    public long bytesReceived() {
        return traffic.received();
    }

    /** Bytes written to this node's links to its peers (as on the wire). */
    public long bytesSent() {
        return traffic.sent();
    }

    /** Each link's state, for diagnostics: "2: up (writable), 3: down (connects tried 4)". */
    public String describeLinks() {
        StringBuilder out = new StringBuilder();
        links.forEach((id, link) -> {
            Channel ch = link.channel;
            out.append(out.length() == 0 ? "" : ", ").append(id).append(": ")
                    .append(ch == null ? "down" : ch.isActive() ? (ch.isWritable() ? "up (writable)" : "up (backed up)") : "closing")
                    .append(" (connects tried ").append(link.attempts).append(')');
        });
        return out.append("; dropped ").append(dropped.get()).toString();
    }

    @Override
    public void start(Consumer<Message> inbound) {
        this.inbound = inbound;
        started = true;
        links.values().forEach(Link::connect);
    }

    /**
     * The peers to keep links to, by id (this node's own id is ignored): links to new peers (or to a
     * peer's new address) are opened, links to peers no longer listed are closed for good. Logged at
     * DEBUG: the node's INFO line for the configuration change (RaftRuntime) says what changed.
     */
    public synchronized void setPeers(Map<Integer, InetSocketAddress> peers) {
        for (Map.Entry<Integer, InetSocketAddress> e : peers.entrySet()) {
            int id = e.getKey();
            Link current = links.get(id);
            if (id == selfId || current != null && current.address.equals(e.getValue())) {
                continue;
            }
            if (current != null) {
                current.retire();
            }
            Link link = new Link(id, e.getValue());
            links.put(id, link);
            log.debug("peer {} at {} {}", id, HostPort.format(e.getValue()), current == null ? "joined the configuration" : "moved");
            if (started && !closed) {
                link.connect();
            }
        }
        for (Link link : List.copyOf(links.values())) {
            if (!peers.containsKey(link.peerId)) {
                links.remove(link.peerId, link);
                link.retire();
                log.debug("peer {} left the configuration; its link is closed", link.peerId);
            }
        }
    }

    /** Hands a message that arrived on a peer's connection ({@link NodeServer}) to the node. */
    @Override
    public void deliver(Message message) {
        inbound.accept(message);
    }

    /**
     * Peer {@code id} connected to us, so it is up: if our link to it is waiting out a backoff,
     * connect now. A restarted node would otherwise stay unreachable from here for up to the
     * longest backoff, and an election that needs its vote would wait that long.
     */
    public void connected(int id) {
        Link link = links.get(id);
        if (link != null) {
            link.connectNowIfWaiting();
        }
    }

    @Override
    public void connected(int id, Channel channel) {
        inboundChannels.put(id, channel);
        channel.closeFuture().addListener(f -> inboundChannels.remove(id, channel));
        connected(id);
    }

    @Override
    public void send(Message message) {
        Link link = links.get(message.to());
        // No link: a peer the configuration does not name (yet), such as the leader of a cluster that is
        // adding this node. Only answers go this way (such a node never starts an exchange), and they are small.
        Channel ch = link == null ? inboundChannels.get(message.to()) : link.channel;
        if (ch == null || !ch.isActive() || !ch.isWritable()) {
            dropped.incrementAndGet();
            return;
        }
        ByteBuf frame = ch.alloc().buffer(codec.encodedSize(message));
        codec.encode(message, frame.nioBuffer(0, frame.capacity()));
        frame.writerIndex(frame.capacity());
        if (link == null) {
            ch.writeAndFlush(frame, ch.voidPromise());
        } else {
            // The node and storage threads send in bursts (one message per follower per batch): one wake-up
            // of the event loop and one flush per burst, not per message.
            FlushBatcher.of(ch).write(frame);
        }
    }

    @Override
    public void close() {
        closed = true;
        links.values().forEach(Link::retire);
    }

    /** The connection to one peer. */
    private final class Link {
        final int peerId;
        final InetSocketAddress address;
        volatile Channel channel;
        long backoffMs = MIN_BACKOFF_MS;
        private ScheduledFuture<?> pendingConnect; // guarded by this
        volatile long attempts;
        boolean everConnected;
        boolean reportedDown;
        /** Closed for good: the peer left the configuration (or moved), or the transport closed. */
        volatile boolean retired;

        Link(int peerId, InetSocketAddress address) {
            this.peerId = peerId;
            this.address = address;
        }

        void retire() {
            retired = true;
            synchronized (this) {
                if (pendingConnect != null) {
                    pendingConnect.cancel(false);
                }
            }
            Channel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }

        void connect() {
            if (closed || retired) {
                return;
            }
            attempts++;
            Bootstrap b = new Bootstrap().group(group).channel(NettyIo.socketChannel(group))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 1000)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(4 << 20, 16 << 20))
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (tls != null) {
                                tls.addTo(ch, address);
                            }
                            ch.pipeline().addFirst(traffic); // before TLS: it counts the bytes on the wire
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(MAX_REPLY_BYTES, 0, 4, 0, 4),
                                    new FlushConsolidationHandler(256, true), new LengthFieldPrepender(4), new HelloReplyHandler());
                        }
                    });
            ChannelFuture f = b.connect(address);
            f.addListener(done -> {
                if (done.isSuccess()) {
                    Channel ch = f.channel();
                    ch.writeAndFlush(Unpooled.wrappedBuffer(NodeHello.peer(selfId, clusterId).encode()));
                    ch.closeFuture().addListener(c -> reconnectLater());
                    // A peer that accepts but does not answer (a stopped process: the kernel still completes
                    // the handshake) is tried again later rather than waited for forever.
                    ch.eventLoop().schedule(() -> {
                        if (channel != ch) {
                            ch.close();
                        }
                    }, HELLO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } else {
                    reconnectLater();
                }
            });
        }

        /**
         * The link is up only once the peer accepts our hello: a bare TCP connect proves little (a
         * proxy or a load balancer in front of a dead node accepts too), and treating it as success
         * would reset the backoff and reconnect every 50 ms.
         */
        private final class HelloReplyHandler extends ChannelInboundHandlerAdapter {
            private boolean answered;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf frame = (ByteBuf) msg;
                try {
                    if (!answered) {
                        answered = true;
                        onReply(ctx.channel(), WireCodec.decodeHelloReply(frame.nioBuffer()));
                    } else {
                        // A node that does not know us yet (it waits to be added) answers on this link.
                        Message m = codec.decode(frame.nioBuffer());
                        if (m.from() != peerId || m.to() != selfId) {
                            throw new ProtocolException("peer " + peerId + " answered with a message from " + m.from() + " to " + m.to());
                        }
                        inbound.accept(m);
                    }
                } finally {
                    frame.release();
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (NodeTls.isTlsFailure(cause)) {
                    reportDown(NodeTls.describeFailure(cause, "peer " + peerId + " at " + HostPort.format(address)));
                } else if (!(cause instanceof java.io.IOException)) {
                    log.warn("closing the link to peer {}: {}", peerId, cause.getMessage());
                }
                ctx.close();
            }
        }

        private void onReply(Channel ch, Hello.Reply reply) {
            if (retired) {
                ch.close();
                return;
            }
            if (!reply.accepted()) {
                reportDown("peer " + peerId + " at " + HostPort.format(address) + " refused this node: " + reply.message());
                ch.close();
                return;
            }
            String impostor = tls == null ? null : NodeTls.notNode(ch, peerId);
            if (impostor != null) {
                reportDown("the node at " + HostPort.format(address) + " is not peer " + peerId + ": " + impostor);
                ch.close();
                return;
            }
            channel = ch;
            backoffMs = MIN_BACKOFF_MS;
            if (reportedDown || !everConnected) {
                log.info("peer {} at {} is reachable", peerId, HostPort.format(address));
            }
            everConnected = true;
            reportedDown = false;
        }

        /** One WARN line until the link is up again: a refusal repeats on every reconnect. */
        private void reportDown(String why) {
            if (!reportedDown) {
                log.warn("{}", why);
                reportedDown = true;
            }
        }

        void reconnectLater() {
            channel = null;
            if (closed || retired) {
                return;
            }
            if (!reportedDown) {
                log.info("peer {} at {} is unreachable; retrying in the background", peerId, HostPort.format(address));
                reportedDown = true;
            }
            long delay = backoffMs;
            backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
            synchronized (this) {
                pendingConnect = group.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
            }
        }

        void connectNowIfWaiting() {
            synchronized (this) {
                if (pendingConnect == null || !pendingConnect.cancel(false)) {
                    return; // connected, or a connect is already under way
                }
                pendingConnect = null;
                backoffMs = MIN_BACKOFF_MS;
            }
            group.execute(this::connect);
        }
    }
}
