package io.flotilla.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.message.Message;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A few {@link NodeHarness}es wired together by a lossless, in-order, single-threaded "network".
 * Nothing moves unless a test says so: {@link #stabilize()} drains every node and delivers every
 * message until the cluster is quiet; ticks go to the nodes a test names. Isolated nodes and
 * messages matching a drop rule are lost.
 */
final class Network {
    private final Map<Integer, NodeHarness> nodes = new TreeMap<>();
    private final Set<Integer> isolated = new TreeSet<>();
    private final List<Predicate<Message>> dropRules = new ArrayList<>();
    private UnaryOperator<Message> rewrite = UnaryOperator.identity();
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    /** Every message delivered so far, in delivery order. */
    final List<Message> delivered = new ArrayList<>();

    /** Nodes {@code 1..n} of a new cluster, with the test settings. */
    static Network of(int n) {
        return of(n, NodeHarness::config);
    }

    /** Nodes {@code 1..n} of a new cluster, each with {@code config.apply(id)}. */
    static Network of(int n, IntFunction<RaftConfig> config) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i + 1;
        }
        Network net = new Network();
        for (int id : ids) {
            net.add(NodeHarness.bootstrap(config.apply(id), ids));
        }
        return net;
    }

    Network add(NodeHarness node) {
        nodes.put(node.id(), node);
        return this;
    }

    NodeHarness node(int id) {
        return nodes.get(id);
    }

    RaftNode raft(int id) {
        return nodes.get(id).node;
    }

    // ---- faults ------------------------------------------------------------------------------

    /** Cuts {@code id} off: messages from and to it are lost. */
    void isolate(int id) {
        isolated.add(id);
    }

    void heal(int id) {
        isolated.remove(id);
    }

    /** Heals every isolation, drop rule and rewrite. */
    void healAll() {
        isolated.clear();
        dropRules.clear();
        rewrite = UnaryOperator.identity();
    }

    /** Changes every message in transit with {@code rule} (a faulty or simplified sender), until {@link #healAll()}. */
    void rewrite(UnaryOperator<Message> rule) {
        rewrite = rule;
    }

    /** Loses every message that matches {@code rule}, until {@link #healAll()}. */
    void drop(Predicate<Message> rule) {
        dropRules.add(rule);
    }

    // ---- moving time and messages ------------------------------------------------------------

    void tick(int id, int times) {
        nodes.get(id).tick(times);
    }

    /** Ticks every node once, in id order; an isolated node is cut off, not stopped, so it ticks too. */
    void tickAll() {
        for (NodeHarness h : nodes.values()) {
            h.tick(1);
        }
    }

    /** Puts a message on the wire as if {@code m.from()} had sent it. */
    void send(Message m) {
        queue.add(m);
    }

    /**
     * Drains every node and delivers every message (in the order sent) until no node has anything
     * more to do.
     *
     * @return the number of messages delivered
     */
    int stabilize() {
        int count = 0;
        for (int rounds = 0; ; rounds++) {
            if (rounds == 10_000) {
                throw new AssertionError("the cluster does not settle");
            }
            boolean busy = false;
            for (NodeHarness h : nodes.values()) {
                if (h.node.hasReady()) {
                    busy = true;
                    queue.addAll(NodeHarness.allMessages(h.drain()));
                }
            }
            if (!busy && queue.isEmpty()) {
                return count;
            }
            while (!queue.isEmpty()) {
                if (deliver(queue.poll())) {
                    count++;
                }
            }
        }
    }

    private boolean deliver(Message sent) {
        Message m = rewrite.apply(sent);
        NodeHarness to = nodes.get(m.to());
        if (to == null || isolated.contains(m.from()) || isolated.contains(m.to())
                || dropRules.stream().anyMatch(rule -> rule.test(m))) {
            return false;
        }
        delivered.add(m);
        to.deliver(m);
        return true;
    }

    /** Lets {@code ticks} ticks pass: each tick goes to every node, then the cluster settles. */
    void run(int ticks) {
        for (int i = 0; i < ticks; i++) {
            tickAll();
            stabilize();
        }
    }

    /** The one node that leads in the highest term, or 0. */
    int leader() {
        int leader = 0;
        long term = -1;
        for (NodeHarness h : nodes.values()) {
            if (h.node.role() == Role.LEADER && h.node.term() > term) {
                leader = h.id();
                term = h.node.term();
            }
        }
        return leader;
    }

    // ---- common moves ------------------------------------------------------------------------

    /** Times {@code id} out (only it is ticked) and lets the election run to the end; asserts it won. */
    void elect(int id) {
        campaign(id);
        assertThat(raft(id).role()).as("node %d after its election", id).isEqualTo(Role.LEADER);
    }

    /** Times {@code id} out (only it is ticked) and lets the election run to the end. */
    void campaign(int id) {
        nodes.get(id).tickUntilCampaign();
        stabilize();
    }

    /** Proposes on {@code leader} and replicates until quiet. */
    void propose(int leader, String command) {
        assertThat(nodes.get(leader).propose(command)).isInstanceOf(ProposeOutcome.Accepted.class);
        stabilize();
    }

    <T extends Message> List<T> delivered(Class<T> type) {
        return NodeHarness.ofType(delivered, type);
    }
}
