package io.flotilla.faults;

import io.flotilla.client.wire.WireCodec;
import io.flotilla.server.net.NodeHello;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The proxy in front of one node: the address every other node has for it (in {@code --peers}, in
 * {@code member add}, hence in the cluster's configuration), so that all nodes agree on each
 * other's addresses as the configuration requires. It tells the links apart by the hello that
 * opens every peer connection (its fixed head carries the sender's node id, see docs/protocol.md)
 * and hands each connection to the {@link LinkProxy} of that directed link, created on first use:
 * partitions still cut single directed links, for members added later too. A connection that is not
 * a peer's or a relaying node's (a client that learnt this address from a redirect) goes through
 * the link from node 0, which is never cut.
 */
final class NodeProxy implements AutoCloseable {
    /** Frame length (4), magic (4), version (1), role (1), node id (4): the part of a hello that every version shares. */
    static final int HELLO_HEAD = 14;

    private final int to;
    private final InetSocketAddress target;
    private final ServerSocket listener;
    private final Map<Integer, LinkProxy> links = new TreeMap<>(); // by from; guarded by this
    private volatile boolean closed;

    NodeProxy(int to, int targetPort) throws IOException {
        this.to = to;
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "proxy-to-" + to);
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The link from node {@code from} to this proxy's node (made on first use, open). */
    synchronized LinkProxy link(int from) {
        return links.computeIfAbsent(from, f -> new LinkProxy(f, to, this, target));
    }

    /** Every link made so far (node 0's, for non-peer connections, included if used). */
    synchronized List<LinkProxy> links() {
        return List.copyOf(links.values());
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread t = new Thread(() -> route(client), "proxy-to-" + to + "-hello");
            t.setDaemon(true);
            t.start();
        }
    }

    /** Reads the hello's head to learn who connects, then hands the connection to that link. */
    private void route(Socket client) {
        byte[] head;
        try {
            client.setSoTimeout(10_000);
            head = client.getInputStream().readNBytes(HELLO_HEAD);
            client.setSoTimeout(0);
        } catch (IOException e) {
            LinkProxy.closeQuietly(client);
            return;
        }
        if (head.length < HELLO_HEAD || closed) {
            LinkProxy.closeQuietly(client);
            return;
        }
        link(sender(head)).handle(client, head);
    }

    /** The node id in a peer's or relaying node's hello; 0 for anything else. */
    static int sender(byte[] head) {
        ByteBuffer b = ByteBuffer.wrap(head);
        b.getInt(); // frame length
        if (b.getInt() != WireCodec.MAGIC) {
            return 0;
        }
        b.get(); // version
        int role = b.get();
        int id = b.getInt();
        boolean node = role == NodeHello.Role.PEER.wire() || role == NodeHello.Role.FORWARD.wire();
        return node && id > 0 ? id : 0;
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        links().forEach(LinkProxy::close);
    }

    @Override
    public String toString() {
        return "proxy to node " + to + " on port " + port();
    }
}
