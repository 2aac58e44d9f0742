package io.flotilla.faults;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Injects one fault at a time into a {@link ProcessCluster} and undoes it: kills (SIGKILL, then a
 * restart on the same data directory), pauses (SIGSTOP/SIGCONT), partitions (cut proxies, in
 * REFUSE or BLACKHOLE mode) and membership changes made with {@code bin/flotilla-client member ...}
 * as an operator makes them (see {@link FaultKind}). Every random choice comes from the
 * {@link Random} it is given.
 *
 * <p>A membership change whose outcome the command line could not tell (no leader, unknown outcome,
 * a change already in progress) is retried for a while, and what happened is then read back from
 * {@code member list}. What a membership change should have done and did not (a removed node that
 * does not exit by itself with status 0, a change never made) is recorded as a {@linkplain #problems
 * problem}, for the test to fail on.
 */
final class Nemesis {
    /** How long one membership command may take, retries included, before the nemesis gives up on it. */
    static final Duration CHANGE_BOUND = Duration.ofSeconds(20);
    /** How long a removed node may take to notice and exit. */
    static final Duration EXIT_BOUND = Duration.ofSeconds(15);
    private static final int MAX_MEMBERS = 5;

    /** What a fault does when it ends; may fail. */
    private interface Undo {
        void run() throws IOException, InterruptedException;
    }

    private final ProcessCluster cluster;
    private final LongSupplier clock;
    private final List<Fault> faults = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final List<String> changes = new ArrayList<>();
    private Undo undo;
    private Fault active;

    Nemesis(ProcessCluster cluster, LongSupplier clock) {
        this.cluster = cluster;
        this.clock = clock;
    }

    /** Injects a fault of this kind; the leader is looked up first (a random member if none leads). */
    Fault inject(FaultKind kind, Random random) throws IOException, InterruptedException {
        if (active != null) {
            throw new IllegalStateException("heal " + active + " first");
        }
        List<Integer> ids = new ArrayList<>(cluster.members());
        int any = ids.get(random.nextInt(ids.size()));
        if (kind == FaultKind.ADD_LEARNER && ids.size() >= MAX_MEMBERS) {
            kind = FaultKind.REMOVE_FOLLOWER;
        } else if (kind == FaultKind.REMOVE_FOLLOWER && ids.size() <= 3
                || kind.changesMembership() && kind != FaultKind.ADD_LEARNER && ids.size() < 3) {
            kind = FaultKind.ADD_LEARNER; // never fewer than two voters: one more fault would then stop every write
        }
        boolean targetsLeader = kind == FaultKind.KILL_LEADER || kind == FaultKind.PAUSE_LEADER
                || kind == FaultKind.ISOLATE_LEADER || kind == FaultKind.ISOLATE_FOLLOWER || kind.changesMembership();
        Optional<Integer> knownLeader = targetsLeader ? cluster.leader() : Optional.empty();
        int leader = knownLeader.orElse(any);
        List<Integer> followers = new ArrayList<>(ids);
        followers.remove(Integer.valueOf(leader));
        LinkProxy.Mode how = random.nextBoolean() ? LinkProxy.Mode.REFUSE : LinkProxy.Mode.BLACKHOLE;
        long at = clock.getAsLong();
        String detail;
        switch (kind) {
            case KILL_LEADER, KILL_RANDOM -> {
                int victim = kind == FaultKind.KILL_LEADER ? leader : any;
                cluster.kill(victim);
                detail = "kill -9 node " + victim;
                undo = () -> cluster.start(victim);
            }
            case PAUSE_LEADER, PAUSE_RANDOM -> {
                int victim = kind == FaultKind.PAUSE_LEADER ? leader : any;
                cluster.pause(victim);
                detail = "SIGSTOP node " + victim;
                undo = () -> cluster.resume(victim);
            }
            case ISOLATE_LEADER -> {
                cluster.partition(Set.of(leader), how);
                detail = "isolate leader " + leader + " (" + how + ")";
                undo = cluster::healNetwork;
            }
            case ISOLATE_FOLLOWER -> {
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
            case REPLACE_FOLLOWER, REMOVE_FOLLOWER -> {
                int victim = followers.get(random.nextInt(followers.size()));
                detail = "member remove " + victim + " (follower)" + remove(victim);
                undo = kind == FaultKind.REPLACE_FOLLOWER ? () -> addFresh(false) : () -> { };
            }
            case REMOVE_LEADER -> {
                detail = "member remove " + leader + (knownLeader.isPresent() ? " (leader)" : " (no leader known)") + remove(leader);
                undo = () -> {
                    if (cluster.members().size() < 3) {
                        addFresh(false);
                    }
                };
            }
            case ADD_LEARNER -> {
                int id = addFresh(true);
                detail = "member add " + id + " --learner";
                undo = () -> promote(id);
            }
            default -> throw new AssertionError(kind);
        }
        active = new Fault(kind, detail, at, Long.MAX_VALUE);
        return active;
    }

    /** Undoes the active fault, if any. */
    void heal() {
        if (active == null) {
            return;
        }
        try {
            undo.run();
        } catch (IOException e) {
            throw new IllegalStateException("healing " + active, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            faults.add(active.healed(clock.getAsLong()));
            active = null;
            undo = null;
        }
    }

    /** Every fault injected and healed so far. */
    List<Fault> faults() {
        return List.copyOf(faults);
    }

    /** What membership changes should have done and did not; empty in a good run. */
    List<String> problems() {
        return List.copyOf(problems);
    }

    /** Every membership command run and how it ended, for the run's report. */
    List<String> changes() {
        return List.copyOf(changes);
    }

    // ---- membership changes, through bin/flotilla-client ---------------------------------------

    /** Removes {@code id}; once the change is in, expects its process to exit by itself with status 0. Returns a note. */
    private String remove(int id) throws IOException, InterruptedException {
        Cli.Result r = change("member", "remove", String.valueOf(id));
        Optional<Cli.Result> list = memberList();
        boolean gone = list.map(l -> l.removedIds().contains(id) && !l.kinds().containsKey(id)).orElse(r.ok());
        if (!gone) {
            problems.add("node " + id + " was not removed: " + r + "; member list: " + list.map(Object::toString).orElse("none"));
            return " not done (exit " + r.exit() + ")";
        }
        cluster.markRemoved(id);
        if (!cluster.isRunning(id)) {
            return ""; // not running (cannot happen with one fault at a time; harmless)
        }
        Optional<Integer> exit = cluster.awaitExit(id, EXIT_BOUND);
        if (exit.isEmpty()) {
            problems.add("node " + id + " was removed but still runs " + EXIT_BOUND.toSeconds() + " s later; log tail:\n"
                    + cluster.tail(id, 20));
            cluster.kill(id);
            return ", did not exit";
        }
        if (exit.get() != 0) {
            problems.add("node " + id + " was removed and exited with status " + exit.get() + ", not 0; log tail:\n"
                    + cluster.tail(id, 20));
        }
        return ", exited " + exit.get();
    }

    /**
     * Starts a fresh node under a new id with {@code --join} (naming the leader if one is known) and
     * adds it: as a learner, or as a joining member waited for until it votes. Returns its id.
     */
    private int addFresh(boolean learner) throws IOException, InterruptedException {
        int via = cluster.leader().orElse(cluster.members().first());
        int id = cluster.newNode(via);
        cluster.start(id);
        String address = cluster.address(id);
        Cli.Result r = learner ? change("member", "add", String.valueOf(id), address, "--learner")
                : change("member", "add", String.valueOf(id), address, "--wait", "--timeout", "15s");
        Optional<Cli.Result> list = memberList();
        boolean added = list.map(l -> l.kinds().containsKey(id)).orElse(r.ok());
        if (added) {
            cluster.markAdded(id);
        } else {
            problems.add("node " + id + " was not added: " + r + "; member list: " + list.map(Object::toString).orElse("none"));
            cluster.kill(id);
            cluster.markRemoved(id); // never a member: nothing to restart
        }
        return id;
    }

    private void promote(int id) throws IOException, InterruptedException {
        if (!cluster.members().contains(id)) {
            return;
        }
        Cli.Result r = change("member", "promote", String.valueOf(id));
        Optional<Cli.Result> list = memberList();
        boolean voter = list.map(l -> "voter".equals(l.kinds().get(id))).orElse(r.ok());
        if (!voter) {
            problems.add("learner " + id + " was not promoted: " + r + "; member list: " + list.map(Object::toString).orElse("none"));
        }
    }

    /**
     * Runs a membership command until it succeeds or is refused for good, for up to
     * {@link #CHANGE_BOUND}: no leader (3), an unknown outcome (5) and refusals that pass (a change in
     * progress, a learner not caught up yet) are tried again. A command that keeps being refused for
     * another reason, or that was applied by an attempt whose answer was lost ("already a member",
     * "removed already"), ends; the caller reads {@code member list} to learn what happened.
     */
    private Cli.Result change(String... args) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + CHANGE_BOUND.toNanos();
        Cli.Result r;
        int attempts = 0;
        do {
            attempts++;
            r = cluster.cli(Duration.ofSeconds(30), args);
            if (r.ok()) {
                break;
            }
            String why = r.error().toLowerCase();
            boolean passes = r.exit() == 3 || r.exit() == 5
                    || (r.exit() == 4 && (why.contains("progress") || why.contains("caught up") || why.contains("retry")));
            if (!passes) {
                break;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        changes.add(String.format("[%7.2fs] %s (%d attempt%s)", clock.getAsLong() / 1e9, r, attempts, attempts == 1 ? "" : "s"));
        return r;
    }

    /** {@code member list}, tried for a few seconds. */
    Optional<Cli.Result> memberList() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            Cli.Result r = cluster.cli(Duration.ofSeconds(20), "member", "list");
            if (r.ok() && r.json() != null) {
                return Optional.of(r);
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }
}
