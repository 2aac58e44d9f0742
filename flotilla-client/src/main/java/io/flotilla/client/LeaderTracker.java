package io.flotilla.client;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Which node to send requests to. The client remembers the leader once found; when it is unknown
 * (at first, or after the leader failed, stepped down or redirected elsewhere), a discovery asks
 * every known node for its status at once and takes the first that says it leads. While requests
 * flow, the route is re-checked every {@link ClientOptions#leaderCheckInterval()}, so a leader that
 * quietly stepped down (its followers forward requests, so nothing fails) is noticed too.
 *
 * <p>A follower forwards requests to the leader itself, so when no node that answers leads (an
 * election is running, or the leader is unreachable from this client), requests go to one that
 * answered: it relays them, or answers NO_LEADER until a leader is elected.
 */
final class LeaderTracker {
    private static final Request.StatusQuery STATUS = new Request.StatusQuery();

    /** Where requests go: the leader, or (if the leader cannot be reached directly) a node that relays to it. */
    private record Route(InetSocketAddress node, boolean leads) {
    }

    private final Connections connections;
    private final List<InetSocketAddress> members;
    private final Duration checkInterval;
    private final AtomicReference<Route> route = new AtomicReference<>();
    private volatile long nextCheckNanos;
    private final AtomicBoolean checking = new AtomicBoolean();
    private CompletableFuture<InetSocketAddress> discovery; // guarded by this
    private final Map<InetSocketAddress, CompletableFuture<NodeStatus>> probes = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, String> lastHeard = new ConcurrentHashMap<>();

    /** The least a discovery waits for silent nodes once another answered without leading. */
    static final Duration MIN_GRACE = Duration.ofMillis(50);

    LeaderTracker(Connections connections, List<InetSocketAddress> seeds, Duration checkInterval) {
        this.connections = connections;
        this.members = new CopyOnWriteArrayList<>(seeds);
        this.checkInterval = checkInterval;
    }

    /** The node believed to lead, if one is known. */
    Optional<InetSocketAddress> leader() {
        Route r = route.get();
        return r != null && r.leads() ? Optional.of(r.node()) : Optional.empty();
    }

    /** Every node known: the configured ones, then any learned from redirects. */
    List<InetSocketAddress> members() {
        return List.copyOf(members);
    }

    /**
     * Where to send the next request: the leader if known, else the outcome of a discovery (the
     * leader, or some node that answered and will relay). Fails with an {@link IOException} naming
     * every node's problem if no node answered within {@code timeout}.
     */
    CompletableFuture<InetSocketAddress> target(Duration timeout) {
        Route known = route.get();
        if (known != null) {
            checkLater(known, timeout);
            return CompletableFuture.completedFuture(known.node());
        }
        synchronized (this) {
            if (discovery == null || discovery.isDone()) {
                discovery = discover(timeout);
            }
            return discovery;
        }
    }

    /** Requests to {@code node} failed (lost connection, timeout, no leader there): find the leader again. */
    void suspect(InetSocketAddress node) {
        Route r = route.get();
        if (r != null && r.node().equals(node)) {
            route.compareAndSet(r, null);
        }
    }

    /** A node said another one leads; an empty address falls back to what the client knows of {@code leaderId}. */
    void redirect(InetSocketAddress from, Response.NotLeader notLeader) {
        Optional<InetSocketAddress> to = parse(notLeader.leaderAddress())
                .or(() -> notLeader.leaderId() == 0 ? Optional.empty() : connections.addressOf(notLeader.leaderId()));
        if (to.isPresent() && !to.get().equals(from)) {
            InetSocketAddress address = to.get();
            if (!members.contains(address)) {
                members.add(address);
            }
            use(new Route(address, true));
        } else {
            suspect(from);
        }
    }

    /**
     * A relay is chosen only while no node leads, so it is checked at its first use: by then the
     * election it waited for is usually over and the leader can be used directly.
     */
    private void use(Route r) {
        route.set(r);
        nextCheckNanos = System.nanoTime() + (r.leads() ? checkInterval.toNanos() : 0);
    }

    private Optional<InetSocketAddress> parse(String hostPort) {
        if (hostPort.isEmpty()) {
            return Optional.empty();
        }
        try {
            InetSocketAddress parsed = ClientOptions.parseCluster(hostPort).get(0);
            // Prefer the configured spelling of the same node, so one node has one connection.
            return Optional.of(members.stream().filter(parsed::equals).findFirst().orElse(parsed));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Asks every node at once; completes with the first that leads. If none that answered leads, it
     * waits for the others only as long again as the first answer took (at least {@link #MIN_GRACE}),
     * then settles for a relay: a paused node, whose connection is open but which never answers, must
     * not hold up every poll through an election for a whole timeout.
     */
    private CompletableFuture<InetSocketAddress> discover(Duration timeout) {
        long start = System.nanoTime();
        List<InetSocketAddress> nodes = List.copyOf(members);
        CompletableFuture<InetSocketAddress> found = new CompletableFuture<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        List<InetSocketAddress> answered = new CopyOnWriteArrayList<>();
        AtomicInteger remaining = new AtomicInteger(nodes.size());
        AtomicBoolean waiting = new AtomicBoolean();
        Runnable settle = () -> {
            // No node that answered leads (an election, or the leader is unreachable from here): use one
            // that answered, in list order; it relays requests, or says there is no leader (and the call polls).
            InetSocketAddress relay = nodes.stream().filter(answered::contains).findFirst().orElseThrow();
            if (found.complete(relay)) {
                use(new Route(relay, false));
            }
        };
        for (InetSocketAddress node : nodes) {
            probe(node, timeout).whenComplete((status, error) -> {
                if (error != null) {
                    problems.add(HostPort.format(node) + " (" + reason(error) + ")");
                } else {
                    answered.add(node);
                    if ("LEADER".equals(status.role()) && (found.complete(node) || !leader().isPresent())) {
                        use(new Route(node, true)); // also when it answers after a relay was settled for
                    }
                }
                if (remaining.decrementAndGet() == 0) {
                    if (answered.isEmpty()) {
                        List<String> inOrder = new ArrayList<>(problems);
                        inOrder.sort(null);
                        found.completeExceptionally(new IOException(String.join(", ", inOrder)));
                    } else {
                        settle.run();
                    }
                } else if (error == null && !found.isDone() && waiting.compareAndSet(false, true)) {
                    long grace = Math.max(MIN_GRACE.toNanos(), System.nanoTime() - start);
                    connections.group().schedule(settle, grace, TimeUnit.NANOSECONDS);
                }
            });
        }
        return found;
    }

    /**
     * Every so often, checks in the background that the route is still the best one: that the leader
     * still leads, or that the leader a relaying node names can now be reached directly.
     */
    private void checkLater(Route current, Duration timeout) {
        if (System.nanoTime() - nextCheckNanos < 0 || !checking.compareAndSet(false, true)) {
            return;
        }
        probe(current.node(), timeout).thenCompose(status -> {
            if ("LEADER".equals(status.role())) {
                route.compareAndSet(current, new Route(current.node(), true));
                return CompletableFuture.completedFuture(null);
            }
            Optional<InetSocketAddress> named = status.leaderId() == 0 ? Optional.empty() : connections.addressOf(status.leaderId());
            if (named.isEmpty() || named.get().equals(current.node())) {
                suspect(current.node()); // it knows no leader: find one afresh on the next call
                return CompletableFuture.completedFuture(null);
            }
            // It follows a leader the client has seen: go there directly if it answers as the leader.
            return probe(named.get(), timeout).handle((leaderStatus, error) -> {
                Route next = error == null && "LEADER".equals(leaderStatus.role())
                        ? new Route(named.get(), true) : new Route(current.node(), false);
                route.compareAndSet(current, next);
                return null;
            });
        }).whenComplete((done, error) -> {
            if (error != null) {
                suspect(current.node());
            }
            nextCheckNanos = System.nanoTime() + checkInterval.toNanos();
            checking.set(false);
        });
    }

    /**
     * One node's status, or a failure naming why it did not answer. A node that has not answered the
     * previous query yet is not asked again: the caller shares that query.
     */
    CompletableFuture<NodeStatus> probe(InetSocketAddress node, Duration timeout) {
        CompletableFuture<NodeStatus> inFlight = probes.get(node);
        if (inFlight != null) {
            return inFlight;
        }
        CompletableFuture<NodeStatus> fresh = connections.get(node)
                .thenCompose(c -> c.send(STATUS, timeout))
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(r -> {
                    if (r instanceof Response.Status s) {
                        return s.status();
                    }
                    throw new CompletionException(new IOException("answered a status query with " + r));
                });
        probes.put(node, fresh);
        fresh.whenComplete((status, error) -> {
            probes.remove(node, fresh);
            lastHeard.put(node, error != null ? reason(error) : status.role()
                    + (status.leaderId() == 0 ? ", knows no leader" : ", names node " + status.leaderId() + " as leader"));
        });
        return fresh;
    }

    /** What {@code node} last said to a status query, "no answer yet" while one is waiting; empty if never asked. */
    Optional<String> lastHeard(InetSocketAddress node) {
        String heard = lastHeard.get(node);
        return heard == null && probes.containsKey(node) ? Optional.of("no answer yet") : Optional.ofNullable(heard);
    }

    /** A short reason for a failed attempt or probe, e.g. "connection refused" or "no answer within 3000 ms". */
    static String reason(Throwable error) {
        Throwable e = Futures.cause(error);
        if (e instanceof java.util.concurrent.TimeoutException) {
            return "no answer in time";
        }
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        String lower = message.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("connection refused")) {
            return "connection refused";
        }
        if (lower.contains("connection timed out")) {
            return "connection timed out";
        }
        if (lower.contains("unknownhost") || lower.contains("unresolved") || lower.contains("name or service not known")) {
            return "unknown host";
        }
        return message;
    }
}
