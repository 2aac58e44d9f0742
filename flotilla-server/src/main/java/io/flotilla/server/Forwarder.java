package io.flotilla.server;

import io.flotilla.client.NodeConnection;
import io.flotilla.client.NotSentException;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Relays a follower's client requests to the leader over one connection per leader, opened on
 * first use and reopened after it breaks. The leader never relays them further, so a request makes
 * at most one hop.
 */
final class Forwarder implements AutoCloseable {
    private final int selfId;
    private final String clusterId;
    private final Map<Integer, InetSocketAddress> members;
    private final EventLoopGroup group;
    private final int maxFrameBytes;
    private final Map<Integer, CompletableFuture<NodeConnection>> connections = new ConcurrentHashMap<>();

    Forwarder(int selfId, String clusterId, Map<Integer, InetSocketAddress> members, EventLoopGroup group, int maxFrameBytes) {
        this.selfId = selfId;
        this.clusterId = clusterId;
        this.members = members;
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
                        new NotSentException("this node cannot reach leader " + leader + ": " + unwrap(error).getMessage())))
                .thenCompose(c -> c.send(request, timeout))
                .handle((response, error) -> {
                    if (error == null) {
                        return response;
                    }
                    Throwable cause = unwrap(error);
                    if (cause instanceof NotSentException notSent) {
                        throw new CompletionException(notSent);
                    }
                    return request.isWrite()
                            ? new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "lost touch with leader " + leader
                                    + " while it handled the write (" + cause.getMessage() + "); it may or may not have been applied")
                            : new Response.Failure(Response.Code.UNAVAILABLE, "lost touch with leader " + leader + ": " + cause.getMessage());
                });
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    Response notLeader(int leader, String message) {
        InetSocketAddress address = members.get(leader);
        String where = address == null ? "" : address.getHostString() + ":" + address.getPort();
        return new Response.NotLeader(leader, where, message);
    }

    private CompletableFuture<NodeConnection> connection(int leader) {
        CompletableFuture<NodeConnection> existing = connections.get(leader);
        if (existing != null && (!existing.isDone() || (!existing.isCompletedExceptionally() && existing.join().isOpen()))) {
            return existing;
        }
        CompletableFuture<NodeConnection> fresh = NodeConnection.open(group, members.get(leader),
                new Hello(Hello.Role.FORWARD, selfId, clusterId), maxFrameBytes, 65536, Duration.ofSeconds(1));
        connections.put(leader, fresh);
        return fresh;
    }

    @Override
    public void close() {
        connections.values().forEach(f -> f.thenAccept(NodeConnection::close));
    }
}
