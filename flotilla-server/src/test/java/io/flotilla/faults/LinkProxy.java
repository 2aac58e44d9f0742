package io.flotilla.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One directed peer link (node {@code from} to node {@code to}) through the {@link NodeProxy} in
 * front of node {@code to}: that proxy hands this link every connection whose hello names node
 * {@code from}, and the link forwards it, both ways, to the target's real port. The test cuts the
 * link by {@linkplain #cut cutting} it: existing connections are dropped, and new ones are either
 * closed at once (REFUSE) or accepted and silently swallowed (BLACKHOLE, a link that looks up but
 * loses everything). {@link #heal} drops blackholed connections and forwards again. Blocking sockets
 * with two pump threads per connection: a handful of links, a handful of connections.
 */
final class LinkProxy implements AutoCloseable {
    /** What the link does with traffic. */
    enum Mode { OPEN, REFUSE, BLACKHOLE }

    private final int from;
    private final int to;
    private final NodeProxy proxy;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = new HashSet<>(); // guarded by this
    private final AtomicLong forwardedBytes = new AtomicLong();
    private final AtomicLong swallowedBytes = new AtomicLong();
    private volatile Mode mode = Mode.OPEN;
    private volatile boolean closed;

    LinkProxy(int from, int to, NodeProxy proxy, InetSocketAddress target) {
        this.from = from;
        this.to = to;
        this.proxy = proxy;
        this.target = target;
    }

    /** The port node {@code from} connects to: the port of the proxy in front of node {@code to}. */
    int port() {
        return proxy.port();
    }

    int from() {
        return from;
    }

    int to() {
        return to;
    }

    Mode mode() {
        return mode;
    }

    /** Bytes forwarded in either direction since the proxy started. */
    long forwardedBytes() {
        return forwardedBytes.get();
    }

    /** Bytes read and thrown away while blackholed. */
    long swallowedBytes() {
        return swallowedBytes.get();
    }

    /** Stops forwarding: drops every connection; new ones are refused or blackholed as {@code how} says. */
    void cut(Mode how) {
        if (how == Mode.OPEN) {
            throw new IllegalArgumentException("cut needs REFUSE or BLACKHOLE");
        }
        mode = how;
        dropAll();
    }

    /** Forwards again; blackholed connections are dropped so that the node reconnects through the open link. */
    void heal() {
        if (mode != Mode.OPEN) {
            mode = Mode.OPEN;
            dropAll();
        }
    }

    @Override
    public void close() {
        closed = true;
        dropAll();
    }

    private void dropAll() {
        List<Socket> all;
        synchronized (this) {
            all = List.copyOf(sockets);
            sockets.clear();
        }
        all.forEach(LinkProxy::closeQuietly);
    }

    /** Registers a socket unless the link changed mode since {@code expected}; returns false (and closes it) if so. */
    private synchronized boolean track(Socket s, Mode expected) {
        if (closed || mode != expected) {
            closeQuietly(s);
            return false;
        }
        sockets.add(s);
        return true;
    }

    /**
     * Takes a connection accepted by the node's proxy, whose first {@code prefix} bytes the proxy
     * already read (to learn who connects); called on a thread of its own.
     */
    void handle(Socket client, byte[] prefix) {
        Mode now = mode;
        switch (now) {
            case REFUSE -> closeQuietly(client);
            case BLACKHOLE -> {
                if (track(client, now)) {
                    swallowedBytes.addAndGet(prefix.length);
                    swallow(client);
                }
            }
            case OPEN -> open(client, prefix);
        }
    }

    private void open(Socket client, byte[] prefix) {
        Socket server = new Socket();
        try {
            server.setTcpNoDelay(true);
            client.setTcpNoDelay(true);
            server.connect(target, 1000);
        } catch (IOException e) {
            closeQuietly(client); // the target is down: the caller sees a closed connection
            closeQuietly(server);
            return;
        }
        if (!track(client, Mode.OPEN) || !track(server, Mode.OPEN)) {
            closeQuietly(client);
            closeQuietly(server);
            return;
        }
        try {
            server.getOutputStream().write(prefix);
            forwardedBytes.addAndGet(prefix.length);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(server);
            return;
        }
        spawn(() -> pump(client, server), "up");
        spawn(() -> pump(server, client), "down");
    }

    private void pump(Socket in, Socket out) {
        byte[] buf = new byte[64 << 10];
        try {
            InputStream is = in.getInputStream();
            OutputStream os = out.getOutputStream();
            int n;
            while ((n = is.read(buf)) >= 0) {
                if (mode != Mode.OPEN) {
                    break; // cut while this chunk was on its way: it is lost, like the rest
                }
                os.write(buf, 0, n);
                forwardedBytes.addAndGet(n);
            }
        } catch (IOException ignored) {
            // either side went away
        } finally {
            closeQuietly(in);
            closeQuietly(out);
            synchronized (this) {
                sockets.remove(in);
                sockets.remove(out);
            }
        }
    }

    private void swallow(Socket s) {
        byte[] buf = new byte[16 << 10];
        try {
            InputStream is = s.getInputStream();
            int n;
            while ((n = is.read(buf)) >= 0) {
                swallowedBytes.addAndGet(n);
            }
        } catch (IOException ignored) {
            // dropped on heal
        } finally {
            closeQuietly(s);
        }
    }

    private void spawn(Runnable r, String what) {
        Thread t = new Thread(r, "proxy-" + from + "->" + to + "-" + what);
        t.setDaemon(true);
        t.start();
    }

    static void closeQuietly(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST: the far end learns at once, as when a cable is pulled and a router says so
        } catch (SocketException ignored) {
            // already closed
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public String toString() {
        return "link " + from + "->" + to + " (" + mode + ", " + forwardedBytes() + " bytes forwarded)";
    }
}
