package io.flotilla.server;

import io.flotilla.client.Futures;
import io.flotilla.client.HostPort;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.NodeTls;
import io.flotilla.client.NotSentException;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.server.net.NodeHello;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntFunction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Relays a follower's client requests to the leader over one connection per leader, opened on
 * first use and reopened after it breaks. The leader never relays them further, so a request makes
 * at most one hop. Leaders are found at the addresses of the configuration this node uses, which
 * changes with the cluster's membership.
 */
final class Forwarder implements AutoCloseable {
    private final int selfId;
    private final String clusterId;
    private final IntFunction<Optional<InetSocketAddress>> addresses;
    private final EventLoopGroup group;
    private final int maxFrameBytes;
    private final Map<Integer, CompletableFuture<NodeConnection>> connections = new ConcurrentHashMap<>();

    /** Null for plaintext; else a relay opens only to a node presenting the leader's certificate. */
    private final NodeTls tls;

    Forwarder(int selfId, String clusterId, IntFunction<Optional<InetSocketAddress>> addresses, EventLoopGroup group,
              int maxFrameBytes, NodeTls tls) {
        this.tls = tls;
        this.selfId = selfId;
        this.clusterId = clusterId;
        this.addresses = addresses;
        this.group = group;
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * Relays {@code request} to {@code leader}. Fails with {@link NotSentException} if the request
     * never left this node (no connection to the leader could be opened, or it had closed); any other
     * failure becomes a response that says whether a write may have been applied.
     */
    CompletableFuture<Response> forward(int leader, Request request, Duration timeout) {
        return connection(leader)
                .exceptionallyCompose(error -> CompletableFuture.failedFuture(
                        new NotSentException("this node cannot reach leader " + leader + ": " + Futures.cause(error).getMessage())))
                .thenCompose(c -> c.send(request, timeout))
                .handle((response, error) -> {
                    if (error == null) {
                        return response;
                    }
                    Throwable cause = Futures.cause(error);
                    if (cause instanceof NotSentException notSent) {
                        throw new CompletionException(notSent);
                    }
                    return request.changesState()
                            ? new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "lost touch with leader " + leader
                                    + " while it handled the write (" + cause.getMessage() + "); it may or may not have been applied")
                            : new Response.Failure(Response.Code.UNAVAILABLE, "lost touch with leader " + leader + ": " + cause.getMessage());
                });
    }

    Response notLeader(int leader, String message) {
        String where = addresses.apply(leader).map(HostPort::format).orElse("");
        return new Response.NotLeader(leader, where, message);
    }

    private CompletableFuture<NodeConnection> connection(int leader) {
        CompletableFuture<NodeConnection> existing = connections.get(leader);
        if (existing != null && (!existing.isDone() || (!existing.isCompletedExceptionally() && existing.join().isOpen()))) {
            return existing;
        }
        Optional<InetSocketAddress> address = addresses.apply(leader);
        if (address.isEmpty()) {
            return CompletableFuture.failedFuture(new java.io.IOException("its address is not in this node's configuration"));
        }
        CompletableFuture<NodeConnection> fresh = NodeConnection.open(group, address.get(),
                NodeHello.forward(1, selfId, clusterId), maxFrameBytes, 65536, Duration.ofSeconds(1), tls, leader);
        connections.put(leader, fresh);
        return fresh;
    }

    /** Closes the connections to nodes that are no longer members. */
    void retain(java.util.Set<Integer> members) {
        connections.entrySet().removeIf(e -> {
            if (members.contains(e.getKey())) {
                return false;
            }
            e.getValue().thenAccept(NodeConnection::close);
            return true;
        });
    }

    @Override
    public void close() {
        connections.values().forEach(f -> f.thenAccept(NodeConnection::close));
    }
}
