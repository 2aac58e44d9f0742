package io.flotilla.server;

import io.flotilla.client.HostPort;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import io.flotilla.server.kv.KvLimits;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Real nodes on real loopback sockets in this JVM, each with its own data directory: the one fixture
 * for in-JVM clusters (the client's tests against real nodes, io.flotilla.client.it, use it too).
 * Addresses are unresolved, as a node reads them from {@code --peers} and a client from {@code --cluster}.
 */
public final class TestCluster implements AutoCloseable {
    public final Map<Integer, InetSocketAddress> addresses = new TreeMap<>();
    final Map<Integer, FlotillaServer> nodes = new TreeMap<>();
    private final Path dataRoot;
    private final EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final long clientId = System.nanoTime();
    private long seq;

    public TestCluster(Path dataRoot, int size) {
        this.dataRoot = dataRoot;
        for (int id = 1; id <= size; id++) {
            addresses.put(id, InetSocketAddress.createUnresolved("127.0.0.1", TestPorts.next()));
        }
    }


    /** Entries between snapshots; small in tests so that compaction and InstallSnapshot happen. */
    long snapshotEntries = 100_000;
    /** Per node, key-value and session limits other than the defaults (its flags). */
    final Map<Integer, KvLimits> limits = new TreeMap<>();
    /** Per node, an election timeout other than 20 ticks (also how long a leader lasts without a quorum). */
    final Map<Integer, Integer> electionTicks = new TreeMap<>();

    /** With TLS: the files bin/flotilla-certs wrote (node-<id>.pem, ca.pem, client.pem ...); null for plaintext. */
    Path certs;
    /** With TLS: clients must present a certificate (--tls-client-auth). */
    boolean clientAuth;

    /** Per node, its HTTP port (--http-port); nodes have none unless a test calls {@link #withHttp}. */
    final Map<Integer, Integer> httpPorts = new TreeMap<>();

    /** Gives every founder an HTTP port of its own, kept across restarts. */
    TestCluster withHttp() {
        addresses.keySet().forEach(id -> httpPorts.put(id, TestPorts.next()));
        return this;
    }

    /** Node {@code id}'s HTTP port (after {@link #withHttp}). */
    int httpPort(int id) {
        return httpPorts.get(id);
    }

    /** Per node, its Redis port (--resp-port); nodes have none unless a test calls {@link #withResp}. */
    final Map<Integer, Integer> respPorts = new TreeMap<>();
    /** With {@link #withResp}: followers answer -MOVED (--resp-redirect). */
    boolean respRedirect;

    /**
     * Gives every founder a Redis port, each at the same offset from its native port (as
     * bin/flotilla-cluster --resp does): a follower's -MOVED names the leader's port plus that offset.
     */
    TestCluster withResp() {
        // Any offset that keeps every node's Redis port in the range TestPorts hands out (>= 10,000)
        // will do; pick them at random from exactly those, so nodes far apart still find one.
        int lowest = addresses.values().stream().mapToInt(InetSocketAddress::getPort).min().orElseThrow();
        int highest = addresses.values().stream().mapToInt(InetSocketAddress::getPort).max().orElseThrow();
        int from = 10_000 - lowest;
        int to = 65_535 - highest;
        for (int attempt = 0; attempt < 1_000 && from <= to; attempt++) {
            int offset = java.util.concurrent.ThreadLocalRandom.current().nextInt(from, to + 1);
            if (offset == 0) {
                continue;
            }
            Map<Integer, Integer> ports = new TreeMap<>();
            for (int id : addresses.keySet()) {
                int port = addresses.get(id).getPort() + offset;
                if (!TestPorts.claim(port)) {
                    break;
                }
                ports.put(id, port);
            }
            if (ports.size() == addresses.size()) {
                respPorts.putAll(ports);
                return this;
            }
        }
        throw new IllegalStateException("found no offset at which every node's Redis port is free (native ports "
                + lowest + "-" + highest + ")");
    }

    /** Node {@code id}'s Redis port (after {@link #withResp}). */
    int respPort(int id) {
        return respPorts.get(id);
    }

    ServerConfig config(int id) {
        ServerConfig config = config(id, addresses);
        if (respPorts.containsKey(id)) {
            config = config.with(config.admin().withResp(respPorts.get(id), respRedirect));
        }
        return httpPorts.containsKey(id) ? config.with(config.admin().withHttpPort(httpPorts.get(id))) : config;
    }

    ServerConfig withTls(int id, ServerConfig config) {
        return certs == null ? config : config.with(new io.flotilla.server.net.TlsConfig(certs.resolve("node-" + id + ".pem"),
                certs.resolve("node-" + id + ".key"), certs.resolve("ca.pem"), clientAuth));
    }

    /** A client's TLS: the CA and the client certificate; null for plaintext. */
    io.flotilla.client.NodeTls clientTls() {
        return certs == null ? null
                : io.flotilla.client.NodeTls.client(certs.resolve("ca.pem"), certs.resolve("client.pem"), certs.resolve("client.key"));
    }

    /**
     * Node {@code id} founding a cluster of {@code peers} (its own port is the one they name, or a
     * joiner's) with this cluster's settings: 10 ms ticks, heartbeats every 5, no fsync.
     */
    ServerConfig config(int id, Map<Integer, InetSocketAddress> peers) {
        int port = (peers.containsKey(id) ? peers.get(id) : joiners.get(id)).getPort();
        return withTls(id, new ServerConfig(id, "127.0.0.1", port, peers, "test", dataRoot.resolve("node-" + id),
                Duration.ofMillis(RaftRuntime.Options.DEFAULT_TICK_MILLIS), electionTicks.getOrDefault(id, RaftConfig.DEFAULT_ELECTION_TICKS),
                RaftConfig.DEFAULT_HEARTBEAT_TICKS, limits.getOrDefault(id, KvLimits.DEFAULTS), 4 << 20, Duration.ofSeconds(5),
                Duration.ofSeconds(1), snapshotEntries, false));
    }

    public TestCluster startAll() throws IOException {
        for (int id : addresses.keySet()) {
            start(id);
        }
        return this;
    }

    void start(int id) throws IOException {
        startWith(id, config(id));
    }

    /** Nodes that join the cluster after it was founded, by id: their own addresses. */
    final Map<Integer, InetSocketAddress> joiners = new TreeMap<>();
    /** Each node's exit status once it failed (the production path halts the JVM instead). */
    final Map<Integer, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();

    /** A node that joins through node 1 (bin/flotilla-server --id ID --port P --join <node 1>), on a port of its own. */
    ServerConfig joinConfig(int id) {
        InetSocketAddress self = joiners.computeIfAbsent(id, k -> InetSocketAddress.createUnresolved("127.0.0.1", TestPorts.next()));
        return config(id, Map.of(id, self)).joining(addresses.values().iterator().next());
    }

    void startWith(int id, ServerConfig config) throws IOException {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        exits.put(id, exit);
        nodes.put(id, FlotillaServer.start(config, exit::complete));
    }

    /** "127.0.0.1:port" of a founder or a joiner. */
    String address(int id) {
        return HostPort.format(addresses.containsKey(id) ? addresses.get(id) : joiners.get(id));
    }

    /** The founders' addresses, "host:port,...", for a client. */
    public String clusterAddresses() {
        StringBuilder out = new StringBuilder();
        addresses.keySet().forEach(id -> out.append(out.length() == 0 ? "" : ",").append(address(id)));
        return out.toString();
    }

    void halt(int id) {
        nodes.remove(id).halt();
    }

    /** Stops node {@code id} as an operator would (it hands over leadership if it leads). */
    public void stop(int id) {
        nodes.remove(id).close();
    }

    /** The leader every running node follows, once there is one (up to {@link Poll#PATIENCE}). */
    public int awaitLeader() {
        int[] leader = new int[1];
        Poll.until("a leader that every running node follows", () -> {
            leader[0] = nodes.entrySet().stream().filter(e -> e.getValue().raft().status().role() == Role.LEADER)
                    .mapToInt(Map.Entry::getKey).findFirst().orElse(0);
            return leader[0] != 0 && nodes.values().stream().allMatch(n -> n.raft().status().leader() == leader[0]);
        }, this::statuses);
        return leader[0];
    }

    /** Every running node's Raft status, for failure messages. */
    String statuses() {
        StringBuilder out = new StringBuilder();
        nodes.forEach((id, n) -> out.append("\n  node ").append(id).append(": ").append(n.raft().status())
                .append("\n    links: ").append(n.describePeerLinks()).append("; inbox drops ").append(n.raft().droppedMessages()));
        return out.toString();
    }

    /** A connection of protocol version 1, which every node speaks. */
    NodeConnection connect(int id) throws Exception {
        return connect(id, new Hello(1, ""));
    }

    NodeConnection connect(int id, Hello hello) throws Exception {
        return NodeConnection.open(clientGroup, addresses.containsKey(id) ? addresses.get(id) : joiners.get(id), hello, 4 << 20, 1024,
                Duration.ofSeconds(2), clientTls(), 0).get(5, TimeUnit.SECONDS);
    }

    /** A fresh session number for each write, acknowledging all earlier ones. */
    Session nextSession() {
        seq++;
        return new Session(clientId, seq, seq);
    }

    static Response call(NodeConnection c, Request r) throws Exception {
        return c.send(r, Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
    }

    Response set(NodeConnection c, String key, String value) throws Exception {
        return call(c, new Request.Set(nextSession(), Bytes.utf8(key), Bytes.utf8(value)));
    }

    static Response get(NodeConnection c, String key) throws Exception {
        return call(c, new Request.Get(Bytes.utf8(key), false));
    }

    @Override
    public void close() {
        nodes.values().forEach(FlotillaServer::halt);
        nodes.clear();
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
