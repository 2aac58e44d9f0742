package io.flotilla.faults;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import io.flotilla.core.Bytes;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.SetParams;

/** How one of {@link HistoryRecorder}'s clients reaches the cluster: the client library, or a Redis client. */
interface RegisterClient extends AutoCloseable {
    /** Runs {@code op}, waiting at most {@code bound}; throws if it failed or did not finish in time. */
    RegisterResult run(RegisterOp op, Duration bound) throws Exception;

    /** Whether {@code failure}, thrown by {@link #run}, means that the operation was certainly not applied. */
    boolean certainlyNotApplied(Exception failure);

    /** Whether this client should be replaced by a new one before the next operation (the members changed). */
    default boolean outdated() {
        return false;
    }

    @Override
    void close();

    /** Flotilla's own client library, over the native port, with its sessions and retries. */
    final class Native implements RegisterClient {
        private final java.util.function.Supplier<ClientOptions> options;
        private final ClientOptions opened;
        private final FlotillaClient client;

        Native(java.util.function.Supplier<ClientOptions> options) {
            this.options = options;
            this.opened = options.get();
            this.client = FlotillaClient.create(opened);
        }

        @Override
        public RegisterResult run(RegisterOp op, Duration bound) throws Exception {
            CompletableFuture<RegisterResult> call;
            if (op instanceof RegisterOp.Read r) {
                call = client.getAsync(Bytes.utf8(r.key())).thenApply(v -> RegisterResult.value(v.map(Bytes::utf8).orElse(null)));
            } else if (op instanceof RegisterOp.Write w) {
                call = client.setAsync(Bytes.utf8(w.key()), Bytes.utf8(w.value())).thenApply(v -> RegisterResult.OK);
            } else if (op instanceof RegisterOp.Cas c) {
                call = client.casAsync(Bytes.utf8(c.key()), Optional.ofNullable(c.expected()).map(Bytes::utf8), Bytes.utf8(c.value()))
                        .thenApply(ok -> ok ? RegisterResult.OK : RegisterResult.MISMATCH);
            } else {
                throw new AssertionError(op);
            }
            try {
                return call.get(bound.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }

        @Override
        public boolean certainlyNotApplied(Exception failure) {
            return failure instanceof FlotillaException fe && !fe.mayHaveBeenApplied();
        }

        @Override
        public boolean outdated() {
            return !options.get().cluster().equals(opened.cluster());
        }

        @Override
        public void close() {
            client.close();
        }
    }

    /**
     * A Redis client (Jedis) on one node's Redis port at a time, moving to the next node after a
     * failure. A connection is a session on the node, which retries a write itself across a leader
     * change; -TRYAGAIN, or a connection that could not be opened, is certainly not applied, and
     * everything else that is not an answer may have been.
     */
    final class Redis implements RegisterClient {
        private static final ProtocolCommand CAS = () -> "CAS".getBytes(StandardCharsets.US_ASCII);
        private final List<Integer> ports;
        private int next;
        private Jedis jedis;

        Redis(List<Integer> ports, int first) {
            this.ports = List.copyOf(ports);
            this.next = first;
        }

        @Override
        public RegisterResult run(RegisterOp op, Duration bound) throws Exception {
            try {
                if (jedis == null) {
                    jedis = new Jedis(new HostAndPort("127.0.0.1", ports.get(next++ % ports.size())),
                            DefaultJedisClientConfig.builder().socketTimeoutMillis((int) bound.toMillis()).connectionTimeoutMillis(500).build());
                    try {
                        jedis.connect();
                    } catch (RuntimeException refused) {
                        throw new NotSent(refused);
                    }
                }
                if (op instanceof RegisterOp.Read r) {
                    return RegisterResult.value(jedis.get(r.key()));
                } else if (op instanceof RegisterOp.Write w) {
                    return answer("OK".equals(jedis.set(w.key(), w.value())));
                } else if (op instanceof RegisterOp.Cas c) {
                    return c.expected() == null ? answer("OK".equals(jedis.set(c.key(), c.value(), SetParams.setParams().nx())))
                            : answer(Long.valueOf(1).equals(jedis.sendCommand(CAS, c.key(), c.expected(), c.value())));
                }
                throw new AssertionError(op);
            } catch (RuntimeException | NotSent e) {
                close(); // the next operation tries the next node
                throw e;
            }
        }

        private static RegisterResult answer(boolean done) {
            return done ? RegisterResult.OK : RegisterResult.MISMATCH;
        }

        @Override
        public boolean certainlyNotApplied(Exception failure) {
            return failure instanceof NotSent || failure instanceof JedisDataException e && e.getMessage().startsWith("TRYAGAIN");
        }

        @Override
        public void close() {
            if (jedis != null) {
                jedis.close();
                jedis = null;
            }
        }

        /** The connection could not be opened: nothing was sent. */
        private static final class NotSent extends Exception {
            NotSent(Throwable cause) {
                super(cause);
            }
        }
    }
}
