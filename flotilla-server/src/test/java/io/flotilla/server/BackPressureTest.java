package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.server.net.ConnectionLimits;
import io.flotilla.server.net.NodeServer;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Back-pressure and the client idle timeout against a real node. */
class BackPressureTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private static ServerConfig withLimits(ServerConfig c, int bufferBytes, Duration clientIdle) {
        ConnectionLimits d = ConnectionLimits.DEFAULTS;
        return c.with(new ConnectionLimits(d.maxConnections(), d.maxHandshakes(), clientIdle, d.maxInFlight(), bufferBytes));
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static void frame(OutputStream out, ByteBuffer body) throws IOException {
        byte[] bytes = new byte[4 + body.remaining()];
        ByteBuffer.wrap(bytes).putInt(body.remaining()).put(body);
        out.write(bytes);
    }

    @Test
    void aClientThatNeverReadsLeavesTheNodesMemoryBoundedAndOthersServed() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 1)) {
            cluster.startWith(1, withLimits(cluster.config(1), 8 * MIB, Duration.ofMinutes(5)));
            cluster.awaitLeader();
            NodeServer node = cluster.nodes.get(1).nodeServer();
            try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withClusterId("test"))) {
                client.set(Bytes.utf8("big"), Bytes.wrap(new byte[MIB]));
                MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
                long heapBefore = usedHeapAfterGc(memory);
                long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
                try (Socket raw = new Socket("127.0.0.1", cluster.addresses.get(1).getPort())) {
                    raw.setReceiveBufferSize(64 << 10);
                    raw.setSoTimeout(10_000);
                    OutputStream out = raw.getOutputStream();
                    frame(out, WireCodec.encodeHello(Hello.client("test")));
                    out.flush();
                    DataInputStream in = new DataInputStream(raw.getInputStream());
                    in.readFully(new byte[in.readInt()]); // the hello reply, and nothing more from now on
                    int sent = 0;
                    try {
                        for (; sent < 3000; sent++) {
                            frame(out, WireCodec.encodeRequest(sent + 1, new Request.Get(Bytes.utf8("big"), false)));
                        }
                        out.flush();
                    } catch (IOException e) {
                        // disconnected while sending: as designed
                    }
                    // Meanwhile another client is served as usual.
                    long worstNanos = 0;
                    for (int i = 0; i < 20; i++) {
                        long t0 = System.nanoTime();
                        client.set(Bytes.utf8("k" + i), Bytes.utf8("v" + i));
                        assertThat(client.get(Bytes.utf8("k" + i))).contains(Bytes.utf8("v" + i));
                        worstNanos = Math.max(worstNanos, System.nanoTime() - t0);
                    }
                    Poll.until("the non-reading client's disconnection", () -> node.closedSlowReaders() == 1);
                    long heapAfter = usedHeapAfterGc(memory);
                    long directAfter = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
                    System.out.printf("sent %d GETs of 1 MiB; peak unwritten answers %d bytes; heap after GC %d -> %d MiB; "
                            + "pooled direct %d -> %d MiB; other client's worst set+get %d ms%n", sent, node.peakHeldBytes(),
                            heapBefore >> 20, heapAfter >> 20, directBefore >> 20, directAfter >> 20,
                            TimeUnit.NANOSECONDS.toMillis(worstNanos));
                    assertThat(node.peakHeldBytes()).isLessThanOrEqualTo(8 * MIB);
                    // Unbounded buffering would hold about 3 GB; allow generous slack for everything else.
                    assertThat(heapAfter - heapBefore).isLessThan(64L * MIB);
                    assertThat(directAfter - directBefore).isLessThan(64L * MIB);
                    assertThat(worstNanos).isLessThan(TimeUnit.SECONDS.toNanos(2));
                }
                assertThat(client.get(Bytes.utf8("big"))).map(Bytes::length).contains(MIB);
            }
        }
    }

    @Test
    void theClientReopensAConnectionTheNodeClosedForIdlenessWithoutFailingACall() throws Exception {
        long seed = System.nanoTime();
        System.out.println("seed " + seed);
        Random random = new Random(seed);
        try (TestCluster cluster = new TestCluster(dir, 1)) {
            cluster.startWith(1, withLimits(cluster.config(1), 16 * MIB, Duration.ofSeconds(1)));
            cluster.awaitLeader();
            NodeServer node = cluster.nodes.get(1).nodeServer();
            try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withClusterId("test"))) {
                client.set(Bytes.utf8("a"), Bytes.utf8("0"));
                Poll.until("the idle connection's closing", () -> node.closedIdle() >= 1);
                assertThat(client.get(Bytes.utf8("a"))).contains(Bytes.utf8("0"));
                // Calls right around the moment the node closes the connection (odd rounds), and well after
                // it (even rounds, so that the node surely closes some): none may fail.
                for (int i = 1; i <= 6; i++) {
                    Thread.sleep(i % 2 == 1 ? 900 + random.nextInt(200) : 1500 + random.nextInt(200));
                    client.set(Bytes.utf8("a"), Bytes.utf8(String.valueOf(i)));
                    assertThat(client.get(Bytes.utf8("a"))).contains(Bytes.utf8(String.valueOf(i)));
                }
                System.out.println("idle closings " + node.closedIdle());
                assertThat(node.closedIdle()).isGreaterThanOrEqualTo(4); // the first, and one per even round at least
            }
        }
    }
}
