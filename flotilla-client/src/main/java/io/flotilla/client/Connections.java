package io.flotilla.client;

import io.flotilla.client.wire.Hello;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * At most one connection per node, opened on first use and again after it breaks. Remembers which
 * node id answered at which address (from the hello reply), so a leader named by id can be found.
 */
final class Connections implements AutoCloseable {
    private final EventLoopGroup group;
    private final ClientOptions options;
    private final Map<InetSocketAddress, CompletableFuture<NodeConnection>> open = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> addressOfNode = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Null for plaintext. */
    private final NodeTls tls;

    /** Loads the TLS files of the options, if any: a bad one fails here with one line. */
    Connections(EventLoopGroup group, ClientOptions options) {
        this.group = group;
        this.options = options;
        this.tls = options.tls().load();
    }

    /** The open connection to {@code address}, or one being opened. */
    CompletableFuture<NodeConnection> get(InetSocketAddress address) {
        CompletableFuture<NodeConnection> existing = open.get(address);
        if (usable(existing)) {
            return existing;
        }
        synchronized (this) {
            existing = open.get(address);
            if (usable(existing)) {
                return existing;
            }
            if (closed) {
                return CompletableFuture.failedFuture(new NotSentException("the client is closed"));
            }
            CompletableFuture<NodeConnection> fresh = NodeConnection.open(group, address,
                    Hello.client(options.clusterId()), options.maxFrameBytes(), options.maxInFlight(),
                    options.connectTimeout(), tls, 0);
            fresh.thenAccept(c -> addressOfNode.put(c.nodeId(), address));
            open.put(address, fresh);
            return fresh;
        }
    }

    EventLoopGroup group() {
        return group;
    }

    /** Where node {@code id} answered, if this client has connected to it. */
    Optional<InetSocketAddress> addressOf(int id) {
        return Optional.ofNullable(addressOfNode.get(id));
    }

    private static boolean usable(CompletableFuture<NodeConnection> c) {
        return c != null && (!c.isDone() || (!c.isCompletedExceptionally() && c.join().isOpen()));
    }

    @Override
    public synchronized void close() {
        closed = true;
        open.values().forEach(f -> f.thenAccept(NodeConnection::close));
        open.clear();
    }
}
