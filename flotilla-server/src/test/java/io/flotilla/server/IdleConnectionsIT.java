package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.server.net.NodeServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 idle connections to one node (default limits: 1024 clients, 128 handshakes), half of them
 * with a client hello, half silent: the cluster keeps serving and a restarted peer reconnects and
 * catches up. In-JVM: the node closes or refuses all but about 1,150 of them, so both ends together
 * stay well under the 20,000 descriptors allowed.
 */
class IdleConnectionsIT {
    private static final int CONNECTIONS = 10_000;

    @TempDir
    Path dir;

    @Test
    void tenThousandIdleConnectionsDoNotStopTheClusterOrAPeerReconnecting() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3)) {
            cluster.startAll();
            cluster.awaitLeader();
            NodeServer target = cluster.nodes.get(1).nodeServer();
            InetSocketAddress address = cluster.addresses.get(1);
            List<Socket> sockets = new ArrayList<>();
            AtomicInteger opened = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            byte[] hello = frame(WireCodec.encodeHello(Hello.client("test")));
            Thread flood = new Thread(() -> {
                for (int i = 0; i < CONNECTIONS && System.nanoTime() < deadline; i++) {
                    try {
                        Socket s = new Socket();
                        sockets.add(s);
                        s.connect(address, 1000);
                        if (i % 2 == 0) {
                            s.getOutputStream().write(hello); // and never a request, nor a read
                        }
                        opened.incrementAndGet();
                    } catch (IOException e) {
                        failed.incrementAndGet(); // refused or closed under us: expected beyond the limits
                    }
                }
            }, "flood");
            try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withClusterId("test"))) {
                flood.start();
                Poll.until("the first 2,000 connections", () -> opened.get() + failed.get() >= 2_000);
                cluster.halt(3);
                int written = 0;
                for (; written < 50; written++) {
                    client.set(Bytes.utf8("k" + written), Bytes.utf8("v" + written));
                }
                cluster.start(3);
                for (; written < 100; written++) {
                    client.set(Bytes.utf8("k" + written), Bytes.utf8("v" + written));
                    assertThat(client.get(Bytes.utf8("k" + written))).contains(Bytes.utf8("v" + written));
                }
                flood.join(TimeUnit.SECONDS.toMillis(40));
                assertThat(flood.isAlive()).as("the flood ended within its deadline").isFalse();
                int leader = cluster.awaitLeader();
                long commit = cluster.nodes.get(leader).raft().status().commitIndex();
                Poll.until("the restarted node 3 catching up", () -> cluster.nodes.get(3).raft().status().appliedIndex() >= commit, cluster::statuses);
                System.out.printf("%d connections opened, %d failed; node 1 refused %d clients and %d handshakes, "
                        + "holds %d client connections%n", opened.get(), failed.get(), target.refusedClients(),
                        target.refusedHandshakes(), target.clientConnections());
                assertThat(opened.get() + failed.get()).isEqualTo(CONNECTIONS);
                assertThat(target.clientConnections()).isLessThanOrEqualTo(1024);
                assertThat(target.refusedClients() + target.refusedHandshakes()).isPositive();
                assertThat(client.get(Bytes.utf8("k99"))).contains(Bytes.utf8("v99"));
            } finally {
                flood.join(TimeUnit.SECONDS.toMillis(40));
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }

    private static byte[] frame(ByteBuffer body) {
        byte[] bytes = new byte[4 + body.remaining()];
        ByteBuffer.wrap(bytes).putInt(body.remaining()).put(body);
        return bytes;
    }
}
