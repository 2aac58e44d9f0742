package io.flotilla.client.it;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.WireCodec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of one node that loses one answer: it forwards every frame both ways, but the
 * answer to the first write it sees is swallowed, and the connection is closed instead. The write
 * itself reached the node. Optionally the proxy then stops accepting connections, so a retry has to
 * take another path.
 */
final class LossyProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final boolean closeAfterLoss;
    private final AtomicBoolean armed = new AtomicBoolean(true);
    final AtomicInteger answersLost = new AtomicInteger();
    final AtomicInteger writesForwarded = new AtomicInteger();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    LossyProxy(InetSocketAddress target, boolean closeAfterLoss) throws IOException {
        this.target = target;
        this.closeAfterLoss = closeAfterLoss;
        this.listener = new ServerSocket(0);
        Thread accept = new Thread(this::acceptLoop, "lossy-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(target.getHostString(), target.getPort());
                sockets.add(client);
                sockets.add(server);
                Set<Long> toLose = ConcurrentHashMap.newKeySet(); // request ids are per connection
                pump("requests", client, server, true, toLose);
                pump("answers", server, client, false, toLose);
            } catch (IOException e) {
                return; // the listener was closed
            }
        }
    }

    private void pump(String name, Socket from, Socket to, boolean requests, Set<Long> toLose) {
        Thread t = new Thread(() -> {
            try (DataInputStream in = new DataInputStream(from.getInputStream());
                 DataOutputStream out = new DataOutputStream(to.getOutputStream())) {
                boolean first = true; // the hello, or the hello reply
                while (true) {
                    int length = in.readInt();
                    byte[] body = new byte[length];
                    in.readFully(body);
                    if (!first && requests) {
                        WireCodec.Tagged<Request> request = WireCodec.decodeRequest(ByteBuffer.wrap(body));
                        if (request.body() instanceof Request.Write) {
                            writesForwarded.incrementAndGet();
                            if (armed.compareAndSet(true, false)) {
                                toLose.add(request.requestId());
                            }
                        }
                    }
                    if (!first && !requests && toLose.contains(ByteBuffer.wrap(body).getLong())) {
                        answersLost.incrementAndGet();
                        if (closeAfterLoss) {
                            listener.close();
                        }
                        from.close();
                        to.close();
                        return;
                    }
                    first = false;
                    out.writeInt(length);
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "lossy-proxy-" + name);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(LossyProxy::closeQuietly);
    }
}
