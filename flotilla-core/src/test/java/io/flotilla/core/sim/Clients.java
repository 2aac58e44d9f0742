package io.flotilla.core.sim;

import io.flotilla.core.SimulatedDriver;
import io.flotilla.core.NotLeaderException;
import io.flotilla.core.OutcomeUnknownException;
import io.flotilla.core.check.History;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The simulated clients. Each has at most one operation open: it sends it to a node (the leader it
 * last heard of, or a random one), and records the outcome in the {@link History}: OK with the
 * result, FAILED when the node refused it (a refused request was certainly not applied), UNKNOWN
 * when it gave up waiting, the node crashed with a command in hand, or the node said it cannot
 * tell ({@link OutcomeUnknownException}). The last client does not
 * take turns: the harness drives it, to probe for liveness.
 */
final class Clients<I, C, Q, R> {
    record Turn(int client) implements EventQueue.Event {
    }

    record Timeout(int client, int op) implements EventQueue.Event {
    }

    /** Runs an action on a node's driver and then has the node process it; false if the node is down. */
    interface Cluster<C, Q, R> {
        boolean act(int node, Consumer<SimulatedDriver<C, Q, R>> action);
    }

    private static final int NONE = -1;

    /** One client's state. */
    private static final class Client {
        /** The open operation's id, or NONE. */
        int op = NONE;
        int node;
        boolean command;
        /** The node to try first: the leader last heard of, or 0. */
        int preferredNode;
        long lastOkIndex = NONE;
    }

    private final Workload<I, C, Q, R> workload;
    private final History<I, R> history = new History<>();
    private final EventQueue queue;
    private final SplittableRandom random;
    private final int nodes;
    private final long timeout;
    private final Consumer<String> trace;
    private final List<Client> clients = new ArrayList<>();
    private boolean stopped;

    Clients(Workload<I, C, Q, R> workload, EventQueue queue, SplittableRandom random, int nodes, int count, long timeout,
            Consumer<String> trace) {
        this.workload = workload;
        this.queue = queue;
        this.random = random;
        this.nodes = nodes;
        this.timeout = timeout;
        this.trace = trace;
        for (int c = 0; c <= count; c++) {
            clients.add(new Client());
        }
        for (int c = 0; c < count; c++) {
            queue.after(random.nextLong(1, Swarm.TICK * 5), new Turn(c));
        }
    }

    History<I, R> history() {
        return history;
    }

    int probeClient() {
        return clients.size() - 1;
    }

    /** Takes no new operations from now on. */
    void stop() {
        stopped = true;
    }

    boolean anyOpen() {
        return clients.stream().anyMatch(c -> c.op != NONE);
    }

    boolean isOpen(int client) {
        return clients.get(client).op != NONE;
    }

    /** The log index of the client's last OK command, or -1. */
    long lastOkIndex(int client) {
        return clients.get(client).lastOkIndex;
    }

    void turn(Turn t, Cluster<C, Q, R> cluster) {
        Client c = clients.get(t.client());
        if (stopped || c.op != NONE) {
            return;
        }
        int node = c.preferredNode != 0 && random.nextInt(5) != 0 ? c.preferredNode : random.nextInt(1, nodes + 1);
        send(t.client(), node, workload.nextOperation(random), cluster);
    }

    /** Has the probe client send a command (not a read) to {@code node}. */
    void sendProbe(int node, Cluster<C, Q, R> cluster) {
        I command;
        do {
            command = workload.nextOperation(random);
        } while (!(workload.request(command) instanceof Workload.Request.Propose));
        send(probeClient(), node, command, cluster);
    }

    /** Sends one operation from {@code client} to {@code node}. */
    private void send(int client, int node, I operation, Cluster<C, Q, R> cluster) {
        Client c = clients.get(client);
        Workload.Request<C, Q> request = workload.request(operation);
        int op = history.invoke(client, operation, queue.now());
        c.op = op;
        c.node = node;
        c.command = request instanceof Workload.Request.Propose;
        queue.after(timeout, new Timeout(client, op));
        trace.accept("client " + client + " sends #" + op + " " + operation + " to node " + node);
        SimulatedDriver.Callback<R> callback = callback(client, op);
        boolean up = cluster.act(node, driver -> {
            if (request instanceof Workload.Request.Propose<C, Q> p) {
                driver.propose(p.command(), callback);
            } else if (request instanceof Workload.Request.Read<C, Q> r) {
                driver.read(r.query(), callback);
            }
        });
        if (!up && c.op == op) {
            c.preferredNode = 0;
            history.failed(op, queue.now()); // connection refused
            finish(client);
        }
    }

    private SimulatedDriver.Callback<R> callback(int client, int op) {
        Client c = clients.get(client);
        return new SimulatedDriver.Callback<>() {
            @Override
            public void complete(R result, long index) {
                trace.accept("#" + op + " -> " + result + " at index " + index);
                if (c.op == op) {
                    c.lastOkIndex = index;
                    history.ok(op, result, queue.now());
                    finish(client);
                }
            }

            @Override
            public void fail(RuntimeException error) {
                trace.accept("#" + op + " failed: " + error.getMessage());
                if (c.op == op) {
                    if (error instanceof OutcomeUnknownException) {
                        giveUp(client); // e.g. a snapshot replaced the log under it: it may have been applied
                        return;
                    }
                    if (error instanceof NotLeaderException e) {
                        c.preferredNode = e.leader();
                    }
                    history.failed(op, queue.now());
                    finish(client);
                }
            }
        };
    }

    void timeout(Timeout t) {
        if (clients.get(t.client()).op == t.op()) {
            giveUp(t.client());
        }
    }

    /** The node lost power: what it was doing for clients is lost; commands may still commit. */
    void nodeCrashed(int node) {
        for (int client = 0; client < clients.size(); client++) {
            Client c = clients.get(client);
            if (c.op != NONE && c.node == node) {
                giveUp(client);
            }
        }
    }

    /**
     * The client stops waiting: a command may or may not take effect; a read has no effect, so one
     * never answered is as good as one never done, and dropping it spares the checker a branch.
     */
    private void giveUp(int client) {
        Client c = clients.get(client);
        c.preferredNode = 0;
        if (c.command) {
            history.unknown(c.op);
        } else {
            history.failed(c.op, queue.now());
        }
        finish(client);
    }

    private void finish(int client) {
        clients.get(client).op = NONE;
        if (client != probeClient()) {
            queue.after(random.nextLong(1, Swarm.TICK * 3), new Turn(client));
        }
    }

    @Override
    public String toString() {
        return history.size() + " operations invoked";
    }
}
