package io.flotilla.faults;

import io.flotilla.client.ClientOptions;
import io.flotilla.core.check.Operation;
import io.flotilla.core.check.Outcome;
import io.flotilla.core.check.RegisterOp;
import io.flotilla.core.check.RegisterResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several concurrent clients, each its own {@link RegisterClient} (the client library, or a Redis
 * client) on its own thread, doing linearizable reads, writes of unique values and compare-and-sets
 * on a handful of keys; every operation is recorded with its invocation and completion time. A
 * failure the client says was certainly not applied is FAILED; any other, or no answer within the
 * bound, is UNKNOWN. To keep the checker's search small the key set moves
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

    private final java.util.function.IntFunction<RegisterClient> connect;
    private final Duration bound;
    private final int clients;
    private final int keysPerGeneration;
    private final int opsPerKeyGeneration;
    private final long seed;
    private final long startNanos = System.nanoTime();
    private final List<Recorded> recorded = new ArrayList<>(); // guarded by this
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicLong invoked = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final List<RegisterClient> opened = new ArrayList<>();
    private volatile boolean stopping;

    /**
     * Clients of the client library whose options come from {@code clientOptions}, asked again before
     * every operation: when the nodes it names change (members added or removed), the client is
     * replaced by one that names the new ones (a new session; the old client had nothing in flight).
     */
    HistoryRecorder(java.util.function.Supplier<ClientOptions> clientOptions, int clients, int keysPerGeneration,
                    int opsPerKeyGeneration, long seed) {
        this(c -> new RegisterClient.Native(clientOptions), clientOptions.get().deadline().plusSeconds(2), clients,
                keysPerGeneration, opsPerKeyGeneration, seed);
    }

    /** Clients that {@code connect} makes (client number to client), each operation waited for up to {@code bound}. */
    HistoryRecorder(java.util.function.IntFunction<RegisterClient> connect, Duration bound, int clients, int keysPerGeneration,
                    int opsPerKeyGeneration, long seed) {
        this.connect = connect;
        this.bound = bound;
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
        return bound;
    }

    private synchronized RegisterClient open(int client) {
        RegisterClient rc = connect.apply(client);
        opened.add(rc);
        return rc;
    }

    private synchronized void closeClient(RegisterClient rc) {
        opened.remove(rc);
        rc.close();
    }

    private void run(int client, Random random) {
        int seq = 0;
        RegisterClient fc = open(client);
        while (!stopping) {
            if (fc.outdated()) {
                closeClient(fc);
                fc = open(client);
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

    /** Runs one operation with {@code rc} and records it; blocks up to the bound. */
    Recorded execute(int client, RegisterClient rc, RegisterOp op) {
        int id = nextId.getAndIncrement();
        long invokedAt = now();
        Recorded r;
        try {
            RegisterResult result = rc.run(op, bound());
            r = new Recorded(id, client, op, result, invokedAt, now(), Outcome.OK);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r = new Recorded(id, client, op, null, invokedAt, now(), Outcome.UNKNOWN);
        } catch (Exception e) {
            r = new Recorded(id, client, op, null, invokedAt, now(), rc.certainlyNotApplied(e) ? Outcome.FAILED : Outcome.UNKNOWN);
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
        List<RegisterClient> all;
        synchronized (this) {
            all = List.copyOf(opened);
            opened.clear();
        }
        all.forEach(RegisterClient::close);
    }
}
