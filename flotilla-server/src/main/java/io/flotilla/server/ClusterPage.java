package io.flotilla.server;

import io.flotilla.client.Futures;
import io.flotilla.client.HostPort;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.NodeTls;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Member;
import io.flotilla.server.http.HttpAnswer;
import io.flotilla.server.http.HttpPort;
import io.flotilla.server.net.NodeHello;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The live cluster page: {@code GET /} serves one self-contained HTML page (a resource, nothing
 * fetched from elsewhere), which polls {@code GET /cluster}: this node's status and every other
 * member's, asked by this node over the native protocol (a STATUS request on one connection per
 * member, kept between polls).
 *
 * <p>Bounded work: a member that does not answer within {@link #TIMEOUT} appears with an error and
 * never holds the answer up, and every poll that arrives while a gather is running, or within
 * {@link #FRESH} of the last one, shares that gather, so any number of open pages costs the members
 * at most one STATUS request each per {@link #FRESH}.
 */
final class ClusterPage implements AutoCloseable {
    /** How long a member has to answer (connecting included) before it is shown as unreachable. */
    static final Duration TIMEOUT = Duration.ofMillis(500);
    /** How long a gather's answer is handed to further polls. */
    static final Duration FRESH = Duration.ofMillis(200);

    private static final byte[] PAGE = load("cluster-page.html");

    private final int selfId;
    private final String clusterId;
    private final Supplier<ClusterConfig> members;
    private final IntFunction<Optional<InetSocketAddress>> addresses;
    private final Supplier<NodeStatus> self;
    private final EventLoopGroup group;
    private final int maxFrameBytes;
    /** Null for plaintext; else a connection opens only to a node presenting that member's certificate. */
    private final NodeTls tls;
    private final LongSupplier nanoClock;
    private final Map<Integer, CompletableFuture<NodeConnection>> connections = new ConcurrentHashMap<>();
    private final AtomicLong gathers = new AtomicLong();

    // Guarded by this:
    private CompletableFuture<byte[]> latest;
    private long latestDoneNanos;
    private boolean closed;

    ClusterPage(int selfId, String clusterId, Supplier<ClusterConfig> members, IntFunction<Optional<InetSocketAddress>> addresses,
                Supplier<NodeStatus> self, EventLoopGroup group, int maxFrameBytes, NodeTls tls, LongSupplier nanoClock) {
        this.selfId = selfId;
        this.clusterId = clusterId;
        this.members = members;
        this.addresses = addresses;
        this.self = self;
        this.group = group;
        this.maxFrameBytes = maxFrameBytes;
        this.tls = tls;
        this.nanoClock = nanoClock;
    }

    /** {@code /} (the page) and {@code /cluster} (what it polls). */
    Map<String, HttpPort.Route> routes() {
        return Map.of("/", this::page, "/cluster", this::cluster);
    }

    private CompletableFuture<HttpAnswer> page(QueryStringDecoder request) {
        return CompletableFuture.completedFuture(new HttpAnswer(200, "text/html; charset=utf-8", PAGE));
    }

    private CompletableFuture<HttpAnswer> cluster(QueryStringDecoder request) {
        return json().thenApply(body -> HttpAnswer.json(200, body));
    }

    /** The cluster's status as JSON, from the gather running now or one that ended within {@link #FRESH}. */
    synchronized CompletableFuture<byte[]> json() {
        long now = nanoClock.getAsLong();
        if (latest != null && (!latest.isDone() || now - latestDoneNanos < FRESH.toNanos())) {
            return latest;
        }
        CompletableFuture<byte[]> gather = gather().thenApply(AdminRoutes::bytes);
        latest = gather;
        gather.whenComplete((body, error) -> {
            synchronized (this) {
                latestDoneNanos = nanoClock.getAsLong();
            }
        });
        return gather;
    }

    /** Gathers started (not shared), for tests of the coalescing. */
    long gathers() {
        return gathers.get();
    }

    /**
     * Every member of the configuration this node uses (and this node, if it is not one), by id: its status as
     * {@link AdminRoutes#describe} has it, plus {@code address}, {@code kind} and {@code reachable}
     * (with an {@code error} when false). Each member's {@code lag} is measured against the commit
     * index of the leader that answered in this gather (the highest-term LEADER), else against the
     * leader's commit index as the member knows it.
     */
    private CompletableFuture<Map<String, Object>> gather() {
        gathers.incrementAndGet();
        ClusterConfig config = members.get();
        retain(config);
        Map<Integer, CompletableFuture<Map<String, Object>>> polls = new TreeMap<>();
        Member me = config.member(selfId).orElse(null);
        polls.put(selfId, CompletableFuture.completedFuture(answered(selfId, me, address(selfId), self.get())));
        for (Member m : config.members().values()) {
            if (m.id() != selfId) {
                polls.put(m.id(), poll(m));
            }
        }
        return CompletableFuture.allOf(polls.values().toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Map<String, Object>> out = new ArrayList<>();
            polls.values().forEach(p -> out.add(p.join()));
            withLagBehindLeader(out);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("via", selfId);
            body.put("clusterId", clusterId);
            body.put("timeMillis", System.currentTimeMillis());
            body.put("members", out);
            return body;
        });
    }

    private static void withLagBehindLeader(List<Map<String, Object>> members) {
        Map<String, Object> leader = null;
        for (Map<String, Object> m : members) {
            if ("LEADER".equals(m.get("role")) && (leader == null || (long) m.get("term") > (long) leader.get("term"))) {
                leader = m;
            }
        }
        if (leader == null) {
            return;
        }
        long commit = (long) leader.get("commitIndex");
        for (Map<String, Object> m : members) {
            if (Boolean.TRUE.equals(m.get("reachable"))) {
                m.put("lag", Math.max(0, commit - (long) m.get("appliedIndex")));
            }
        }
    }

    /** One member's status, or why it could not be had within {@link #TIMEOUT}; never fails. */
    private CompletableFuture<Map<String, Object>> poll(Member m) {
        Optional<InetSocketAddress> address = addresses.apply(m.id());
        if (address.isEmpty()) {
            return CompletableFuture.completedFuture(unreachable(m, "", "its address is not in this node's configuration"));
        }
        String where = HostPort.format(address.get());
        return connection(m.id(), address.get())
                .thenCompose(c -> c.send(new Request.StatusQuery(), TIMEOUT))
                .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .handle((response, error) -> {
                    if (error != null) {
                        return unreachable(m, where, describe(error));
                    }
                    if (response instanceof Response.Status s && s.status().nodeId() == m.id()) {
                        return answered(m.id(), m, where, s.status());
                    }
                    return unreachable(m, where, response instanceof Response.Status s
                            ? "node " + s.status().nodeId() + " answered at node " + m.id() + "'s address"
                            : response instanceof Response.Failure f ? f.message() : "unexpected answer " + response);
                });
    }

    private Map<String, Object> answered(int id, Member member, String address, NodeStatus status) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("address", address);
        out.put("kind", kind(member));
        out.put("self", id == selfId);
        out.put("reachable", true);
        out.putAll(AdminRoutes.describe(status));
        return out;
    }

    private Map<String, Object> unreachable(Member member, String address, String error) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", member.id());
        out.put("address", address);
        out.put("kind", kind(member));
        out.put("self", false);
        out.put("reachable", false);
        out.put("error", error);
        return out;
    }

    private static String kind(Member member) {
        return member == null ? "none" : member.kind().name().toLowerCase(Locale.ROOT);
    }

    private String address(int id) {
        return addresses.apply(id).map(HostPort::format).orElse("");
    }

    private static String describe(Throwable error) {
        Throwable e = Futures.cause(error);
        if (e instanceof TimeoutException) {
            return "no answer within " + TIMEOUT.toMillis() + " ms";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** The open (or opening) connection to member {@code id}; a new one if it broke or the address changed. */
    private CompletableFuture<NodeConnection> connection(int id, InetSocketAddress address) {
        CompletableFuture<NodeConnection> existing = connections.get(id);
        if (existing != null && (!existing.isDone()
                || (!existing.isCompletedExceptionally() && existing.join().isOpen() && existing.join().address().equals(address)))) {
            return existing;
        }
        if (existing != null) {
            existing.thenAccept(NodeConnection::close);
        }
        // A relay's hello (never refused for capacity, authenticated as this node under TLS) in the
        // newest version, whose status carries the details.
        CompletableFuture<NodeConnection> fresh = NodeConnection.open(group, address,
                NodeHello.forward(WireCodec.VERSION, selfId, clusterId), maxFrameBytes, 16, TIMEOUT, tls, id);
        connections.put(id, fresh);
        synchronized (this) {
            if (closed) {
                fresh.thenAccept(NodeConnection::close);
            }
        }
        return fresh;
    }

    /** Closes the connections to nodes that are no longer members. */
    private void retain(ClusterConfig config) {
        connections.entrySet().removeIf(e -> {
            if (config.members().containsKey(e.getKey())) {
                return false;
            }
            e.getValue().thenAccept(NodeConnection::close);
            return true;
        });
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        connections.values().forEach(f -> f.thenAccept(NodeConnection::close));
    }

    private static byte[] load(String name) {
        try (InputStream in = ClusterPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the cluster page " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
