package io.flotilla.server;

import io.flotilla.client.NettyIo;
import io.flotilla.client.Futures;
import io.flotilla.client.HostPort;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.NodeTls;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Membership;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Member;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.storage.DurableStorage;
import io.flotilla.core.storage.Identity;
import io.flotilla.core.storage.StorageException;
import io.flotilla.server.kv.KvCodec;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvStateMachine;
import io.flotilla.server.kv.SessionLimits;
import io.flotilla.server.http.HttpPort;
import io.flotilla.server.net.NodeServer;
import io.flotilla.server.net.PeerTransport;
import io.flotilla.server.net.ServerTls;
import io.flotilla.server.resp.RespNode;
import io.flotilla.server.resp.RespPort;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
    /**
     * The node's one event loop: the Raft node runs on it, and so does every connection (clients,
     * peers, relays, HTTP, Redis), so that a request or a peer's message reaches the node, and the
     * node's messages and answers reach the socket, without waking another thread. Fsyncs and
     * snapshot writes have threads of their own (RaftRuntime). Measured against two event loops
     * beside a node thread: fewer hand-offs, and more throughput on a small machine (docs/design.md).
     */
    private final EventLoopGroup loop;
    private DurableStorage storage;
    private PeerTransport transport;
    /** Volatile: the listener and the configuration follower read it from Netty threads, from before it is set. */
    private volatile RaftRuntime<KvCommand, Request.Read, Response> raft;
    private volatile KvStateMachine state;
    private Forwarder forwarder;
    private BackupStreams backups;
    /** Null for plaintext. */
    private ServerTls tls;
    private NodeServer server;
    /** Null when --http-port is 0. */
    private HttpPort http;
    /** Null when --resp-port is 0. */
    private RespPort resp;
    /** The cluster page and what it polls; null when --http-port is 0. */
    private ClusterPage clusterPage;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final StatusReporter reporter;
    private final RequestCounters requests = new RequestCounters();
    private final NodeMetrics metrics;

    private FlotillaServer(ServerConfig config, IntConsumer exit) {
        this.config = config;
        String threadName = "flotilla-node-" + config.nodeId();
        this.loop = NettyIo.group(1, new DefaultThreadFactory(threadName, true) {
            @Override
            protected Thread newThread(Runnable r, String name) {
                return super.newThread(r, threadName); // one thread: the name says whose
            }
        });
        this.exit = exit;
        this.reporter = new StatusReporter(config, requests, System::nanoTime);
        this.metrics = new NodeMetrics(config.nodeId(), config.clusterId(), StatusReporter.VERSION, () -> raft, () -> state,
                () -> server, () -> transport, () -> reporter.healthProblem(false));
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

    /** Synchronized with {@link #stop}: a signal while the node starts stops it once it has started. */
    private synchronized void open() throws IOException {
        if (config.admin().restore() != null) {
            Restore.seed(config, founders());
        }
        storage = DurableStorage.open(config.dataDir(), new Identity(config.clusterId(), config.nodeId()),
                DurableStorage.Options.defaults().withFsync(config.fsync()));
        boolean fresh = storage.isEmpty();
        foundsAfresh = fresh && config.join() == null;
        MessageCodec messageCodec = new MessageCodec(config.maxFrameBytes());
        tls = ServerTls.load(config.tls(), config.nodeId());
        transport = new PeerTransport(config.nodeId(), config.clusterId(), resolvedPeers(), messageCodec, loop, outboundTls());
        RaftConfig raftConfig = RaftConfig.defaults(config.nodeId())
                .withTimings(config.electionTicks(), config.heartbeatTicks())
                .withBatching(64, Math.max(64 << 10, config.maxFrameBytes() / 4), 4096);
        NodeServer.Settings settings = new NodeServer.Settings(config.nodeId(), config.clusterId(), this::peerRefusal,
                config.maxFrameBytes(), config.connections(), (int) config.idleTimeout().toSeconds(),
                config.limits().maxKeyBytes(), config.limits().maxValueBytes());
        forwarder = new Forwarder(config.nodeId(), config.clusterId(), this::addressOf, loop, config.maxFrameBytes(), outboundTls());
        KvService[] service = new KvService[1];
        NodeServer.RequestHandler requests = metrics.instrument(
                (request, forwarded) -> service[0] != null ? service[0].handle(request, forwarded)
                        : CompletableFuture.completedFuture(new Response.Failure(Response.Code.UNAVAILABLE, "the node is starting")));
        server = new NodeServer(settings, messageCodec, transport, requests, tls);
        server.bind(loop, new InetSocketAddress(config.host(), config.port()));
        if (config.admin().respPort() != 0) {
            RespNode node = new RespNode(requests, reporter::status, this::addressOf, config.admin().respPort() - config.port(),
                    config.admin().respRedirect(), config.requestTimeout());
            resp = new RespPort(node, config.connections(), config.maxFrameBytes(), tls);
            resp.bind(loop, new InetSocketAddress(config.host(), config.admin().respPort()));
        }
        if (config.admin().httpPort() != 0) {
            clusterPage = new ClusterPage(config.nodeId(), config.clusterId(), this::members, this::addressOf, reporter::status,
                    loop, config.maxFrameBytes(), outboundTls(), System::nanoTime);
            Map<String, HttpPort.Route> routes = new HashMap<>(new AdminRoutes(reporter, () -> server).routes());
            routes.putAll(clusterPage.routes());
            routes.put("/metrics", metrics::route);
            http = new HttpPort(routes, tls, HttpPort.Limits.DEFAULTS);
            http.bind(loop, new InetSocketAddress(config.host(), config.admin().httpPort()));
        }
        RaftRuntime.Options options = new RaftRuntime.Options(raftConfig, config.tick(), 65536, System.nanoTime())
                .withSnapshots(config.snapshotEntries(), config.snapshotEntries() / 10)
                .withMetrics(metrics)
                .withLoop(loop.next());
        if (config.join() == null) {
            // Only founders run the bootstrap check; a node without founders and without data waits to be added.
            options = options.withFounders(founders());
        }
        log.info("node {} of cluster '{}' serving on {}:{}{}{}, {}, data in {}", config.nodeId(), config.clusterId(),
                config.host(), config.port(), http == null ? "" : " (http" + (tls == null ? "" : "s") + "://" + config.host() + ":"
                        + config.admin().httpPort() + "/)", resp == null ? "" : " (redis: " + config.host() + ":" + config.admin().respPort()
                        + (config.admin().respRedirect() ? ", redirecting" : "") + ")", config.join() == null ? "peers " + describePeers() : "joining via " + describe(config.join()),
                config.dataDir());
        serving = true;
        if (config.join() != null && fresh) {
            RaftRuntime.Options joining = options;
            Thread confirm = new Thread(() -> joinOnceConfirmed(joining, service), "flotilla-join-" + config.nodeId());
            confirm.setDaemon(true);
            confirm.start();
            return;
        }
        startRaft(options, service);
        if (config.join() != null) {
            log.info("--join {} is ignored: node {} has data in {} and restarts from it", describe(config.join()), config.nodeId(),
                    config.dataDir());
        } else if (!fresh) {
            warnIfPeersDiffer();
        }
    }

    /** The founding configuration: the peer list, every member a voter at its address there. */
    private ClusterConfig founders() {
        Map<Integer, String> founders = new TreeMap<>();
        config.peers().forEach((id, a) -> founders.put(id, describe(a)));
        return ClusterConfig.ofVoters(founders);
    }

    /** Started with no data as a founder: the node asks the others whether the cluster exists. */
    private volatile boolean foundsAfresh;

    private NodeTls outboundTls() {
        return tls == null ? null : tls.outbound();
    }

    private synchronized void startRaft(RaftRuntime.Options options, KvService[] service) {
        if (stopped.getCount() == 0) {
            return; // closed while a joining node waited
        }
        state = new KvStateMachine();
        raft = RaftRuntime.start(options, state, new KvCodec(), storage, transport);
        // Off the dying node thread, which must finish failing its requests.
        raft.failure().thenAcceptAsync(this::failed, task -> new Thread(task, "flotilla-failed-" + config.nodeId()).start());
        raft.removed().thenAcceptAsync(this::removed, task -> new Thread(task, "flotilla-removed-" + config.nodeId()).start());
        reporter.attach(raft, state);
        backups = new BackupStreams(config.nodeId(), config.clusterId(), raft, storage::openSnapshotReader,
                Math.max(1, config.maxFrameBytes() - 64), BackupStreams.IDLE);
        loop.scheduleWithFixedDelay(backups::closeIdle, 5, 5, TimeUnit.SECONDS);
        service[0] = new KvService(raft, config.limits(), forwarder, config.requestTimeout(), reporter::status, requests, backups);
        followConfiguration();
        proposeSessionLimits();
    }

    /**
     * The session limits decide which writes are applied, so every node takes them from the log, not
     * from its own flags: a leader whose log says otherwise than its flags proposes its own, checked a
     * few times per heartbeat interval (off the node's thread; one proposal at a time). A leader just
     * elected may not have applied its whole log yet: it proposes again if a later entry differs.
     */
    private void proposeSessionLimits() {
        SessionLimits wanted = config.limits().sessions();
        long every = Math.max(10, config.tick().toMillis() * Math.max(1, config.heartbeatTicks() / 2));
        loop.scheduleWithFixedDelay(() -> {
            SessionLimits applied = state.sessionLimits();
            if (raft.status().role() != Role.LEADER || applied.equals(wanted) || !limitsProposal.isDone()) {
                return;
            }
            log.info("node {} leads with session limits {}; the log has {}: proposing its own", config.nodeId(), wanted, applied);
            // A proposal that never completes must not stop later ones: the timeout frees the slot.
            limitsProposal = raft.propose(new KvCommand.Limits(wanted))
                    .orTimeout(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /** The latest session-limits proposal; only touched by the task above. */
    private CompletableFuture<Response> limitsProposal = CompletableFuture.completedFuture(Response.OK);

    /** The key-value state machine, for tests that look at every replica's session table. */
    KvStateMachine stateMachine() {
        return state;
    }

    /**
     * The configuration decides which peers this node talks to. It changes on the node's thread,
     * which must not wait for sockets, so the edges follow it here, a few times per heartbeat
     * interval: a message to a member added meanwhile is dropped, and Raft resends it.
     */
    private void followConfiguration() {
        long every = Math.max(10, config.tick().toMillis() * Math.max(1, config.heartbeatTicks() / 2));
        loop.scheduleWithFixedDelay(() -> {
            ClusterConfig now = raft.status().members();
            if (now != followed && !now.equals(followed) && now != ClusterConfig.NONE) {
                followed = now;
                Map<Integer, InetSocketAddress> peers = new TreeMap<>();
                for (int id : now.members().keySet()) {
                    addressOf(id).ifPresent(a -> peers.put(id, a));
                }
                transport.setPeers(peers);
                forwarder.retain(now.members().keySet());
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /** Set once the node said it serves, so that it also says when it stops. */
    private volatile boolean serving;

    /** Set once a committed configuration removed this node, which then stops. */
    private volatile boolean leaving;

    /** The configuration the peer links last followed; NONE until the node has one. */
    private volatile ClusterConfig followed = ClusterConfig.NONE;

    /** Why a peer or relay hello from {@code id} is refused; null to accept it (NodeServer.Settings). */
    private String peerRefusal(int id) {
        RaftRuntime<?, ?, ?> r = raft;
        return r != null && r.status().members().removed().contains(id) ? "node " + id + " was removed from this cluster" : null;
    }

    /**
     * Where member {@code id} listens: its address in the configuration this node uses, else (before
     * the cluster is founded, or in a configuration written before members had addresses) the peer list.
     */
    Optional<InetSocketAddress> addressOf(int id) {
        ClusterConfig members = raft == null ? ClusterConfig.NONE : raft.status().members();
        if (members.removed().contains(id)) {
            return Optional.empty();
        }
        String address = members.member(id).map(Member::address).orElse("");
        if (!address.isEmpty()) {
            return Optional.of(resolved.computeIfAbsent(address, FlotillaServer::resolve));
        }
        InetSocketAddress peer = config.peers().get(id);
        return peer == null ? Optional.empty() : Optional.of(resolve(describe(peer)));
    }

    /** The configuration this node uses; NONE before it has one. */
    private ClusterConfig members() {
        RaftRuntime<?, ?, ?> r = raft;
        return r == null ? ClusterConfig.NONE : r.status().members();
    }

    /** Resolved addresses by "host:port", so a host name is looked up once, not on every reconnect. */
    private final Map<String, InetSocketAddress> resolved = new ConcurrentHashMap<>();

    private static InetSocketAddress resolve(String hostPort) {
        InetSocketAddress a = HostPort.parse(hostPort);
        return new InetSocketAddress(a.getHostString(), a.getPort());
    }

    /**
     * A blank node started with --join says how to add it, then takes no part (its Raft node does not
     * run) until the cluster's leader, asked through the join address, confirms that its id is
     * neither a voter nor removed. A voter's id would mean a member that lost its data, whose empty
     * log must never vote; a removed id is never used again. Without an answer (no leader, the join
     * address down) it keeps asking: failing closed is the safe side.
     */
    private void joinOnceConfirmed(RaftRuntime.Options options, KvService[] service) {
        String join = describe(config.join());
        int id = config.nodeId();
        log.info("node {} waits to be added to the cluster; to add it, run: bin/flotilla-client --cluster {} member add {} {}",
                id, join, id, config.advertised());
        for (int attempt = 0; stopped.getCount() > 0; attempt++) {
            Object answer;
            try {
                NodeConnection c = NodeConnection.open(loop, resolve(join), Hello.client(config.clusterId()),
                        config.maxFrameBytes(), 4, Duration.ofSeconds(2), outboundTls(), 0).get(3, TimeUnit.SECONDS);
                try {
                    answer = c.send(new Request.MemberList(), Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
                } finally {
                    c.close();
                }
            } catch (Exception e) {
                answer = rootMessage(e);
            }
            if (answer instanceof Response.Members m) {
                Membership members = m.membership();
                boolean removed = members.removed().contains(id);
                if (removed || members.member(id).map(x -> x.kind() == Member.Kind.VOTER).orElse(false)) {
                    failed(new NodeHaltedException("node " + id + (removed ? " was removed from this cluster, and an id is never used twice"
                            : " is a voter of this cluster, so this blank node would be taken for that member, which lost its data")
                            + ": start the new node under a new id" + (removed ? "" : " after `member remove " + id + "`")
                            + " (see \"Replacing a lost disk\" in the README)"));
                    return;
                }
                startRaft(options, service);
                log.info("{} answers: leader {}, members {}", join, members.leaderId(), describe(members));
                return;
            }
            if (attempt % 20 == 0) {
                log.info("node {} takes no part until the cluster's leader, asked through {}, confirms that id {} is neither a voter"
                        + " nor removed ({})", id, join, id, answer instanceof Response.Failure f ? f.message() : answer);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String describe(Membership members) {
        StringBuilder out = new StringBuilder();
        members.members().forEach(m -> out.append(out.length() == 0 ? "" : ", ").append(m.id())
                .append(m.kind() == Member.Kind.VOTER ? "" : " (" + m.kind().name().toLowerCase(java.util.Locale.ROOT) + ")"));
        return out.length() == 0 ? "(none)" : out.toString();
    }

    private static String rootMessage(Throwable error) {
        Throwable e = Futures.cause(error);
        while (e.getCause() != null && e.getMessage() == null) {
            e = e.getCause();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** The peer list founds a cluster; afterwards the log's configuration wins, and a different list is reported. */
    private void warnIfPeersDiffer() {
        ClusterConfig inLog = raft.status().members();
        if (inLog == ClusterConfig.NONE || inLog.members().isEmpty()) {
            return;
        }
        boolean differs = !inLog.members().keySet().equals(new TreeMap<>(config.peers()).keySet())
                || inLog.members().values().stream().anyMatch(m -> !m.address().isEmpty()
                        && !m.address().equalsIgnoreCase(describe(config.peers().get(m.id()))));
        if (differs) {
            StringBuilder logged = new StringBuilder();
            inLog.members().values().forEach(m -> logged.append(logged.length() == 0 ? "" : ",").append(m.id()).append('=')
                    .append(m.address().isEmpty() ? "?" : m.address())
                    .append(m.kind() == Member.Kind.VOTER ? "" : "(" + m.kind().name().toLowerCase(java.util.Locale.ROOT) + ")"));
            log.warn("the peer list {} differs from the configuration in the log {}; using the log's (the peer list only founds a cluster)",
                    describePeers(), logged);
        }
    }

    /** A committed configuration removed this node: one line, then a clean stop (the process exits with 0). */
    private void removed(long index) {
        log.info("node {} was removed from the cluster at index {} and stops", config.nodeId(), index);
        leaving = true; // that line is the last (bin/flotilla-cluster repeats a node's last line)
        close();
    }

    /** The node stopped for good: one line, then exit (in production the process halts here). */
    private void failed(Throwable error) {
        // A founder started blank finds, before founding anything, that the cluster exists: if the others were just
        // restored from a backup, this one was forgotten.
        RaftRuntime<?, ?, ?> r = raft;
        String hint = foundsAfresh && error instanceof NodeHaltedException && r != null && r.status().members().members().isEmpty()
                ? " If the other founders were just restored from a backup, start this one with the same --restore FILE." : "";
        log.error("node {} failed and exits with status {}: {}{} (data directory {})", config.nodeId(), EXIT_NODE_FAILED,
                RaftRuntime.describeFailure(error), hint, config.dataDir().toAbsolutePath());
        System.out.flush();
        exit.accept(EXIT_NODE_FAILED);
        halt(); // only reached when exit did not end the process: stop serving at least
    }

    /** The node's storage, for tests that break it underneath the running node. */
    DurableStorage storage() {
        return storage;
    }

    private Map<Integer, InetSocketAddress> resolvedPeers() {
        Map<Integer, InetSocketAddress> out = new TreeMap<>();
        config.peers().forEach((id, a) -> out.put(id, resolve(describe(a))));
        return out;
    }

    private static String describe(InetSocketAddress a) {
        return a == null ? "" : HostPort.format(a);
    }

    private String describePeers() {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(config.peers()).forEach((id, a) -> out.append(out.length() == 0 ? "" : ",")
                .append(id).append('=').append(HostPort.format(a)));
        return out.toString();
    }

    /** Waits until the node has stopped (closed, halted, or removed from the cluster); true if it has. */
    boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Connections closed because they sent malformed or oversized input. */
    public long closedForBadInput() {
        return server.closedForBadInput();
    }

    /** The node's port, for its connection counters (tests and diagnostics). */
    NodeServer nodeServer() {
        return server;
    }

    /** The HTTP port actually bound ; 0 when there is none. */
    int httpPort() {
        return http == null ? 0 : http.port();
    }

    /** The Redis port actually bound; 0 when there is none. */
    int respPort() {
        return resp == null ? 0 : resp.port();
    }

    /** This node's outbound peer links, for diagnostics. */
    public String describePeerLinks() {
        return transport == null ? "not started" : transport.describeLinks();
    }

    public RaftRuntime<KvCommand, Request.Read, Response> raft() {
        return raft;
    }

    /** Runs a node until SIGTERM or SIGINT, then shuts it down cleanly. */
    static int run(ServerConfig config) throws InterruptedException {
        FlotillaServer node = new FlotillaServer(config, status -> Runtime.getRuntime().halt(status));
        // Before the node says it serves: a signal right after that line must still stop it cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "flotilla-shutdown"));
        try {
            node.open();
        } catch (IOException | RuntimeException e) {
            node.close();
            System.err.println("flotilla-server: " + e.getMessage());
            return 1;
        }
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
        if (serving && !leaving) {
            log.info("node {} shutting down", config.nodeId());
        }
        if (raft != null) {
            if (handOver) {
                raft.shutdown(Duration.ofSeconds(2));
            } else {
                raft.close();
            }
        }
        if (resp != null) {
            resp.close();
        }
        if (http != null) {
            http.close();
        }
        if (clusterPage != null) {
            clusterPage.close();
        }
        if (server != null) {
            server.close();
        }
        if (forwarder != null) {
            forwarder.close();
        }
        if (backups != null) {
            backups.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (storage != null) {
            storage.close();
        }
        loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        stopped.countDown();
    }
}
