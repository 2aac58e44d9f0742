package io.flotilla.faults;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import io.flotilla.core.Bytes;
import io.flotilla.core.check.Operation;
import io.flotilla.core.check.Outcome;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several concurrent clients, each its own {@link FlotillaClient} on its own thread, doing
 * linearizable reads, writes of unique values and compare-and-sets on a handful of keys; every
 * operation is recorded with its invocation and completion time. A failure whose
 * {@link FlotillaException#mayHaveBeenApplied()} is false is FAILED; true, or no answer within the
 * client's deadline plus a margin, is UNKNOWN. To keep the checker's search small the key set moves
 * on every {@code opsPerKeyGeneration} operations ({@code k<gen>-<n>}).
 */
final class HistoryRecorder implements AutoCloseable {
    /** One finished operation. Times are nanoseconds since the recorder started. */
    record Recorded(int id, int client, RegisterOp op, RegisterResult result, long invokedAt, long completedAt, Outcome outcome) {
        Operation<RegisterOp, RegisterResult> toOperation() {
            return switch (outcome) {
                case OK -> Operation.ok(id, client, op, result, invokedAt, completedAt);
                case FAILED -> Operation.failed(id, client, op, invokedAt, completedAt);
                case UNKNOWN -> Operation.unknown(id, client, op, invokedAt);
            };
        }

        boolean isWrite() {
            return !(op instanceof RegisterOp.Read);
        }

        /** A write or a matching CAS the cluster acknowledged. */
        boolean acknowledgedWrite() {
            return outcome == Outcome.OK && isWrite() && result instanceof RegisterResult.Ok;
        }
    }

    private final java.util.function.Supplier<ClientOptions> clientOptions;
    private final int clients;
    private final int keysPerGeneration;
    private final int opsPerKeyGeneration;
    private final long seed;
    private final long startNanos = System.nanoTime();
    private final List<Recorded> recorded = new ArrayList<>(); // guarded by this
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicLong invoked = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<FlotillaClient> opened = new ArrayList<>();
    private volatile boolean stopping;

    HistoryRecorder(ClientOptions clientOptions, int clients, int keysPerGeneration, int opsPerKeyGeneration, long seed) {
        this(() -> clientOptions, clients, keysPerGeneration, opsPerKeyGeneration, seed);
    }

    /**
     * Clients whose options come from {@code clientOptions}, asked again before every operation: when
     * the nodes it names change (members added or removed), the client is replaced by one that names
     * the new ones (a new session; the old client had nothing in flight).
     */
    HistoryRecorder(java.util.function.Supplier<ClientOptions> clientOptions, int clients, int keysPerGeneration,
                    int opsPerKeyGeneration, long seed) {
        this.clientOptions = clientOptions;
        this.clients = clients;
        this.keysPerGeneration = keysPerGeneration;
        this.opsPerKeyGeneration = opsPerKeyGeneration;
        this.seed = seed;
    }

    /** Nanoseconds since the recorder was made: the clock of every recorded time. */
    long now() {
        return System.nanoTime() - startNanos;
    }

    void start() {
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> run(client, new Random(seed * 31 + client)), "history-client-" + client);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Stops the clients after their current operation (each waits at most its bound). */
    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) {
            t.join(bound().toMillis() + 5000);
        }
    }

    private Duration bound() {
        return clientOptions.get().deadline().plusSeconds(2);
    }

    private synchronized FlotillaClient open(ClientOptions options) {
        FlotillaClient fc = FlotillaClient.create(options);
        opened.add(fc);
        return fc;
    }

    private synchronized void closeClient(FlotillaClient fc) {
        opened.remove(fc);
        fc.close();
    }

    private void run(int client, Random random) {
        int seq = 0;
        ClientOptions options = clientOptions.get();
        FlotillaClient fc = open(options);
        while (!stopping) {
            ClientOptions now = clientOptions.get();
            if (!now.cluster().equals(options.cluster())) {
                closeClient(fc);
                options = now;
                fc = open(options);
            }
            long generation = invoked.getAndIncrement() / ((long) opsPerKeyGeneration * keysPerGeneration);
            String key = "k" + generation + "-" + random.nextInt(keysPerGeneration);
            int dice = random.nextInt(10);
            RegisterOp op;
            if (dice < 4) {
                op = new RegisterOp.Read(key);
            } else if (dice < 7) {
                op = new RegisterOp.Write(key, "c" + client + "-" + seq++);
            } else {
                op = new RegisterOp.Cas(key, lastValue(key, random), "c" + client + "-" + seq++);
            }
            execute(client, fc, op);
        }
    }

    /** A plausible expected value for a CAS: a recent value of the key (or absent). */
    private synchronized String lastValue(String key, Random random) {
        for (int i = recorded.size() - 1, seen = 0; i >= 0 && seen < 50; i--, seen++) {
            Recorded r = recorded.get(i);
            if (r.op().key().equals(key) && r.outcome() == Outcome.OK) {
                if (r.result() instanceof RegisterResult.Value v && random.nextInt(4) != 0) {
                    return v.value();
                }
                if (r.op() instanceof RegisterOp.Write w) {
                    return w.value();
                }
            }
        }
        return null;
    }

    /** Runs one operation with {@code fc} and records it; blocks up to the client's deadline plus a margin. */
    Recorded execute(int client, FlotillaClient fc, RegisterOp op) {
        int id = nextId.getAndIncrement();
        long invokedAt = now();
        CompletableFuture<RegisterResult> call;
        if (op instanceof RegisterOp.Read r) {
            call = fc.getAsync(Bytes.utf8(r.key())).thenApply(v -> RegisterResult.value(v.map(Bytes::utf8).orElse(null)));
        } else if (op instanceof RegisterOp.Write w) {
            call = fc.setAsync(Bytes.utf8(w.key()), Bytes.utf8(w.value())).thenApply(v -> RegisterResult.OK);
        } else if (op instanceof RegisterOp.Cas c) {
            call = fc.casAsync(Bytes.utf8(c.key()), Optional.ofNullable(c.expected()).map(Bytes::utf8), Bytes.utf8(c.value()))
                    .thenApply(ok -> ok ? RegisterResult.OK : RegisterResult.MISMATCH);
        } else {
            throw new AssertionError(op);
        }
        Recorded r;
        try {
            RegisterResult result = call.get(bound().toMillis(), TimeUnit.MILLISECONDS);
            r = new Recorded(id, client, op, result, invokedAt, now(), Outcome.OK);
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause();
            boolean certainlyNot = cause instanceof FlotillaException fe && !fe.mayHaveBeenApplied();
            r = new Recorded(id, client, op, null, invokedAt, now(), certainlyNot ? Outcome.FAILED : Outcome.UNKNOWN);
        } catch (TimeoutException e) {
            r = new Recorded(id, client, op, null, invokedAt, now(), Outcome.UNKNOWN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r = new Recorded(id, client, op, null, invokedAt, now(), Outcome.UNKNOWN);
        }
        synchronized (this) {
            recorded.add(r);
        }
        return r;
    }

    /** Every key any operation touched. */
    synchronized List<String> keys() {
        return recorded.stream().map(r -> r.op().key()).distinct().sorted().toList();
    }

    /** A copy of everything recorded so far, in completion order. */
    synchronized List<Recorded> recorded() {
        return List.copyOf(recorded);
    }

    @Override
    public void close() {
        stopping = true;
        List<FlotillaClient> all;
        synchronized (this) {
            all = List.copyOf(opened);
            opened.clear();
        }
        all.forEach(FlotillaClient::close);
    }
}
