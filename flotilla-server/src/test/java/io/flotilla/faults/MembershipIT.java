package io.flotilla.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Bytes;
import io.flotilla.core.check.CheckResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The membership procedures of the README, with real processes started by {@code bin/flotilla-server}
 * and changed with {@code bin/flotilla-client member ...} exactly as an operator types them: grow
 * 3 -> 5 and shrink 5 -> 3 under load, replace a member whose disk was lost, remove the leader. Under
 * load, a few {@link HistoryRecorder} clients read, write unique values and CAS; the history must be
 * linearizable, no acknowledged write lost, and writes acknowledged throughout each change: each
 * test prints the longest stretch without an acknowledged write during each change.
 */
class MembershipIT {
    /** Writes must keep being acknowledged during a change: no stretch without one longer than this. */
    private static final Duration MAX_STRETCH = Duration.ofSeconds(3);
    private static final Duration CHANGE_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ProcessCluster cluster;
    private HistoryRecorder recorder;
    private final List<Change> changes = new ArrayList<>();

    /** One membership change: the command, when it ran on the recorder's clock, and how long it took. */
    private record Change(String what, long startedAt, long endedAt, long cliMillis) {
    }

    @AfterEach
    void stopEverything(TestInfo test) {
        if (recorder != null) {
            recorder.close();
        }
        if (cluster != null) {
            cluster.close();
            cluster.keepLogs(Path.of("target", "faults-logs", "membership-" + test.getTestMethod().orElseThrow().getName()));
        }
    }

    @Test
    void growFromThreeToFiveAndShrinkBackToThreeUnderLoad() throws Exception {
        startCluster(List.of());
        startLoad();
        awaitWrites(50);

        for (int n = 0; n < 2; n++) {
            int id = cluster.newNode(cluster.leader().orElse(1));
            cluster.start(id);
            assertThat(Poll.within(Duration.ofSeconds(30), () -> cluster.logText(id).contains("member add " + id)))
                    .as("node %d says which command adds it; its log:%n%s", id, cluster.tail(id, 20)).isTrue();
            Cli.Result add = change("member add " + id + " --wait", "member", "add", String.valueOf(id), cluster.address(id), "--wait",
                    "--timeout", "30s");
            assertThat(add.exit()).as("%s", add).isZero();
            cluster.markAdded(id);
            assertThat(memberList().kinds()).as("node %d votes once member add --wait returns", id).containsEntry(id, "voter");
            awaitWrites(20);
        }
        assertThat(memberList().kinds().values()).as("five voters").containsExactly("voter", "voter", "voter", "voter", "voter");

        // Shrink by removing two of the founders (followers), so that the data lives on in nodes that joined.
        for (int n = 0; n < 2; n++) {
            int leader = cluster.leader().orElseThrow();
            int victim = cluster.members().stream().filter(id -> id != leader && id <= 3).findFirst().orElseThrow();
            removeAndExpectExit(victim);
            awaitWrites(20);
        }
        Cli.Result list = memberList();
        assertThat(list.kinds()).as("%s", list).hasSize(3).allSatisfy((id, kind) -> assertThat(kind).isEqualTo("voter"));
        assertThat(list.kinds().keySet()).containsExactlyElementsOf(cluster.members());
        assertThat(list.removedIds()).containsExactlyElementsOf(cluster.removed());

        finishAndCheck();
    }

    /**
     * The README's first steps: a brand-new cluster with a handful of writes (its log far shorter
     * than the leader's catch-up distance) grows by one node with {@code member add --wait}.
     * The new node must be a live voter afterwards, holding the data (once, on an idle cluster built
     * with {@code bin/flotilla-cluster --no-fsync}, the leader promoted a joining node before it had
     * answered, and the node halted with status 70 on seeing itself a voter: not reproduced since).
     */
    @Test
    void addAMemberToAYoungCluster() throws Exception {
        startCluster(List.of());
        try (FlotillaClient client = FlotillaClient.create(cluster.clientOptions())) {
            for (int i = 0; i < 20; i++) {
                client.set(key(i), "value-" + i);
            }
        }
        int id = cluster.newNode(cluster.leader().orElse(1));
        cluster.start(id);
        assertThat(Poll.within(Duration.ofSeconds(30), () -> cluster.logText(id).contains("member add " + id))).isTrue();
        Cli.Result add = cluster.cli(CHANGE_TIMEOUT, "member", "add", String.valueOf(id), cluster.address(id), "--wait");
        assertThat(add.exit()).as("%s", add).isZero();
        cluster.markAdded(id);
        awaitApplied(id);
        assertThat(cluster.isRunning(id)).as("node %d still runs; its log:%n%s", id, cluster.tail(id, 10)).isTrue();
        Cli.Result read = Cli.exec(List.of(Cli.script().toString(), "--cluster", cluster.clientAddress(id), "-o", "json", "get", "--stale",
                key(19)), null, Duration.ofSeconds(30));
        assertThat(read.json().path("value").asText()).as("%s", read).isEqualTo("value-19");
    }

    @Test
    void replaceAMemberWhoseDiskWasLost() throws Exception {
        // Snapshots every 500 entries, so that the leader has compacted its log: a new member can only catch up by snapshot.
        startCluster(List.of("--snapshot-entries", "500"));
        int keys = 3000;
        try (FlotillaClient client = FlotillaClient.create(cluster.clientOptions().withDeadline(Duration.ofSeconds(10)))) {
            for (int batch = 0; batch < keys; batch += 100) {
                List<CompletableFuture<?>> writes = new ArrayList<>();
                for (int i = batch; i < batch + 100; i++) {
                    writes.add(client.setAsync(Bytes.utf8(key(i)), Bytes.utf8("value-" + i)));
                }
                CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
            }
        }
        int leader = cluster.leader().orElseThrow();
        assertThat(cluster.logText(leader)).as("the leader took a snapshot and compacted its log").contains("snapshot at index");

        // Node 3's disk is lost.
        cluster.kill(3);
        cluster.wipe(3);

        // The wrong way back: node 3 started blank under its own id, as a joining node. It is still a
        // voter in the configuration, so it halts rather than take part with a forgotten vote and log.
        cluster.start(3, cluster.address(leader == 3 ? 1 : leader));
        Optional<Integer> halted = cluster.awaitExit(3, Duration.ofSeconds(30));
        assertThat(halted).as("node 3 started blank under the id of a voter halts; its log:%n%s", cluster.tail(3, 20)).contains(70);
        cluster.wipe(3);

        // The procedure: remove node 3, start a fresh node under a new id with --join, add it.
        long t0 = System.nanoTime();
        Cli.Result remove = cluster.cli(CHANGE_TIMEOUT, "member", "remove", "3");
        assertThat(remove.exit()).as("%s", remove).isZero();
        cluster.markRemoved(3);
        int fresh = cluster.newNode(cluster.leader().orElse(1));
        cluster.start(fresh);
        Cli.Result add = cluster.cli(CHANGE_TIMEOUT, "member", "add", String.valueOf(fresh), cluster.address(fresh), "--wait",
                "--timeout", "30s");
        long procedureMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(add.exit()).as("%s", add).isZero();
        cluster.markAdded(fresh);
        System.out.printf("[membership] replace a lost disk: member remove 3 took %d ms, member add %d --wait %d ms"
                + " (%d keys, caught up by snapshot); the whole procedure, node start included, %d ms%n",
                remove.millis(), fresh, add.millis(), keys, procedureMs);

        Cli.Result list = memberList();
        assertThat(list.kinds()).as("%s", list).containsEntry(fresh, "voter").doesNotContainKey(3).hasSize(3);
        assertThat(list.removedIds()).contains(3);
        assertThat(cluster.logText(fresh)).as("node %d caught up by snapshot", fresh)
                .contains("node " + fresh + ": installed the snapshot at index");

        // Every key is on the new node: stale reads aimed at it alone, through one shell.
        awaitApplied(fresh);
        StringBuilder script = new StringBuilder();
        for (int i = 0; i < keys; i++) {
            script.append("get --stale ").append(key(i)).append('\n');
        }
        Cli.Result reads = Cli.exec(List.of(Cli.script().toString(), "--cluster", cluster.clientAddress(fresh), "-o", "json", "shell"),
                script.toString(), Duration.ofSeconds(60));
        List<JsonNode> answers = Cli.jsonLines(reads.stdout());
        assertThat(answers).as("one answer per read; stderr: %s", reads.stderr()).hasSize(keys);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            JsonNode a = answers.get(i);
            if (!key(i).equals(a.path("key").asText()) || !("value-" + i).equals(a.path("value").asText())) {
                wrong.add(a.toString());
            }
        }
        assertThat(wrong).as("keys missing or wrong on node %d", fresh).isEmpty();
        assertThat(reads.exit()).as("%s", reads).isZero();

        // The old node, blank, under its removed id: never a member again.
        cluster.start(3, cluster.address(cluster.leader().orElse(1)));
        Cli.Result again = cluster.cli(CHANGE_TIMEOUT, "member", "add", "3", cluster.address(3));
        assertThat(again.exit()).as("%s", again).isEqualTo(4);
        assertThat(again.error()).as("%s", again).contains("removed");
        // It asks the member it joins through, finds its id removed, and stops at once saying so.
        Optional<Integer> exited = cluster.awaitExit(3, Duration.ofSeconds(30));
        assertThat(exited).as("node 3 under its removed id stops; its log:%n%s", cluster.tail(3, 20)).contains(70);
        assertThat(cluster.logText(3)).contains("node 3 was removed from this cluster, and an id is never used twice");
        assertThat(memberList().kinds()).doesNotContainKey(3);
        cluster.kill(3);
    }

    @Test
    void removeTheLeader() throws Exception {
        startCluster(List.of());
        startLoad();
        awaitWrites(50);

        int leader = cluster.leader().orElseThrow();
        long start = recorder.now();
        removeAndExpectExit(leader);
        long exitedAt = recorder.now();
        Optional<Integer> next = cluster.awaitLeader(Duration.ofSeconds(10));
        assertThat(next).as("a new leader among the others").isPresent().get().isNotEqualTo(leader);
        System.out.printf("[membership] remove the leader %d: it exited %d ms after member remove began; node %d leads%n", leader,
                (exitedAt - start) / 1_000_000, next.get());
        awaitWrites(50);

        // Back to three: a fresh node in its place.
        int id = cluster.newNode(next.get());
        cluster.start(id);
        Cli.Result add = change("member add " + id + " --wait", "member", "add", String.valueOf(id), cluster.address(id), "--wait",
                "--timeout", "30s");
        assertThat(add.exit()).as("%s", add).isZero();
        cluster.markAdded(id);
        awaitWrites(20);
        Cli.Result list = memberList();
        assertThat(list.kinds()).as("%s", list).hasSize(3).allSatisfy((n, kind) -> assertThat(kind).isEqualTo("voter"));
        assertThat(list.removedIds()).contains(leader);

        finishAndCheck();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String key(int i) {
        return String.format("key-%04d", i);
    }

    private void startCluster(List<String> extraArgs) throws Exception {
        cluster = new ProcessCluster(dir, new ProcessCluster.Options(3, false, extraArgs));
        cluster.startAll();
        assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).as("a first leader").isPresent();
    }

    /** Three clients of the fault suite's workload, on the members of the moment. */
    /** Lets the load run until the cluster acknowledged {@code more} further writes: history on both sides of what comes next. */
    private void awaitWrites(int more) {
        long before = acknowledgedWrites();
        Poll.until(Duration.ofSeconds(60), more + " more acknowledged writes", () -> acknowledgedWrites() >= before + more);
    }

    private long acknowledgedWrites() {
        return recorder.recorded().stream().filter(HistoryRecorder.Recorded::acknowledgedWrite).count();
    }

    private void startLoad() {
        long seed = System.nanoTime();
        System.out.println("[membership] load seed " + seed);
        recorder = new HistoryRecorder(cluster::clientOptions, 3, 4, 60, seed);
        recorder.start();
    }

    /** Runs a membership command under load, timed on the recorder's clock. */
    private Cli.Result change(String what, String... args) throws Exception {
        long start = recorder.now();
        Cli.Result r = cluster.cli(CHANGE_TIMEOUT, args);
        changes.add(new Change(what, start, recorder.now(), r.millis()));
        return r;
    }

    /** {@code member remove ID}; the node logs that it was removed and exits by itself with status 0. */
    private void removeAndExpectExit(int victim) throws Exception {
        long start = recorder != null ? recorder.now() : 0;
        Cli.Result r = cluster.cli(CHANGE_TIMEOUT, "member", "remove", String.valueOf(victim));
        assertThat(r.exit()).as("%s", r).isZero();
        cluster.markRemoved(victim);
        Optional<Integer> exit = cluster.awaitExit(victim, Duration.ofSeconds(15));
        assertThat(exit).as("node %d exits by itself once removed; its log:%n%s", victim, cluster.tail(victim, 20)).contains(0);
        assertThat(cluster.logText(victim)).contains("node " + victim + " was removed from the cluster at index");
        if (recorder != null) {
            changes.add(new Change("member remove " + victim, start, recorder.now(), r.millis()));
        }
    }

    private Cli.Result memberList() throws Exception {
        Cli.Result r = cluster.cli(CHANGE_TIMEOUT, "member", "list");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(r.json()).as("%s", r).isNotNull();
        return r;
    }

    /** Waits until node {@code id} has applied everything the leader had committed when asked. */
    private void awaitApplied(int id) throws Exception {
        long commit = cluster.statuses().values().stream().filter(s -> "LEADER".equals(s.role()))
                .mapToLong(NodeStatus::commitIndex).max().orElseThrow();
        assertThat(Poll.within(Duration.ofSeconds(20),
                () -> cluster.status(id).map(s -> s.appliedIndex() >= commit).orElse(false)))
                .as("node %d applies up to %d: %s", id, commit, cluster.status(id)).isTrue();
    }

    /**
     * Lets the load run a little longer, then: the cluster serves, every key reads back, nothing
     * acknowledged is lost, the history is linearizable, and no change stopped the writes for longer
     * than {@link #MAX_STRETCH} (each change's longest stretch without an acknowledged write is printed).
     */
    private void finishAndCheck() throws Exception {
        awaitWrites(50);
        long endedAt = recorder.now();
        Verdict verdict = Verdict.reach(cluster, recorder, Duration.ofSeconds(30));
        List<Long> acks = verdict.acknowledgements();
        System.out.printf("[membership] %d operations, %d acknowledged writes in %.1f s; check: %s (%d ms)%n", verdict.history().size(),
                acks.size(), endedAt / 1e9, verdict.check().verdict(), verdict.checkMillis());
        Map<String, Long> stretches = new java.util.LinkedHashMap<>();
        for (Change c : changes) {
            long stretch = Summary.longestGap(acks, c.startedAt(), c.endedAt()) / 1_000_000;
            stretches.put(c.what(), stretch);
            System.out.printf("[membership] %-24s took %5d ms (command line, JVM start included); longest stretch without an"
                    + " acknowledged write during it: %5d ms%n", c.what(), c.cliMillis(), stretch);
        }
        if (!verdict.good()) {
            cluster.ids().forEach(id -> System.out.println("---- node " + id + " log tail\n" + cluster.tail(id, 40)));
        }
        assertThat(verdict.served()).as("the cluster serves at the end").isTrue();
        assertThat(verdict.unread()).as("keys whose final read never succeeded").isEmpty();
        assertThat(verdict.lost()).as("keys with acknowledged writes that read as absent at the end").isEmpty();
        assertThat(verdict.check().verdict()).as("%s", verdict.check()).isEqualTo(CheckResult.Verdict.LINEARIZABLE);
        assertThat(stretches).as("longest stretch without an acknowledged write (ms) during each change")
                .allSatisfy((what, ms) -> assertThat(ms).isLessThan(MAX_STRETCH.toMillis()));
    }
}
