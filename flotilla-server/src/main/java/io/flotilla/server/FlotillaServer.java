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
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running node: storage, Raft runtime, peer transport and the listening port, stopped in reverse.
 *
 * <p>Fail-stop: if the node fails (a storage error such as a failed fsync, or any unexpected error on
 * its thread), the process logs one line and exits with {@link #EXIT_NODE_FAILED} at once, without
 * running shutdown hooks: a node that cannot trust its disk must not keep its port open and answer as
 * a zombie. A supervisor restarts it, and it recovers from what reached the disk.
 */
public final class FlotillaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FlotillaServer.class);
    /** The process's exit status after the node failed while running. */
    public static final int EXIT_NODE_FAILED = 70;

    private final ServerConfig config;
    /** What a node failure does; halts the process except in tests. */
    private final IntConsumer exit;
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private DurableStorage storage;
    private PeerTransport transport;
    private RaftRuntime<KvCommand, Request.Get, Response> raft;
    private Forwarder forwarder;
    private NodeServer server;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private FlotillaServer(ServerConfig config, IntConsumer exit) {
        this.config = config;
        this.exit = exit;
    }

    /**
     * Starts a node; any problem stops it with a one-line message (an {@link IOException} or
     * {@link StorageException}). If the node fails later, the process halts ({@link #EXIT_NODE_FAILED}).
     */
    public static FlotillaServer start(ServerConfig config) throws IOException {
        return start(config, status -> Runtime.getRuntime().halt(status));
    }

    /**
     * As {@link #start(ServerConfig)}, but a node failure calls {@code exit} (on a thread of its own)
     * instead of halting the process; the node then stops serving. For tests and embedders.
     */
    static FlotillaServer start(ServerConfig config, IntConsumer exit) throws IOException {
        FlotillaServer node = new FlotillaServer(config, exit);
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
        MessageCodec messageCodec = new MessageCodec(config.maxFrameBytes());
        transport = new PeerTransport(config.nodeId(), config.clusterId(), resolved(), messageCodec, workers);
        RaftConfig raftConfig = RaftConfig.defaults(config.nodeId())
                .withTimings(config.electionTicks(), config.heartbeatTicks())
                .withBatching(64, Math.max(64 << 10, config.maxFrameBytes() / 4), 4096);
        NodeServer.Settings settings = new NodeServer.Settings(config.nodeId(), config.clusterId(), config.peers().keySet(),
                config.maxFrameBytes(), 4096, (int) config.idleTimeout().toSeconds(),
                config.limits().maxKeyBytes(), config.limits().maxValueBytes());
        forwarder = new Forwarder(config.nodeId(), config.clusterId(), resolved(), workers, config.maxFrameBytes());
        KvService[] service = new KvService[1];
        server = new NodeServer(settings, messageCodec, transport,
                (request, forwarded) -> service[0] != null ? service[0].handle(request, forwarded)
                        : CompletableFuture.completedFuture(new Response.Failure(Response.Code.UNAVAILABLE, "the node is starting")));
        server.bind(boss, workers, new InetSocketAddress(config.host(), config.port()));
        RaftRuntime.Options options = new RaftRuntime.Options(raftConfig, config.tick(), 65536, System.nanoTime())
                .withSnapshots(config.snapshotEntries(), config.snapshotEntries() / 10)
                .withFounders(new ClusterConfig(config.peers().keySet()));
        raft = RaftRuntime.start(options, new KvStateMachine(config.limits()), new KvCodec(), storage, transport);
        // Off the dying node thread, which must finish failing its requests.
        raft.failure().thenAcceptAsync(this::failed, task -> new Thread(task, "flotilla-failed-" + config.nodeId()).start());
        service[0] = new KvService(raft, config.limits(), forwarder, config.requestTimeout());
        log.info("node {} of cluster '{}' serving on {}:{}, peers {}, data in {}", config.nodeId(), config.clusterId(),
                config.host(), config.port(), describePeers(), config.dataDir());
    }

    /** The node stopped for good: one line, then exit (in production the process halts here). */
    private void failed(Throwable error) {
        log.error("node {} failed and exits with status {}: {} (data directory {})", config.nodeId(), EXIT_NODE_FAILED,
                RaftRuntime.describeFailure(error), config.dataDir().toAbsolutePath());
        System.out.flush();
        exit.accept(EXIT_NODE_FAILED);
        halt(); // only reached when exit did not end the process: stop serving at least
    }

    /** The node's storage, for tests that break it underneath the running node. */
    DurableStorage storage() {
        return storage;
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
