package io.flotilla.core.sim;

import io.flotilla.core.SimulatedDriver;
import io.flotilla.core.NotLeaderException;
import io.flotilla.core.OutcomeUnknownException;
import io.flotilla.core.check.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The simulated clients. Each has at most one operation open: it sends it to a node (the leader it
 * last heard of, or a random one), and records the outcome in the {@link History}: OK with the
 * result, FAILED when the node refused it (a refused request was certainly not applied), UNKNOWN
 * when it gave up waiting, the node crashed with a command in hand, or the node said it cannot
 * tell ({@link OutcomeUnknownException}). A workload whose clients retry ({@link Workload#retry})
 * sends a command whose answer was lost again, up to {@link #ATTEMPTS} times, as one operation of
 * the history; to make sure retries happen, now and then such a client loses an answer on purpose.
 * The last client does not take turns: the harness drives it, to probe for liveness.
 */
final class Clients<I, C, Q, R> {
    record Turn(int client) implements EventQueue.Event {
    }

    record Timeout(int client, int op, int attempt) implements EventQueue.Event {
    }

    /** The time for a client to send a command again, after it gave up the attempt it numbers. */
    record Retry(int client, int op, int attempt) implements EventQueue.Event {
    }

    /** Runs an action on a node's driver and then has the node process it; false if the node is down. */
    interface Cluster<C, Q, R> {
        boolean act(int node, Consumer<SimulatedDriver<C, Q, R>> action);
    }

    private static final int NONE = -1;
    /** Attempts at one command, for a workload whose clients retry. */
    static final int ATTEMPTS = 4;
    /** One answer in this many to a command that could be retried is lost on the way. */
    private static final int LOSE_ONE_ANSWER_IN = 8;

    /** One client's state. */
    private final class Client {
        /** The open operation's id, or NONE. */
        int op = NONE;
        I operation;
        /** Counts the attempts at the open operation from 1; answers to earlier ones are ignored. */
        int attempt;
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
    private final SimStats stats;
    private final int nodes;
    private final long timeout;
    private final Consumer<String> trace;
    private final List<Client> clients = new ArrayList<>();
    private boolean stopped;

    Clients(Workload<I, C, Q, R> workload, EventQueue queue, SplittableRandom random, SimStats stats, int nodes, int count,
            long timeout, Consumer<String> trace) {
        this.workload = workload;
        this.queue = queue;
        this.random = random;
        this.stats = stats;
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
        send(t.client(), node, workload.nextOperation(t.client(), random), cluster);
    }

    /** Has the probe client send a command (not a read) to {@code node}. */
    void sendProbe(int node, Cluster<C, Q, R> cluster) {
        I command;
        do {
            command = workload.nextOperation(probeClient(), random);
        } while (!(workload.request(command, queue.now()) instanceof Submission.Propose));
        send(probeClient(), node, command, cluster);
    }

    /** Sends one operation from {@code client} to {@code node}. */
    private void send(int client, int node, I operation, Cluster<C, Q, R> cluster) {
        Client c = clients.get(client);
        Submission<C, Q> request = workload.request(operation, queue.now());
        c.op = history.invoke(client, operation, queue.now());
        c.operation = operation;
        c.attempt = 0;
        c.command = request instanceof Submission.Propose;
        trace.accept("client " + client + " sends #" + c.op + " " + operation + " to node " + node);
        attempt(client, node, request, cluster);
    }

    /** Sends the open operation's next attempt; a node that is down refuses the connection. */
    private void attempt(int client, int node, Submission<C, Q> request, Cluster<C, Q, R> cluster) {
        Client c = clients.get(client);
        int op = c.op;
        int attempt = ++c.attempt;
        c.node = node;
        queue.after(timeout, new Timeout(client, op, attempt));
        SimulatedDriver.Callback<R> callback = callback(client, op, attempt);
        boolean up = cluster.act(node, driver -> {
            if (request instanceof Submission.Propose<C, Q> p) {
                driver.propose(p.command(), callback);
            } else if (request instanceof Submission.Read<C, Q> r) {
                driver.read(r.query(), callback);
            }
        });
        if (!up && c.op == op && c.attempt == attempt) {
            c.preferredNode = 0;
            if (attempt == 1) {
                history.failed(op, queue.now()); // connection refused: certainly not applied
                finish(client);
            } else {
                giveUp(client); // an earlier attempt may still be applied
            }
        }
    }

    private SimulatedDriver.Callback<R> callback(int client, int op, int attempt) {
        Client c = clients.get(client);
        return new SimulatedDriver.Callback<>() {
            @Override
            public void complete(R result, long index) {
                if (c.op != op || c.attempt != attempt) {
                    return;
                }
                if (c.command && attempt < ATTEMPTS && retryable(c) && random.nextInt(LOSE_ONE_ANSWER_IN) == 0) {
                    stats.answersLost++;
                    trace.accept("#" + op + " -> " + result + " at index " + index + ", an answer lost on the way");
                    giveUp(client);
                    return;
                }
                trace.accept("#" + op + " -> " + result + " at index " + index);
                c.lastOkIndex = index;
                if (c.command && workload.outcomeUnknown(c.operation, result)) {
                    stats.resultsOfUnknownOutcome++;
                    history.unknown(op);
                } else {
                    history.ok(op, result, queue.now());
                }
                finish(client);
            }

            @Override
            public void fail(RuntimeException error) {
                trace.accept("#" + op + " failed: " + error.getMessage());
                if (c.op != op || c.attempt != attempt) {
                    return;
                }
                if (error instanceof OutcomeUnknownException) {
                    giveUp(client); // e.g. a snapshot replaced the log under it: it may have been applied
                    return;
                }
                if (error instanceof NotLeaderException e) {
                    c.preferredNode = e.leader();
                }
                if (attempt == 1) {
                    history.failed(op, queue.now()); // refused: certainly not applied
                    finish(client);
                } else {
                    giveUp(client); // this attempt was refused, but an earlier one may be applied
                }
            }
        };
    }

    /** Whether the workload retries this command (asked before drawing anything from the run's randomness). */
    private boolean retryable(Client c) {
        return workload.retry(c.operation, queue.now()).isPresent();
    }

    void timeout(Timeout t) {
        Client c = clients.get(t.client());
        if (c.op == t.op() && c.attempt == t.attempt()) {
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
     * The client stops waiting for this attempt. A command may or may not take effect: the client
     * retries it after a pause (now and then a long one) if the workload says how, else records it
     * unknown. A read has no effect, so one never answered is as good as one never done, and
     * dropping it spares the checker a branch.
     */
    private void giveUp(int client) {
        Client c = clients.get(client);
        c.preferredNode = 0;
        if (!c.command) {
            history.failed(c.op, queue.now());
            finish(client);
        } else if (c.attempt < ATTEMPTS && !stopped && retryable(c)) {
            long pause = random.nextInt(8) == 0 ? random.nextLong(1, timeout) : random.nextLong(1, 3L * Swarm.TICK);
            queue.after(pause, new Retry(client, c.op, c.attempt));
        } else {
            history.unknown(c.op);
            finish(client);
        }
    }

    /** Sends the command again, to any node: the one it tried may be down or cut off. */
    void retry(Retry r, Cluster<C, Q, R> cluster) {
        Client c = clients.get(r.client());
        if (c.op != r.op() || c.attempt != r.attempt()) {
            return;
        }
        Optional<Submission<C, Q>> retry = stopped ? Optional.empty() : workload.retry(c.operation, queue.now());
        if (retry.isEmpty()) {
            history.unknown(c.op);
            finish(r.client());
            return;
        }
        stats.retries++;
        int node = random.nextInt(1, nodes + 1);
        trace.accept("client " + r.client() + " retries #" + c.op + " on node " + node);
        attempt(r.client(), node, retry.get(), cluster);
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
