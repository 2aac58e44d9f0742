package io.flotilla.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.Poll;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.server.TestPorts;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PeerTransportTest {
    @Test
    void aPeerThatConnectsToUsIsReconnectedToAtOnceInsteadOfAfterTheBackoff() throws Exception {
        int port = TestPorts.next();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        PeerTransport transport = new PeerTransport(1, "test",
                Map.of(1, new InetSocketAddress("127.0.0.1", 1), 2, new InetSocketAddress("127.0.0.1", port)),
                new MessageCodec(1 << 20), group);
        try {
            transport.start(m -> { });
            // Refused 5 times (after 50, 100, 200 and 400 ms of backoff): the next try is 800 ms away.
            Poll.until("5 refused connects to peer 2", () -> connectsTried(transport) >= 5, transport::describeLinks);
            AtomicInteger accepted = new AtomicInteger();
            try (ServerSocket peer = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
                Thread acceptor = new Thread(() -> {
                    try (Socket s = peer.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        // test over
                    }
                }, "peer-2");
                acceptor.setDaemon(true);
                acceptor.start();
                long start = System.nanoTime();
                transport.connected(2); // as when peer 2's hello arrives on our listener
                acceptor.join(1000);
                assertThat(accepted.get()).as("connected within 1 s of the peer's own connection").isEqualTo(1);
                assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1000);
            }
        } finally {
            transport.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** The connects the link to peer 2 tried, from the transport's diagnostics ("2: down (connects tried 4)"). */
    private static int connectsTried(PeerTransport transport) {
        Matcher m = Pattern.compile("2: [^,;]*\\(connects tried (\\d+)\\)").matcher(transport.describeLinks());
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    /**
     * A listener that accepts every connection and closes it at once, as a proxy in front of a dead
     * node does: the TCP connect succeeds, the hello is never answered. The link must back off
     * (50, 100, 200, 400 ms: 5 tries take at least 750 ms) rather than treat each connect as success
     * and retry every 50 ms (5 tries in 200 ms).
     */
    @Test
    void aPeerThatAcceptsButNeverAnswersTheHelloIsRetriedWithGrowingBackoff() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket blackHole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!blackHole.isClosed()) {
                    try (Socket s = blackHole.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "black-hole");
            acceptor.setDaemon(true);
            acceptor.start();
            PeerTransport transport = new PeerTransport(1, "test",
                    Map.of(1, new InetSocketAddress("127.0.0.1", 1), 2, new InetSocketAddress("127.0.0.1", blackHole.getLocalPort())),
                    new MessageCodec(1 << 20), group);
            long start = System.nanoTime();
            transport.start(m -> { });
            Poll.until("5 connects to the black hole", () -> accepted.get() >= 5);
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            transport.close();
            assertThat(elapsedMs).as("ms the first 5 connects took (backing off)").isGreaterThanOrEqualTo(700);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
