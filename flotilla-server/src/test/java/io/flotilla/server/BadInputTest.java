package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.NodeConnection;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.server.net.NodeHello;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile bytes on a real socket: each case must get its connection closed while the node keeps
 * serving a well-behaved client on another connection.
 */
class BadInputTest {
    @TempDir
    static Path data;
    static TestCluster cluster;
    static NodeConnection goodClient;

    @BeforeAll
    static void start() throws Exception {
        cluster = new TestCluster(data, 1).startAll(); // one node: it leads by itself
        cluster.awaitLeader();
        goodClient = cluster.connect(1);
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private Socket open() throws IOException {
        Socket s = new Socket("127.0.0.1", cluster.addresses.get(1).getPort());
        s.setSoTimeout(5000);
        return s;
    }

    private static void frame(Socket s, byte[] body) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(body.length);
        out.write(body);
        out.flush();
    }

    private static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** Reads until the server closes the connection; fails if it stays open for 5 s. */
    private static void assertClosedByServer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            while (in.read() != -1) {
                // drain a hello reply, if any
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection");
        } catch (IOException reset) {
            // a reset is a close too
        }
    }

    private void assertStillServing() throws Exception {
        assertThat(cluster.set(goodClient, "alive", "yes")).isEqualTo(Response.OK);
    }

    @Test
    void randomBytesAreRefused() throws Exception {
        long before = cluster.nodes.get(1).closedForBadInput();
        byte[] junk = new byte[256];
        long seed = System.nanoTime();
        System.out.println("randomBytesAreRefused seed " + seed);
        new SplittableRandom(seed).nextBytes(junk);
        try (Socket s = open()) {
            frame(s, junk);
            assertClosedByServer(s);
        }
        assertThat(cluster.nodes.get(1).closedForBadInput()).isGreaterThan(before);
        assertStillServing();
    }

    @Test
    void aTwoGigabyteLengthClosesTheConnectionAtOnce() throws Exception {
        try (Socket s = open()) {
            new DataOutputStream(s.getOutputStream()).writeInt(Integer.MAX_VALUE);
            s.getOutputStream().write(new byte[64]);
            assertClosedByServer(s);
        }
        assertStillServing();
    }

    @Test
    void aTruncatedFrameFromAClientThatLeavesHarmsNobody() throws Exception {
        try (Socket s = open()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(100);
            out.write(new byte[10]);
        }
        assertStillServing();
    }

    @Test
    void halfAFrameAndSilenceIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = open()) {
            frame(s, array(WireCodec.encodeHello(new Hello(1, ""))));
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(100);
            out.write(new byte[10]);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] reply = new byte[in.readInt()];
            in.readFully(reply);
            assertThat(WireCodec.decodeHelloReply(ByteBuffer.wrap(reply)).accepted()).isTrue();
            assertClosedByServer(s); // the test cluster's idle timeout is 1 s
        }
        assertStillServing();
    }

    @Test
    void anUnknownRequestTypeIsRefused() throws Exception {
        try (Socket s = open()) {
            frame(s, array(WireCodec.encodeHello(new Hello(1, ""))));
            frame(s, ByteBuffer.allocate(9).putLong(1).put((byte) 99).array());
            assertClosedByServer(s);
        }
        assertStillServing();
    }

    @Test
    void aPeerOfAnotherClusterIsRefusedWithAReason() throws Exception {
        try (Socket s = open()) {
            frame(s, array(NodeHello.peer(1, "other-cluster").encode()));
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] reply = new byte[in.readInt()];
            in.readFully(reply);
            Hello.Reply r = WireCodec.decodeHelloReply(ByteBuffer.wrap(reply));
            assertThat(r.accepted()).isFalse();
            assertThat(r.message()).contains("other-cluster").contains("does not match");
            assertClosedByServer(s);
        }
        assertStillServing();
    }

    @Test
    void garbageOnAnAcceptedPeerLinkIsRefused() throws Exception {
        try (Socket s = open()) {
            frame(s, array(NodeHello.peer(1, "test").encode()));
            frame(s, new byte[] {1, 42, 0, 0});
            assertClosedByServer(s);
        }
        assertStillServing();
    }

    @Test
    void aClientCanStillUseValuesNearTheLimits() throws Exception {
        assertThat(cluster.set(goodClient, "big", "x".repeat(1 << 19))).isEqualTo(Response.OK);
        assertThat(TestCluster.get(goodClient, "big")).isEqualTo(new Response.Value(Bytes.utf8("x".repeat(1 << 19))));
    }

    private static byte[] readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return body;
    }

    @Test
    void aClientHelloOfVersion2IsAnsweredWithTheLimitsAndVersion1WithoutThem() throws Exception {
        for (int version = 2; version <= WireCodec.VERSION; version++) { // 3 has the same reply, in its own version
            try (Socket s = open()) {
                frame(s, array(WireCodec.encodeHello(new Hello(version, ""))));
                Hello.Reply reply = WireCodec.decodeHelloReply(ByteBuffer.wrap(readFrame(s)));
                assertThat(reply.accepted()).isTrue();
                assertThat(reply.version()).isEqualTo(version);
                assertThat(reply.limits()).isPresent();
                assertThat(reply.limits().get().maxFrameBytes()).isEqualTo(4 << 20);
            }
        }
        try (Socket s = open()) {
            frame(s, array(WireCodec.encodeHello(new Hello(1, ""))));
            byte[] reply = readFrame(s);
            assertThat(reply[4]).as("version byte").isEqualTo((byte) 1);
            assertThat(WireCodec.decodeHelloReply(ByteBuffer.wrap(reply)).limits()).isEmpty();
        }
    }

    @Test
    void anOversizedRequestIsRefusedNamingTheLimitAndTheConnectionStaysUsable() throws Exception {
        long before = cluster.nodes.get(1).closedForBadInput();
        try (Socket s = open()) {
            frame(s, array(WireCodec.encodeHello(Hello.client(""))));
            readFrame(s);
            // A SET of 5 MiB, as a client that does not know the limits would send it.
            byte[] request = array(WireCodec.encodeRequest(42, new io.flotilla.client.wire.Request.Set(cluster.nextSession(),
                    Bytes.utf8("big"), Bytes.wrap(new byte[5 << 20]))));
            frame(s, request);
            WireCodec.Tagged<Response> answer = WireCodec.decodeResponse(ByteBuffer.wrap(readFrame(s)));
            assertThat(answer.requestId()).isEqualTo(42);
            assertThat(answer.body().code()).isEqualTo(Response.Code.INVALID);
            assertThat(((Response.Failure) answer.body()).message())
                    .isEqualTo("the request is " + request.length + " bytes; this cluster accepts at most 4194304 (--max-frame-bytes)");
            // The frame's bytes were skipped: the next request on the same connection is read and answered.
            frame(s, array(WireCodec.encodeRequest(43, new io.flotilla.client.wire.Request.StatusQuery())));
            WireCodec.Tagged<Response> status = WireCodec.decodeResponse(ByteBuffer.wrap(readFrame(s)));
            assertThat(status.requestId()).isEqualTo(43);
            assertThat(status.body()).isInstanceOf(Response.Status.class);
        }
        assertThat(cluster.nodes.get(1).closedForBadInput()).isEqualTo(before);
        assertStillServing();
    }
}
