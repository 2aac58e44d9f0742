package io.flotilla.core.sim;

import io.flotilla.core.message.Message;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The simulated network: decides each message's fate (lost, late, duplicated) from the run's fault
 * rates, and which links are cut. Nodes are numbered from 1.
 */
final class SimNetwork {
    private static final long[] LOST = {};

    private final Swarm swarm;
    private final SplittableRandom random;
    private final SimStats stats;
    /** cut[a][b]: messages from a to b are lost. */
    private final boolean[][] cut;
    private boolean calm;

    /** @param maxNodes the highest node id a run may use (founders, and nodes added later) */
    SimNetwork(Swarm swarm, SplittableRandom random, SimStats stats, int maxNodes) {
        this.swarm = swarm;
        this.random = random;
        this.stats = stats;
        this.cut = new boolean[maxNodes + 1][maxNodes + 1];
    }

    /** The delays after which copies of {@code m} arrive: none if it is lost. */
    long[] fate(Message m) {
        if (!connected(m.from(), m.to())) {
            return LOST;
        }
        if (calm) {
            return new long[] {delay()};
        }
        if (random.nextDouble() < swarm.dropRate()) {
            stats.fault(FaultKind.DROP);
            return LOST;
        }
        if (random.nextDouble() < swarm.duplicateRate()) {
            stats.fault(FaultKind.DUPLICATE);
            return new long[] {delay(), delay()};
        }
        return new long[] {delay()};
    }

    private long delay() {
        if (!calm && random.nextDouble() < swarm.slowRate()) {
            stats.fault(FaultKind.DELAY);
            return random.nextLong(1, swarm.slowDelay() + 1);
        }
        return random.nextLong(1, swarm.maxDelay() + 1);
    }

    boolean connected(int from, int to) {
        return !cut[from][to];
    }

    boolean isPartitioned() {
        for (boolean[] row : cut) {
            for (boolean c : row) {
                if (c) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Splits the nodes into two random sides (each non-empty). */
    String splitRandomly() {
        int n = swarm.nodes();
        boolean[] side = new boolean[n + 1];
        int mask = random.nextInt(1, (1 << n) - 1);
        for (int i = 1; i <= n; i++) {
            side[i] = (mask >> (i - 1) & 1) == 1;
        }
        for (int a = 1; a <= n; a++) {
            for (int b = 1; b <= n; b++) {
                cut[a][b] = side[a] != side[b];
            }
        }
        StringBuilder s = new StringBuilder("split");
        for (int i = 1; i <= n; i++) {
            s.append(side[i] ? " " + i : "");
        }
        return s.append(" |").append(splitRest(side)).toString();
    }

    private String splitRest(boolean[] side) {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i < side.length; i++) {
            s.append(side[i] ? "" : " " + i);
        }
        return s.toString();
    }

    void isolate(int node) {
        for (int other = 1; other < cut.length; other++) {
            if (other != node) {
                cut[node][other] = true;
                cut[other][node] = true;
            }
        }
    }

    /** Cuts one direction of one random link. */
    String cutOneWay() {
        int from = random.nextInt(1, swarm.nodes() + 1);
        int to = random.nextInt(1, swarm.nodes());
        if (to >= from) {
            to++;
        }
        cut[from][to] = true;
        return "cut " + from + " -> " + to;
    }

    void heal() {
        for (boolean[] row : cut) {
            Arrays.fill(row, false);
        }
    }

    /** From now on no message is lost, duplicated or slow. */
    void calm() {
        calm = true;
    }
}
