package io.flotilla.faults;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Injects one fault at a time into a {@link ProcessCluster} and undoes it: kills (SIGKILL, then a
 * restart on the same data directory), pauses (SIGSTOP/SIGCONT) and partitions (cut proxies, in
 * REFUSE or BLACKHOLE mode). Every random choice comes from the {@link Random} it is given.
 */
final class Nemesis {
    private final ProcessCluster cluster;
    private final LongSupplier clock;
    private final List<Fault> faults = new ArrayList<>();
    private Runnable undo;
    private Fault active;

    Nemesis(ProcessCluster cluster, LongSupplier clock) {
        this.cluster = cluster;
        this.clock = clock;
    }

    /** Injects a fault of this kind; the leader is looked up first (a random node if none leads). */
    Fault inject(FaultKind kind, Random random) throws IOException, InterruptedException {
        if (active != null) {
            throw new IllegalStateException("heal " + active + " first");
        }
        List<Integer> ids = new ArrayList<>(cluster.ids());
        int any = ids.get(random.nextInt(ids.size()));
        boolean targetsLeader = kind == FaultKind.KILL_LEADER || kind == FaultKind.PAUSE_LEADER
                || kind == FaultKind.ISOLATE_LEADER || kind == FaultKind.ISOLATE_FOLLOWER;
        int leader = targetsLeader ? cluster.leader().orElse(any) : any;
        LinkProxy.Mode how = random.nextBoolean() ? LinkProxy.Mode.REFUSE : LinkProxy.Mode.BLACKHOLE;
        String detail;
        switch (kind) {
            case KILL_LEADER, KILL_RANDOM -> {
                int victim = kind == FaultKind.KILL_LEADER ? leader : any;
                cluster.kill(victim);
                detail = "kill -9 node " + victim;
                undo = () -> restart(victim);
            }
            case PAUSE_LEADER, PAUSE_RANDOM -> {
                int victim = kind == FaultKind.PAUSE_LEADER ? leader : any;
                cluster.pause(victim);
                detail = "SIGSTOP node " + victim;
                undo = () -> resume(victim);
            }
            case ISOLATE_LEADER -> {
                cluster.partition(Set.of(leader), how);
                detail = "isolate leader " + leader + " (" + how + ")";
                undo = cluster::healNetwork;
            }
            case ISOLATE_FOLLOWER -> {
                List<Integer> followers = new ArrayList<>(ids);
                followers.remove(Integer.valueOf(leader));
                int victim = followers.get(random.nextInt(followers.size()));
                cluster.partition(Set.of(victim), how);
                detail = "isolate follower " + victim + " (" + how + ")";
                undo = cluster::healNetwork;
            }
            case SPLIT -> {
                List<Integer> shuffled = new ArrayList<>(ids);
                java.util.Collections.shuffle(shuffled, random);
                Set<Integer> minority = new TreeSet<>(shuffled.subList(0, (ids.size() - 1) / 2));
                Set<Integer> majority = new TreeSet<>(shuffled.subList((ids.size() - 1) / 2, ids.size()));
                cluster.partition(minority, how);
                detail = "split " + minority + " | " + majority + " (" + how + ")";
                undo = cluster::healNetwork;
            }
            default -> throw new AssertionError(kind);
        }
        active = new Fault(kind, detail, clock.getAsLong(), Long.MAX_VALUE);
        return active;
    }

    /** Undoes the active fault, if any. */
    void heal() {
        if (active == null) {
            return;
        }
        undo.run();
        faults.add(active.healed(clock.getAsLong()));
        active = null;
        undo = null;
    }

    /** Every fault injected and healed so far. */
    List<Fault> faults() {
        return List.copyOf(faults);
    }

    private void restart(int id) {
        try {
            cluster.start(id);
        } catch (IOException e) {
            throw new IllegalStateException("restarting node " + id, e);
        }
    }

    private void resume(int id) {
        try {
            cluster.resume(id);
        } catch (IOException e) {
            throw new IllegalStateException("resuming node " + id, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
