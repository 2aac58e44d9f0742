package io.flotilla.client;

import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A stand-in for a Flotilla cluster in one JVM: nodes that speak the real wire protocol over real
 * sockets, share one in-memory store that applies each write once (retries are answered from the
 * record), and let a test choose the
 * leader, make followers forward or redirect, and intercept requests to inject faults.
 */
public final class FakeCluster implements AutoCloseable {
    /** What a node does with one request. */
    public sealed interface Answer {
        record Respond(Response response) implements Answer {
        }

        /** Never answer. */
        record Drop() implements Answer {
        }

        /** Close the connection without answering. */
        record Close() implements Answer {
        }

        /** Carry the request out, then close the connection instead of answering: the answer is lost. */
        record ApplyThenClose() implements Answer {
        }

        static Answer respond(Response r) {
            return new Respond(r);
        }

        Answer DROP = new Drop();
        Answer CLOSE = new Close();
        Answer APPLY_THEN_CLOSE = new ApplyThenClose();
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    public final List<Node> nodes = new ArrayList<>();
    private final Store store = new Store();
    public volatile int leaderId;
    volatile long term = 1;
    /** Followers relay requests to the leader (as real nodes do), or answer NOT_LEADER naming it. */
    public volatile boolean followersForward = true;
    /** What every node announces in its hello reply (to clients that speak version 2). */
    public volatile Hello.Limits limits = new Hello.Limits(4096, 1 << 20, 4 << 20);
    /** The highest protocol version the nodes answer in (from 2, when the reply carries the limits). */
    public volatile int maxVersion = 2;

    public FakeCluster(int size) {
        for (int id = 1; id <= size; id++) {
            nodes.add(new Node(id));
        }
        leaderId = 1;
    }

    public Node node(int id) {
        return nodes.get(id - 1);
    }

    /** "127.0.0.1:p1,127.0.0.1:p2,..." */
    public String addresses() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","));
    }

    public List<InetSocketAddress> addressList() {
        return nodes.stream().map(Node::address).toList();
    }

    public void setLeader(int id) {
        leaderId = id;
        term++;
    }

    public Optional<Bytes> value(String key) {
        return store.get(Bytes.utf8(key));
    }

    public void put(String key, String value) {
        store.data.put(Bytes.utf8(key), Bytes.utf8(value));
    }

    /** Whether the store carried out write {@code seq} of {@code clientId} (never twice: retries are answered from the record). */
    public int timesApplied(long clientId, long seq) {
        return store.outcomes.containsKey(clientId + "/" + seq) ? 1 : 0;
    }

    /** How many distinct writes the store carried out. */
    public int totalApplied() {
        return store.outcomes.size();
    }

    /** A port nothing listens on. */
    public static int deadPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        nodes.forEach(Node::close);
        group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One node: a listening socket and its behaviour. */
    public final class Node {
        final int id;
        private final Channel listener;
        public final Queue<Request> received = new ConcurrentLinkedQueue<>();
        public final AtomicInteger connections = new AtomicInteger();
        /** Consulted first for every request; null (or a null answer) means behave normally. */
        public volatile Function<Request, Answer> interceptor;
        /** A paused process: connections are accepted (by the kernel), and nothing is ever answered, not even the hello. */
        public volatile boolean frozen;
        /** Delays the hello reply of the next connection by this many ms (once). */
        public final AtomicLong nextHelloDelayMillis = new AtomicLong();
        public final AtomicInteger hellosAnswered = new AtomicInteger();

        Node(int id) {
            this.id = id;
            this.listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.incrementAndGet();
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 24, 0, 4, 0, 4),
                                    new LengthFieldPrepender(4), new Handler());
                        }
                    })
                    .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        }

        public int port() {
            return ((InetSocketAddress) listener.localAddress()).getPort();
        }

        public InetSocketAddress address() {
            return InetSocketAddress.createUnresolved("127.0.0.1", port());
        }

        /** The data requests (not status queries) this node received. */
        public List<Request> dataRequests() {
            return received.stream().filter(r -> !(r instanceof Request.StatusQuery)).toList();
        }

        void close() {
            listener.close().syncUninterruptibly();
        }

        private Answer answer(Request request) {
            Function<Request, Answer> intercept = interceptor;
            if (intercept != null) {
                Answer a = intercept.apply(request);
                if (a != null) {
                    return a;
                }
            }
            return Answer.respond(normally(request));
        }

        Response normally(Request request) {
            int leader = leaderId;
            if (request instanceof Request.StatusQuery) {
                return new Response.Status(new NodeStatus(id, leader == id ? "LEADER" : "FOLLOWER", term, leader, 10, 10, 10));
            }
            if (request instanceof Request.Get g && g.stale()) {
                return store.read(g);
            }
            if (leader == 0) {
                return new Response.Failure(Response.Code.NO_LEADER, "no leader is known (an election may be running); retry shortly");
            }
            if (leader != id && !followersForward) {
                return new Response.NotLeader(leader, "127.0.0.1:" + node(leader).port(), "not the leader; node " + leader + " is");
            }
            return request instanceof Request.Get g ? store.read(g) : store.write((Request.Write) request);
        }

        private final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
            private boolean greeted;

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
                if (frozen) {
                    return;
                }
                if (!greeted) {
                    int asked = frame.getUnsignedByte(4); // a hello's version follows the magic
                    greeted = true;
                    int version = Math.min(asked, Math.max(2, maxVersion));
                    Hello.Reply reply = asked >= 2 ? new Hello.Reply(true, id, "flotilla", "", Optional.of(limits), version)
                            : new Hello.Reply(true, id, "flotilla", "", Optional.empty());
                    long delay = nextHelloDelayMillis.getAndSet(0);
                    Runnable answer = () -> {
                        hellosAnswered.incrementAndGet();
                        ctx.writeAndFlush(Unpooled.wrappedBuffer(WireCodec.encodeHelloReply(reply)));
                    };
                    if (delay > 0) {
                        ctx.executor().schedule(answer, delay, TimeUnit.MILLISECONDS);
                    } else {
                        answer.run();
                    }
                    return;
                }
                WireCodec.Tagged<Request> tagged = WireCodec.decodeRequest(frame.nioBuffer());
                received.add(tagged.body());
                Answer answer = answer(tagged.body());
                if (answer instanceof Answer.Respond r) {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(WireCodec.encodeResponse(tagged.requestId(), r.response())));
                } else if (answer instanceof Answer.Close) {
                    ctx.close();
                } else if (answer instanceof Answer.ApplyThenClose) {
                    normally(tagged.body());
                    ctx.close();
                }
            }
        }
    }

    /**
     * The replicated state, with the one session rule the client's tests rely on: a retried write is
     * answered with its first outcome, never applied again. The real rules (acknowledgements, expiry,
     * limits) are flotilla-server's state machine, which this module cannot use: the server depends
     * on the client, so the client's tests cannot depend on the server. The client against the real
     * state machine is tested there (io.flotilla.client.it).
     */
    private static final class Store {
        final Map<Bytes, Bytes> data = new java.util.concurrent.ConcurrentHashMap<>();
        /** Each write's outcome by "client id/seq": a write is applied once, when first seen. */
        final Map<String, Response> outcomes = new java.util.concurrent.ConcurrentHashMap<>();

        Optional<Bytes> get(Bytes key) {
            return Optional.ofNullable(data.get(key));
        }

        Response read(Request.Get g) {
            Bytes v = data.get(g.key());
            return v == null ? Response.NOT_FOUND : new Response.Value(v);
        }

        synchronized Response write(Request.Write w) {
            Bytes key = w instanceof Request.Set s ? s.key() : w instanceof Request.Delete d ? d.key() : ((Request.Cas) w).key();
            if (key.length() == 0) {
                return new Response.Failure(Response.Code.INVALID, "the key is empty");
            }
            return outcomes.computeIfAbsent(w.session().clientId() + "/" + w.session().seq(), id -> {
                Optional<Bytes> current = get(key);
                if (w instanceof Request.Cas c && !current.equals(c.expected())) {
                    return Response.CAS_MISMATCH;
                }
                if (w instanceof Request.Delete) {
                    return data.remove(key) != null ? Response.OK : Response.NOT_FOUND;
                }
                data.put(key, w instanceof Request.Set set ? set.value() : ((Request.Cas) w).value());
                return Response.OK;
            });
        }
    }
}
