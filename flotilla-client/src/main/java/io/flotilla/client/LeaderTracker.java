package io.flotilla.client;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Which node to send requests to. The client remembers the leader once found; when it is unknown
 * (at first, or after the leader failed, stepped down or redirected elsewhere), a discovery asks
 * every known node for its status at once and takes the first that says it leads. While requests
 * flow, the leader is re-confirmed every {@link ClientOptions#leaderCheckInterval()}, so a leader that
 * quietly stepped down (its followers forward requests, so nothing fails) is noticed too.
 *
 * <p>A follower forwards requests to the leader itself, so when no leader is known but some node
 * answers, requests go there: it relays them, or answers NO_LEADER if an election is running.
 */
final class LeaderTracker {
    private static final Request.StatusQuery STATUS = new Request.StatusQuery();

    private final Connections connections;
    private final List<InetSocketAddress> members;
    private final Duration checkInterval;
    private final AtomicReference<InetSocketAddress> leader = new AtomicReference<>();
    private volatile long confirmedAtNanos;
    private final AtomicBoolean checking = new AtomicBoolean();
    private CompletableFuture<InetSocketAddress> discovery; // guarded by this

    LeaderTracker(Connections connections, List<InetSocketAddress> seeds, Duration checkInterval) {
        this.connections = connections;
        this.members = new CopyOnWriteArrayList<>(seeds);
        this.checkInterval = checkInterval;
    }

    /** The node believed to lead, if one is known. */
    Optional<InetSocketAddress> leader() {
        return Optional.ofNullable(leader.get());
    }

    /** Every node known: the configured ones, then any learned from redirects. */
    List<InetSocketAddress> members() {
        return List.copyOf(members);
    }

    /**
     * Where to send the next request: the leader if known, else the outcome of a discovery (the
     * leader, or some node that answered). Fails with an {@link IOException} naming every node's
     * problem if no node answered within {@code timeout}.
     */
    CompletableFuture<InetSocketAddress> target(Duration timeout) {
        InetSocketAddress known = leader.get();
        if (known != null) {
            confirmLater(known, timeout);
            return CompletableFuture.completedFuture(known);
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
        leader.compareAndSet(node, null);
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
            leader.set(address);
            confirmedAtNanos = System.nanoTime();
        } else {
            suspect(from);
        }
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

    /** Asks every node at once; completes with the first that leads, else after all answered. */
    private CompletableFuture<InetSocketAddress> discover(Duration timeout) {
        List<InetSocketAddress> nodes = List.copyOf(members);
        CompletableFuture<InetSocketAddress> found = new CompletableFuture<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        List<NodeStatus> answers = new CopyOnWriteArrayList<>();
        List<InetSocketAddress> answered = new CopyOnWriteArrayList<>();
        AtomicInteger remaining = new AtomicInteger(nodes.size());
        for (InetSocketAddress node : nodes) {
            probe(node, timeout).whenComplete((status, error) -> {
                if (error != null) {
                    problems.add(ClientOptions.describe(node) + " (" + reason(error) + ")");
                } else {
                    answers.add(status);
                    answered.add(node);
                    if ("LEADER".equals(status.role()) && found.complete(node)) {
                        leader.set(node);
                        confirmedAtNanos = System.nanoTime();
                    }
                }
                if (remaining.decrementAndGet() == 0 && !found.isDone()) {
                    settleWithoutLeader(found, nodes, answers, answered, problems);
                }
            });
        }
        return found;
    }

    /** No node said it leads: use the leader the others name, if the client knows where it is, else any node that answered. */
    private void settleWithoutLeader(CompletableFuture<InetSocketAddress> found, List<InetSocketAddress> order,
                                     List<NodeStatus> answers, List<InetSocketAddress> answered, List<String> problems) {
        if (answered.isEmpty()) {
            List<String> inOrder = new ArrayList<>(problems);
            inOrder.sort(null);
            found.completeExceptionally(new IOException(String.join(", ", inOrder)));
            return;
        }
        long newestTerm = answers.stream().mapToLong(NodeStatus::term).max().orElse(0);
        Optional<InetSocketAddress> named = answers.stream()
                .filter(s -> s.term() == newestTerm && s.leaderId() != 0)
                .map(s -> connections.addressOf(s.leaderId()))
                .flatMap(Optional::stream)
                .findFirst();
        if (named.isPresent()) {
            leader.set(named.get());
            confirmedAtNanos = System.nanoTime();
            found.complete(named.get());
            return;
        }
        found.complete(order.stream().filter(answered::contains).findFirst().orElseThrow());
    }

    /** Every so often, checks in the background that the believed leader still leads. */
    private void confirmLater(InetSocketAddress believed, Duration timeout) {
        if (System.nanoTime() - confirmedAtNanos < checkInterval.toNanos() || !checking.compareAndSet(false, true)) {
            return;
        }
        probe(believed, timeout).whenComplete((status, error) -> {
            try {
                if (error != null) {
                    suspect(believed);
                } else if ("LEADER".equals(status.role())) {
                    confirmedAtNanos = System.nanoTime();
                } else {
                    Optional<InetSocketAddress> named = status.leaderId() == 0 ? Optional.empty()
                            : connections.addressOf(status.leaderId());
                    if (named.isPresent() && leader.compareAndSet(believed, named.get())) {
                        confirmedAtNanos = System.nanoTime();
                    } else {
                        suspect(believed);
                    }
                }
            } finally {
                checking.set(false);
            }
        });
    }

    /** One node's status, or a failure naming why it did not answer. */
    CompletableFuture<NodeStatus> probe(InetSocketAddress node, Duration timeout) {
        return connections.get(node)
                .thenCompose(c -> c.send(STATUS, timeout))
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(r -> {
                    if (r instanceof Response.Status s) {
                        return s.status();
                    }
                    throw new CompletionException(new IOException("answered a status query with " + r));
                });
    }

    /** A short reason for a failed attempt or probe, e.g. "connection refused" or "no answer within 3000 ms". */
    static String reason(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
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
