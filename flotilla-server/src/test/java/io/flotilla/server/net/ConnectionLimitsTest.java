package io.flotilla.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.Poll;
import io.flotilla.client.wire.Greeting;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.server.TestPorts;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The node's port under limits, with a stand-in request handler and raw sockets. */
class ConnectionLimitsTest {
    private static final int MIB = 1 << 20;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final List<Socket> sockets = new ArrayList<>();
    private final AtomicInteger handled = new AtomicInteger();
    /** GETs of these keys wait here until the test completes them. */
    private final Map<String, CompletableFuture<Response>> held = new ConcurrentHashMap<>();
    private NodeServer server;
    private InetSocketAddress address;
    private Bytes value = Bytes.utf8("v");

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private void start(ConnectionLimits limits) throws IOException {
        NodeServer.Settings settings = new NodeServer.Settings(1, "test", id -> null, 4 * MIB, limits, 10, 4096, MIB);
        NodeServer.Peers peers = new NodeServer.Peers() {
            @Override
            public void connected(int id, Channel channel) {
            }

            @Override
            public void deliver(Message message) {
            }
        };
        server = new NodeServer(settings, new MessageCodec(4 * MIB), peers, (request, forwarded) -> {
            handled.incrementAndGet();
            if (request instanceof Request.Get g && held.containsKey(g.key().utf8())) {
                return held.get(g.key().utf8());
            }
            return CompletableFuture.completedFuture(new Response.Value(value));
        });
        address = new InetSocketAddress("127.0.0.1", TestPorts.next());
        server.bind(group, address);
    }

    private static ConnectionLimits limits(int connections, int handshakes, Duration idle, int inFlight, int buffer) {
        return new ConnectionLimits(connections, handshakes, idle, inFlight, buffer);
    }

    private Socket open(int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer); // before connecting, so the window stays small
        }
        s.connect(address, 2000);
        s.setSoTimeout(10_000);
        sockets.add(s);
        return s;
    }

    private static void send(Socket s, ByteBuffer body) throws IOException {
        OutputStream out = s.getOutputStream();
        byte[] frame = new byte[4 + body.remaining()];
        ByteBuffer.wrap(frame).putInt(body.remaining()).put(body);
        out.write(frame);
        out.flush();
    }

    private static ByteBuffer readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return ByteBuffer.wrap(body);
    }

    private static Hello.Reply hello(Socket s, Greeting hello) throws IOException {
        send(s, hello.encode());
        return WireCodec.decodeHelloReply(readFrame(s));
    }

    private static ByteBuffer get(long id, String key) {
        return WireCodec.encodeRequest(id, new Request.Get(Bytes.utf8(key), true));
    }

    /** Whether the node closed {@code s}: reads (and drops) until the end of the stream, within {@code ms}. */
    private static boolean closedWithin(Socket s, int ms) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        byte[] sink = new byte[64 << 10];
        try {
            while (System.nanoTime() < deadline) {
                s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (s.getInputStream().read(sink) < 0) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void readingStopsWhileAnswersAreUnreadAndResumesOnceTheyAreRead() throws Exception {
        value = Bytes.wrap(new byte[256 << 10]);
        start(limits(16, 16, Duration.ofMinutes(5), 24, 8 * MIB));
        Socket s = open(64 << 10);
        assertThat(hello(s, Hello.client("test")).accepted()).isTrue();
        int requests = 200; // 50 MiB of answers: far more than the socket buffers and the bound together
        for (int i = 1; i <= requests; i++) {
            send(s, get(i, "k"));
        }
        Poll.until("the first answers", () -> server.peakHeldBytes() > 0 && handled.get() >= 24);
        // Not reading, the client cannot get all its answers: the node must stop reading instead of buffering them.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < deadline) {
            assertThat(handled.get()).as("requests handled while the client reads nothing").isLessThan(requests);
            Thread.sleep(20);
        }
        System.out.printf("handled %d of %d while not reading; peak unwritten answers %d bytes%n", handled.get(), requests,
                server.peakHeldBytes());
        BitSet answered = new BitSet();
        for (int i = 0; i < requests; i++) {
            WireCodec.Tagged<Response> answer = WireCodec.decodeResponse(readFrame(s));
            assertThat(answer.body()).isInstanceOf(Response.Value.class);
            answered.set((int) answer.requestId());
        }
        assertThat(answered.cardinality()).isEqualTo(requests);
        assertThat(handled.get()).isEqualTo(requests);
        assertThat(server.peakHeldBytes()).isLessThanOrEqualTo(8 * MIB);
        assertThat(server.closedSlowReaders()).isZero();
    }

    /**
     * The node stops reading at half the bound; it disconnects the client when the answers of
     * requests already read would exceed the bound, or, if they fit, once they have waited unread for
     * the client idle timeout (which of the two comes first depends on how many requests were read
     * before reading stopped). Either way it never holds more than the bound.
     */
    @Test
    void aClientThatNeverReadsCostsAtMostTheBoundAndIsDisconnected() throws Exception {
        value = Bytes.wrap(new byte[MIB]);
        start(limits(16, 16, Duration.ofSeconds(2), 4096, 8 * MIB));
        Socket s = open(64 << 10);
        assertThat(hello(s, Hello.client("test")).accepted()).isTrue();
        try {
            for (int i = 1; i <= 3000; i++) {
                send(s, get(i, "k"));
            }
        } catch (IOException e) {
            // already disconnected: fine
        }
        Poll.until("the slow reader's disconnection", () -> server.closedSlowReaders() == 1);
        assertThat(closedWithin(s, 10_000)).isTrue();
        System.out.printf("handled %d of 3000 GETs of 1 MiB; peak unwritten answers %d bytes%n", handled.get(), server.peakHeldBytes());
        assertThat(server.peakHeldBytes()).isLessThanOrEqualTo(8 * MIB);
        // Others are unaffected.
        Socket other = open(0);
        assertThat(hello(other, Hello.client("test")).accepted()).isTrue();
        send(other, get(1, "k"));
        assertThat(WireCodec.decodeResponse(readFrame(other)).body()).isInstanceOf(Response.Value.class);
    }

    @Test
    void connectionsBeyondMaxHandshakesAreClosedAtOnce() throws Exception {
        start(limits(16, 4, Duration.ofMinutes(5), 16, 8 * MIB));
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            silent.add(open(0));
        }
        Poll.until("nothing refused", () -> server.refusedHandshakes() == 0); // trivially true; keeps the order explicit
        Socket fifth = open(0);
        assertThat(closedWithin(fifth, 5000)).as("the fifth connection is closed").isTrue();
        assertThat(server.refusedHandshakes()).isEqualTo(1);
        // One completes its hello: its place is free again.
        assertThat(hello(silent.get(0), Hello.client("test")).accepted()).isTrue();
        Socket sixth = open(0);
        assertThat(hello(sixth, Hello.client("test")).accepted()).isTrue();
        assertThat(server.refusedHandshakes()).isEqualTo(1);
    }

    @Test
    void clientsBeyondMaxConnectionsAreRefusedButPeersAndRelaysAdmitted() throws Exception {
        start(limits(2, 16, Duration.ofMinutes(5), 16, 8 * MIB));
        assertThat(hello(open(0), Hello.client("test")).accepted()).isTrue();
        assertThat(hello(open(0), Hello.client("test")).accepted()).isTrue();
        Socket third = open(0);
        Hello.Reply refused = hello(third, Hello.client("test"));
        assertThat(refused.accepted()).isFalse();
        assertThat(refused.message()).contains("serves 2 client connections (--max-connections)");
        assertThat(closedWithin(third, 5000)).isTrue();
        assertThat(hello(open(0), NodeHello.peer(2, "test")).accepted()).isTrue();
        assertThat(hello(open(0), NodeHello.forward(1, 3, "test")).accepted()).isTrue();
        assertThat(server.refusedClients()).isEqualTo(1);
        assertThat(server.clientConnections()).isEqualTo(2);
    }

    @Test
    void idleClientConnectionsAreClosedButNotPeersNorClientsWithRequestsInFlight() throws Exception {
        start(limits(16, 16, Duration.ofSeconds(1), 16, 8 * MIB));
        long start = System.nanoTime();
        Socket idle = open(0);
        Socket peer = open(0);
        Socket busy = open(0);
        assertThat(hello(idle, Hello.client("test")).accepted()).isTrue();
        assertThat(hello(peer, NodeHello.peer(2, "test")).accepted()).isTrue();
        assertThat(hello(busy, Hello.client("test")).accepted()).isTrue();
        CompletableFuture<Response> slow = new CompletableFuture<>();
        held.put("slow", slow);
        send(busy, get(7, "slow"));
        // The idle client gets a goodbye (request id 0), then the end of the stream.
        WireCodec.Tagged<Response> bye = WireCodec.decodeResponse(readFrame(idle));
        assertThat(bye.requestId()).isEqualTo(WireCodec.GOODBYE_ID);
        assertThat(bye.body().code()).isEqualTo(Response.Code.UNAVAILABLE);
        assertThat(closedWithin(idle, 5000)).isTrue();
        assertThat(server.closedIdle()).isEqualTo(1);
        // Well past the timeout, the peer and the client waiting for an answer are still connected.
        long waitMs = 2500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(closedWithin(busy, (int) Math.max(1, waitMs))).isFalse();
        assertThat(closedWithin(peer, 1)).isFalse();
        slow.complete(Response.NOT_FOUND);
        assertThat(WireCodec.decodeResponse(readFrame(busy)).requestId()).isEqualTo(7);
        // Once answered and idle, it goes too.
        assertThat(WireCodec.decodeResponse(readFrame(busy)).requestId()).isEqualTo(WireCodec.GOODBYE_ID);
        assertThat(closedWithin(peer, 1)).isFalse();
    }
}
