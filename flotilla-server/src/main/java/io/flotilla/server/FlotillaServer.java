package io.flotilla.server;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.storage.DurableStorage;
import io.flotilla.core.storage.Identity;
import io.flotilla.core.storage.StorageException;
import io.flotilla.server.kv.KvCodec;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvStateMachine;
import io.flotilla.server.net.NodeServer;
import io.flotilla.server.net.PeerTransport;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running node: storage, Raft runtime, peer transport and the listening port, stopped in reverse. */
public final class FlotillaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FlotillaServer.class);

    private final ServerConfig config;
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private DurableStorage storage;
    private PeerTransport transport;
    private RaftRuntime<KvCommand, Request.Get, Response> raft;
    private Forwarder forwarder;
    private NodeServer server;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private FlotillaServer(ServerConfig config) {
        this.config = config;
    }

    /** Starts a node; any problem stops it with a one-line message (an {@link IOException} or {@link StorageException}). */
    public static FlotillaServer start(ServerConfig config) throws IOException {
        FlotillaServer node = new FlotillaServer(config);
        try {
            node.open();
            return node;
        } catch (IOException | RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private void open() throws IOException {
        storage = DurableStorage.open(config.dataDir(), new Identity(config.clusterId(), config.nodeId()),
                DurableStorage.Options.defaults().withFsync(config.fsync()));
        storage.bootstrap(new ClusterConfig(config.peers().keySet()));
        MessageCodec messageCodec = new MessageCodec(config.maxFrameBytes());
        transport = new PeerTransport(config.nodeId(), config.clusterId(), resolved(), messageCodec, workers);
        RaftConfig raftConfig = RaftConfig.defaults(config.nodeId())
                .withTimings(config.electionTicks(), config.heartbeatTicks())
                .withBatching(64, Math.max(64 << 10, config.maxFrameBytes() / 4), 4096);
        NodeServer.Settings settings = new NodeServer.Settings(config.nodeId(), config.clusterId(), config.peers().keySet(),
                config.maxFrameBytes(), 4096, (int) config.idleTimeout().toSeconds());
        forwarder = new Forwarder(config.nodeId(), config.clusterId(), resolved(), workers, config.maxFrameBytes());
        KvService[] service = new KvService[1];
        server = new NodeServer(settings, messageCodec, transport,
                (request, forwarded) -> service[0] != null ? service[0].handle(request, forwarded)
                        : CompletableFuture.completedFuture(new Response.Failure(Response.Code.UNAVAILABLE, "the node is starting")));
        server.bind(boss, workers, new InetSocketAddress(config.host(), config.port()));
        RaftRuntime.Options options = new RaftRuntime.Options(raftConfig, config.tick(), 65536, System.nanoTime())
                .withSnapshots(config.snapshotEntries(), config.snapshotEntries() / 10);
        raft = RaftRuntime.start(options, new KvStateMachine(config.limits()), new KvCodec(), storage, transport);
        service[0] = new KvService(raft, config.limits(), forwarder, config.requestTimeout());
        log.info("node {} of cluster '{}' serving on {}:{}, peers {}, data in {}", config.nodeId(), config.clusterId(),
                config.host(), config.port(), describePeers(), config.dataDir());
    }

    private java.util.Map<Integer, InetSocketAddress> resolved() {
        java.util.Map<Integer, InetSocketAddress> out = new TreeMap<>();
        config.peers().forEach((id, a) -> out.put(id, new InetSocketAddress(a.getHostString(), a.getPort())));
        return out;
    }

    private String describePeers() {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(config.peers()).forEach((id, a) -> out.append(out.length() == 0 ? "" : ",")
                .append(id).append('=').append(a.getHostString()).append(':').append(a.getPort()));
        return out.toString();
    }

    /** Connections closed because they sent malformed or oversized input. */
    public long closedForBadInput() {
        return server.closedForBadInput();
    }

    /** This node's outbound peer links, for diagnostics. */
    public String describePeerLinks() {
        return transport == null ? "not started" : transport.describeLinks();
    }

    public RaftRuntime<KvCommand, Request.Get, Response> raft() {
        return raft;
    }

    /** Runs a node until SIGTERM or SIGINT, then shuts it down cleanly. */
    static int run(ServerConfig config) throws InterruptedException {
        FlotillaServer node;
        try {
            node = start(config);
        } catch (IOException | RuntimeException e) {
            System.err.println("flotilla-server: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "flotilla-shutdown"));
        node.stopped.await();
        return 0;
    }

    /** A leader first hands leadership over, then the node stops taking requests, flushes and exits. */
    @Override
    public void close() {
        stop(true);
    }

    /** Stops at once, as a crash would, without handing leadership over (for tests of failover). */
    void halt() {
        stop(false);
    }

    private synchronized void stop(boolean handOver) {
        if (stopped.getCount() == 0) {
            return;
        }
        if (raft != null) {
            log.info("node {} shutting down", config.nodeId());
            if (handOver) {
                raft.shutdown(Duration.ofSeconds(2));
            } else {
                raft.close();
            }
        }
        if (server != null) {
            server.close();
        }
        if (forwarder != null) {
            forwarder.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (storage != null) {
            storage.close();
        }
        boss.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        stopped.countDown();
    }
}
