package io.flotilla.core.sim;

import io.flotilla.core.protocol.RaftConfig;
import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * One run's shape, drawn from its seed: cluster size, protocol settings, and which faults are on and
 * how hard they hit. Swarm testing (Groce et al., 2012): leaving some faults out lets the others
 * reach states they would otherwise rarely get to.
 *
 * @param tickInterval  virtual time between two ticks, per node (index 0 is node 1)
 * @param maxDelay      the usual network delay is 1..maxDelay
 * @param slowRate      share of messages delayed by up to {@link #slowDelay}
 * @param faultInterval mean virtual time between discrete faults (partitions, crashes, transfers)
 * @param ioCrashRate   chance that a node crashes at each point of a disk write
 * @param snapshotEvery a node takes a snapshot every this many applied entries (0: never)
 * @param snapshotTrail entries kept in the log behind a snapshot
 */
record Swarm(int nodes, Set<FaultKind> faults, RaftConfig raft, int[] tickInterval, double dropRate,
             double duplicateRate, int maxDelay, double slowRate, int slowDelay, int faultInterval,
             double ioCrashRate, int clients, long clientTimeout, long snapshotEvery, long snapshotTrail) {
    static final int TICK = 10;

    static Swarm draw(SplittableRandom r) {
        int nodes = r.nextBoolean() ? 5 : 3;
        Set<FaultKind> faults = EnumSet.noneOf(FaultKind.class);
        for (FaultKind kind : FaultKind.values()) {
            if (kind != FaultKind.STATE_LOSS && kind != FaultKind.MEMBERSHIP && r.nextBoolean()) {
                faults.add(kind);
            }
        }
        int electionTicks = r.nextBoolean() ? 10 : r.nextInt(4, 16);
        RaftConfig raft = new RaftConfig(1, electionTicks, r.nextInt(1, Math.min(4, electionTicks / 2 + 1)),
                r.nextBoolean() ? r.nextInt(1, 5) : 64,
                r.nextBoolean() ? r.nextInt(1, 200) : 1 << 20,
                r.nextBoolean() ? r.nextInt(1, 8) : 4096,
                r.nextBoolean() ? r.nextInt(1, 4) : 4096,
                r.nextInt(4) != 0, r.nextInt(4) != 0, 1000);
        int[] tickInterval = new int[nodes];
        for (int i = 0; i < nodes; i++) {
            tickInterval[i] = faults.contains(FaultKind.CLOCK_SKEW) ? r.nextInt(TICK * 2 / 3, TICK * 3 / 2 + 1) : TICK;
        }
        long electionTime = (long) electionTicks * TICK;
        Swarm drawn = new Swarm(nodes, faults, raft, tickInterval,
                rate(r, faults, FaultKind.DROP, 0.3),
                rate(r, faults, FaultKind.DUPLICATE, 0.2),
                r.nextInt(1, 3 * TICK),
                rate(r, faults, FaultKind.DELAY, 0.1),
                (int) (r.nextBoolean() ? 3 * electionTime : 30 * electionTime),
                r.nextInt((int) electionTime / 2, (int) electionTime * 8),
                rate(r, faults, FaultKind.CRASH_IN_IO, r.nextBoolean() ? 0.002 : 0.02),
                r.nextInt(1, 7),
                4 * electionTime, 0, 0);
        // Drawn last, so the rest of a seed's shape is what it was before snapshots were simulated.
        // Mostly very often, so that followers keep needing InstallSnapshot; sometimes rarely; sometimes never.
        int snapshots = r.nextInt(8);
        long every = snapshots == 0 ? 0 : snapshots <= 5 ? r.nextInt(5, 51) : r.nextInt(50, 301);
        long trail = every == 0 ? 0 : snapshots <= 5 ? r.nextInt(0, 11) : r.nextInt(0, 101);
        // State loss is drawn after everything else for the same reason.
        Set<FaultKind> withLoss = EnumSet.copyOf(faults);
        if (faults.contains(FaultKind.CRASH) && r.nextInt(3) == 0) {
            withLoss.add(FaultKind.STATE_LOSS);
        }
        // Membership changes likewise, in half the runs, with a learner caught up within 0 to 19 entries.
        if (r.nextBoolean()) {
            withLoss.add(FaultKind.MEMBERSHIP);
            drawn = drawn.withRaft(raft.withCatchUpEntries(r.nextInt(20)));
        }
        return drawn.withSnapshots(every, trail, withLoss);
    }

    private Swarm withSnapshots(long every, long trail, Set<FaultKind> faults) {
        return new Swarm(nodes, faults, raft, tickInterval, dropRate, duplicateRate, maxDelay, slowRate, slowDelay, faultInterval,
                ioCrashRate, clients, clientTimeout, every, trail);
    }

    private Swarm withRaft(RaftConfig newRaft) {
        return new Swarm(nodes, faults, newRaft, tickInterval, dropRate, duplicateRate, maxDelay, slowRate, slowDelay, faultInterval,
                ioCrashRate, clients, clientTimeout, snapshotEvery, snapshotTrail);
    }

    private static double rate(SplittableRandom r, Set<FaultKind> faults, FaultKind kind, double max) {
        return faults.contains(kind) ? r.nextDouble() * max : 0;
    }

    RaftConfig raftFor(int id) {
        return new RaftConfig(id, raft.electionTicks(), raft.heartbeatTicks(), raft.maxInflight(), raft.maxBatchBytes(),
                raft.maxBatchEntries(), raft.maxApplyEntries(), raft.preVote(), raft.checkQuorum(), raft.catchUpEntries());
    }

    @Override
    public String toString() {
        return String.format("%d nodes, faults %s, drop %.2f, dup %.2f, delay 1..%d, slow %.2f up to %d, fault every ~%d, "
                        + "io crash %.3f, %d clients, %s; %s", nodes, faults, dropRate, duplicateRate, maxDelay, slowRate, slowDelay,
                faultInterval, ioCrashRate, clients,
                snapshotEvery == 0 ? "no snapshots" : "snapshot every " + snapshotEvery + " entries keeping " + snapshotTrail,
                raft);
    }
}
