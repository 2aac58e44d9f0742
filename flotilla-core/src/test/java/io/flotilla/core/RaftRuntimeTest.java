package io.flotilla.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import java.io.IOException;
import java.io.InputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The runtime on real threads and wall-clock ticks, three nodes over {@link LocalNetwork}. The
 * protocol's timing-dependent rules are proven in virtual time elsewhere; these tests check the
 * threading, the futures and the wiring, waiting on conditions with deadlines rather than sleeps.
 */
class RaftRuntimeTest {
    /** Appends each command to a list; queries return the list's size. */
    static final class Journal implements StateMachine<Long, String, Long> {
        final List<Long> applied = new ArrayList<>();
        /** The threads that applied commands: the node's own, or its loop's. */
        final java.util.Set<Thread> appliers = java.util.concurrent.ConcurrentHashMap.newKeySet();
        /** While set, the snapshot writer waits for it before writing (a slow snapshot). */
        volatile CountDownLatch snapshotGate;
        /** Applying this command signals {@link #applying} and waits for {@link #release}. */
        volatile Long blockAt;
        volatile CountDownLatch applying;
        volatile CountDownLatch release;

        @Override
        public Long apply(long index, Long command) {
            if (command.equals(blockAt)) {
                applying.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            appliers.add(Thread.currentThread());
            synchronized (this) {
                applied.add(command);
                return (long) applied.size();
            }
        }

        @Override
        public Long query(String query) {
            return (long) applied.size();
        }

        @Override
        public synchronized Snapshot snapshot() {
            List<Long> copy = List.copyOf(applied);
            CountDownLatch gate = snapshotGate;
            return out -> {
                if (gate != null) {
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                DataOutputStream data = new DataOutputStream(out);
                data.writeInt(copy.size());
                for (long v : copy) {
                    data.writeLong(v);
                }
                data.flush();
            };
        }

        @Override
        public synchronized void restore(InputStream in) throws IOException {
            DataInputStream data = new DataInputStream(in);
            applied.clear();
            int n = data.readInt();
            for (int i = 0; i < n; i++) {
                applied.add(data.readLong());
            }
        }

        synchronized List<Long> copy() {
            return List.copyOf(applied);
        }
    }

    static final Codec<Long> LONGS = new Codec<>() {
        @Override
        public Bytes encode(Long value) {
            return Bytes.wrap(ByteBuffer.allocate(8).putLong(value).array());
        }

        @Override
        public Long decode(Bytes bytes) {
            return ByteBuffer.wrap(bytes.unsafeArray()).getLong();
        }
    };

    private final LocalNetwork network = new LocalNetwork();
    private final Map<Integer, RaftRuntime<Long, String, Long>> nodes = new TreeMap<>();
    private final Map<Integer, Journal> journals = new TreeMap<>();
    private final Map<Integer, FaultyStorage> storages = new TreeMap<>();
    private final Map<Integer, RecordedMetrics> metrics = new TreeMap<>();
    private long snapshotEvery;

    private void startCluster() {
        ClusterConfig cluster = ClusterConfig.of(1, 2, 3);
        for (int id : cluster.voters()) {
            FaultyStorage storage = new FaultyStorage();
            storage.bootstrap(cluster);
            storages.put(id, storage);
            start(id);
        }
    }

    /** Starts node {@code id} on its storage with an empty journal, which a snapshot and the log refill. */
    private void start(int id) {
        start(id, null);
    }

    /** As above, on {@code loop} if it is not null (as the server runs a node on its event loop). */
    private void start(int id, ScheduledExecutorService loop) {
        Journal journal = new Journal();
        journals.put(id, journal);
        RaftRuntime.Options options = new RaftRuntime.Options(RaftConfig.defaults(id), Duration.ofMillis(10), 4096, id)
                .withSnapshots(snapshotEvery, 10)
                .withMetrics(metrics.computeIfAbsent(id, k -> new RecordedMetrics()));
        if (loop != null) {
            options = options.withLoop(loop);
        }
        nodes.put(id, RaftRuntime.start(options, journal, LONGS, storages.get(id), network.transport(id)));
    }

    private final List<ScheduledExecutorService> loops = new ArrayList<>();

    /** Three nodes, each on a single-threaded executor of the test's, whose thread's name says whose it is. */
    private Map<Integer, Thread> startClusterOnLoops() throws Exception {
        Map<Integer, Thread> threads = new TreeMap<>();
        ClusterConfig cluster = ClusterConfig.of(1, 2, 3);
        for (int id : cluster.voters()) {
            ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "test-loop-" + id));
            loops.add(loop);
            threads.put(id, loop.submit(Thread::currentThread).get(5, TimeUnit.SECONDS));
            FaultyStorage storage = new FaultyStorage();
            storage.bootstrap(cluster);
            storages.put(id, storage);
            start(id, loop);
        }
        return threads;
    }

    @AfterEach
    void stop() {
        nodes.values().forEach(RaftRuntime::close);
        loops.forEach(ScheduledExecutorService::shutdownNow);
    }

    @Test
    void aNodeOnAnEmbeddersLoopAppliesAndAnswersOnThatLoopAndLeavesTheLoopRunningWhenClosed() throws Exception {
        Map<Integer, Thread> threads = startClusterOnLoops();
        int leader = awaitLeader();
        List<CompletableFuture<Long>> results = new ArrayList<>();
        for (long i = 0; i < 500; i++) {
            results.add(nodes.get(leader).propose(i));
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        assertThat(results.stream().map(CompletableFuture::join).sorted().toList())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 500).boxed().toList());
        await(() -> journals.values().stream().allMatch(j -> j.copy().size() == 500), "every node applied all");
        threads.forEach((id, thread) -> assertThat(journals.get(id).appliers).as("node %d applies on its loop", id)
                .containsExactly(thread));

        // Closing stops the node, not the embedder's loop, which goes on running other work.
        nodes.get(leader).close();
        assertThat(nodes.get(leader).propose(1L)).failsWithin(Duration.ofSeconds(1));
        assertThat(loops.get(leader - 1).submit(() -> "still running").get(5, TimeUnit.SECONDS)).isEqualTo("still running");
        int next = awaitLeader();
        assertThat(nodes.get(next).propose(7L).get(10, TimeUnit.SECONDS)).isEqualTo(501L);
    }

    @Test
    void closingANodeFromItsOwnLoopDoesNotWaitForItself() throws Exception {
        startClusterOnLoops();
        int leader = awaitLeader();
        nodes.get(leader).propose(1L).get(5, TimeUnit.SECONDS);
        // A callback of the node runs on its loop; closing from there must not wait for the loop to be free.
        CompletableFuture<Void> closed = nodes.get(leader).propose(2L).thenRun(() -> nodes.get(leader).close());
        closed.get(5, TimeUnit.SECONDS);
        assertThat(nodes.get(leader).status().role()).isEqualTo(Role.FOLLOWER);
        assertThat(nodes.get(leader).propose(3L)).failsWithin(Duration.ofSeconds(1));
    }

    @Test
    void electsOneLeaderAndReplicatesConcurrentProposalsToEveryNode() throws Exception {
        startCluster();
        int leader = awaitLeader();
        List<CompletableFuture<Long>> results = new ArrayList<>();
        for (long i = 0; i < 2000; i++) {
            results.add(nodes.get(leader).propose(i));
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        // Each result is the journal's length after applying: together they are 1..2000, each once.
        assertThat(results.stream().map(CompletableFuture::join).sorted().toList())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 2000).boxed().toList());
        assertThat(nodes.get(leader).read("size").get(5, TimeUnit.SECONDS)).isEqualTo(2000L);
        await(() -> journals.values().stream().allMatch(j -> j.copy().size() == 2000), "every node applied all");
        List<Long> expected = journals.get(leader).copy();
        journals.values().forEach(j -> assertThat(j.copy()).isEqualTo(expected));
    }

    @Test
    void aDiskThatTakesLongerToSyncThanTheElectionTimeoutCostsNoLeadership() throws Exception {
        startCluster();
        int leader = awaitLeader();
        long term = nodes.get(leader).status().term();
        // Elections start after 100-200 ms without a heartbeat, and a leader that hears from no quorum for
        // 100 ms steps down. Every sync now takes 300 ms: first the leader's, then the followers'.
        for (int round = 0; round < 6; round++) {
            int slowFromRound = round;
            storages.forEach((id, s) -> s.syncMillis = (id == leader) == (slowFromRound < 3) ? 300 : 0);
            List<CompletableFuture<Long>> writes = new ArrayList<>();
            for (long i = 0; i < 50; i++) {
                writes.add(nodes.get(leader).propose(i));
            }
            writes.add(nodes.get(leader).read("size").thenApply(size -> size));
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        }
        storages.values().forEach(s -> s.syncMillis = 0);
        for (var node : nodes.values()) {
            assertThat(node.status().term()).as("node %d's term", node.status().id()).isEqualTo(term);
        }
        assertThat(nodes.get(leader).status().role()).isEqualTo(Role.LEADER);
        assertThat(nodes.get(leader).read("size").get(5, TimeUnit.SECONDS)).isEqualTo(300L);
    }

    @Test
    void followerRefusesProposalsAndReadsNamingTheLeader() throws Exception {
        startCluster();
        int leader = awaitLeader();
        int follower = leader == 1 ? 2 : 1;
        await(() -> nodes.get(follower).status().leader() == leader, "follower knows the leader");
        assertThatThrownBy(() -> nodes.get(follower).read("size").get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(NotLeaderException.class)
                .satisfies(e -> assertThat(((NotLeaderException) e).leader()).isEqualTo(leader));
        assertThatThrownBy(() -> nodes.get(follower).propose(7L).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(NotLeaderException.class);
    }

    @Test
    void isolatedLeaderIsReplacedAndTheMajorityKeepsServing() throws Exception {
        startCluster();
        int old = awaitLeader();
        nodes.get(old).propose(1L).get(5, TimeUnit.SECONDS);
        network.isolate(old);
        int next = awaitValue(() -> nodes.entrySet().stream()
                .filter(e -> e.getKey() != old && e.getValue().status().role() == Role.LEADER)
                .map(Map.Entry::getKey).findFirst().orElse(0), "a new leader among the majority");
        assertThat(nodes.get(next).propose(2L).get(5, TimeUnit.SECONDS)).isEqualTo(2L);
        // CheckQuorum: the isolated leader steps down by itself.
        await(() -> nodes.get(old).status().role() != Role.LEADER, "old leader steps down");
        network.heal(old);
        await(() -> journals.get(old).copy().equals(List.of(1L, 2L)), "old leader catches up");
    }

    @Test
    void shutdownOfTheLeaderHandsLeadershipToAFollower() throws Exception {
        startCluster();
        int old = awaitLeader();
        long oldTerm = nodes.get(old).status().term();
        nodes.get(old).propose(1L).get(5, TimeUnit.SECONDS);
        nodes.remove(old).shutdown(Duration.ofSeconds(2));
        int next = awaitLeader();
        // Transfer makes the target campaign at once: one term later, without a failed election.
        assertThat(nodes.get(next).status().term()).isEqualTo(oldTerm + 1);
        assertThat(nodes.get(next).propose(2L).get(5, TimeUnit.SECONDS)).isEqualTo(2L);
    }

    @Test
    void aFollowerCutOffWhileTheLeaderCompactedCatchesUpThroughASnapshot() throws Exception {
        snapshotEvery = 50;
        startCluster();
        int leader = awaitLeader();
        int lagging = leader % 3 + 1;
        network.isolate(lagging);
        for (long i = 0; i < 300; i++) {
            nodes.get(leader).propose(i).get(5, TimeUnit.SECONDS);
        }
        await(() -> storages.get(leader).firstIndex() > storages.get(lagging).lastIndex() + 1, "the leader compacted past the follower");
        network.heal(lagging);
        await(() -> journals.get(lagging).copy().equals(journals.get(leader).copy()), "the follower caught up");
        assertThat(storages.get(lagging).latestSnapshot()).isPresent();
    }

    @Test
    void reportsSyncsReplicationBatchesSnapshotsAndRoleChangesToItsMetrics() throws Exception {
        snapshotEvery = 50;
        startCluster();
        int leader = awaitLeader();
        int lagging = leader % 3 + 1;
        await(() -> metrics.get(lagging).roles.contains(Role.FOLLOWER + "@" + leader), "the follower reported its leader");
        network.isolate(lagging);
        List<CompletableFuture<Long>> results = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            results.add(nodes.get(leader).propose(i));
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        await(() -> storages.get(leader).firstIndex() > storages.get(lagging).lastIndex() + 1, "the leader compacted past the follower");
        network.heal(lagging);
        await(() -> metrics.get(lagging).installed.get() == 1, "the follower reported the snapshot it installed");

        RecordedMetrics led = metrics.get(leader);
        assertThat(led.roles).contains(Role.LEADER + "@" + leader);
        // Group commit: every entry was synced once, in batches the leader reports with their sizes.
        assertThat(led.syncedEntries.get()).isGreaterThanOrEqualTo(300);
        assertThat(led.syncs.get()).isPositive().isLessThanOrEqualTo(led.syncedEntries.get());
        assertThat(led.syncNanos.get()).isPositive();
        assertThat(led.sentEntries.get()).isGreaterThanOrEqualTo(300); // at least one follower got each entry
        assertThat(led.taken.get()).isPositive();
        assertThat(led.takenBytes.get()).isPositive();
        RecordedMetrics lag = metrics.get(lagging);
        assertThat(lag.installedBytes.get()).isPositive();
        assertThat(lag.installedNanos.get()).isPositive();
    }

    /** Counts what a node reports, from its thread; read from the test's. */
    static final class RecordedMetrics implements RaftMetrics {
        final AtomicLong syncs = new AtomicLong();
        final AtomicLong syncedEntries = new AtomicLong();
        final AtomicLong syncNanos = new AtomicLong();
        final AtomicLong sentEntries = new AtomicLong();
        final AtomicLong taken = new AtomicLong();
        final AtomicLong takenBytes = new AtomicLong();
        final AtomicLong installed = new AtomicLong();
        final AtomicLong installedBytes = new AtomicLong();
        final AtomicLong installedNanos = new AtomicLong();
        /** "ROLE@leader" as reported. */
        final List<String> roles = new CopyOnWriteArrayList<>();

        @Override
        public void synced(int entries, long nanos) {
            syncs.incrementAndGet();
            syncedEntries.addAndGet(entries);
            syncNanos.addAndGet(nanos);
        }

        @Override
        public void appendEntriesSent(int entries) {
            assertThat(entries).isPositive();
            sentEntries.addAndGet(entries);
        }

        @Override
        public void snapshotTaken(long bytes, long nanos) {
            taken.incrementAndGet();
            takenBytes.addAndGet(bytes);
        }

        @Override
        public void snapshotInstalled(long bytes, long nanos) {
            installed.incrementAndGet();
            installedBytes.addAndGet(bytes);
            installedNanos.addAndGet(nanos);
        }

        @Override
        public void roleChanged(Role role, long term, int leader) {
            roles.add(role + "@" + leader);
        }
    }

    @Test
    void aRestartedNodeRestoresItsSnapshotAndReplaysTheLogAfterIt() throws Exception {
        snapshotEvery = 50;
        startCluster();
        int leader = awaitLeader();
        for (long i = 0; i < 120; i++) {
            nodes.get(leader).propose(i).get(5, TimeUnit.SECONDS);
        }
        int restarted = leader % 3 + 1;
        await(() -> storages.get(restarted).latestSnapshot().isPresent() && journals.get(restarted).copy().size() == 120,
                "the follower snapshotted and applied everything");
        nodes.remove(restarted).close();
        start(restarted);
        await(() -> journals.get(restarted).copy().equals(journals.get(leader).copy()), "the restarted node has the same state");
    }

    /** The journal a stored snapshot holds. */
    private static List<Long> journalIn(Storage storage) throws IOException {
        Journal restored = new Journal();
        try (InputStream in = storage.openSnapshot()) {
            restored.restore(in);
        }
        return restored.copy();
    }

    @Test
    void snapshotNowOnTheLeaderHoldsEveryCommittedEntryAndIsReusedUntilMoreAreApplied() throws Exception {
        startCluster(); // snapshotEvery 0: no snapshot unless asked for
        int leader = awaitLeader();
        for (long i = 0; i < 100; i++) {
            nodes.get(leader).propose(i).get(5, TimeUnit.SECONDS);
        }
        SnapshotMeta first = nodes.get(leader).snapshotNow().get(10, TimeUnit.SECONDS);
        assertThat(first.index()).isGreaterThanOrEqualTo(101); // the founding entry, a no-op, 100 commands at least
        assertThat(first.config()).isEqualTo(ClusterConfig.of(1, 2, 3));
        assertThat(storages.get(leader).latestSnapshot()).contains(first);
        assertThat(journalIn(storages.get(leader))).hasSize(100);

        assertThat(nodes.get(leader).snapshotNow().get(10, TimeUnit.SECONDS)).as("nothing new: the same snapshot").isEqualTo(first);
        nodes.get(leader).propose(100L).get(5, TimeUnit.SECONDS);
        SnapshotMeta second = nodes.get(leader).snapshotNow().get(10, TimeUnit.SECONDS);
        assertThat(second.index()).isGreaterThan(first.index());
        assertThat(journalIn(storages.get(leader))).hasSize(101);
    }

    @Test
    void snapshotNowOnAFollowerFailsNamingTheLeader() throws Exception {
        startCluster();
        int leader = awaitLeader();
        int follower = leader % 3 + 1;
        await(() -> nodes.get(follower).status().leader() == leader, "the follower knows the leader");
        assertThatThrownBy(() -> nodes.get(follower).snapshotNow().get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(NotLeaderException.class)
                .satisfies(e -> assertThat(((NotLeaderException) e).leader()).isEqualTo(leader));
    }

    @Test
    void snapshotNowDuringAPeriodicSnapshotWaitsForItThenTakesOneCoveringLaterEntries() throws Exception {
        snapshotEvery = 50;
        startCluster();
        int leader = awaitLeader();
        CountDownLatch gate = new CountDownLatch(1);
        journals.get(leader).snapshotGate = gate; // the periodic snapshot at about 50 entries is held up
        for (long i = 0; i < 80; i++) {
            nodes.get(leader).propose(i).get(5, TimeUnit.SECONDS);
        }
        long committed = nodes.get(leader).status().commitIndex();
        CompletableFuture<SnapshotMeta> asked = nodes.get(leader).snapshotNow();
        Thread.sleep(200); // not a wait for a condition: the answer must NOT come while the writer is held
        assertThat(asked).as("waits for the snapshot being written").isNotDone();
        journals.get(leader).snapshotGate = null;
        gate.countDown();
        SnapshotMeta meta = asked.get(10, TimeUnit.SECONDS);
        assertThat(meta.index()).isGreaterThanOrEqualTo(committed);
        assertThat(journalIn(storages.get(leader))).hasSize(80);
    }

    @Test
    void aStorageFailureStopsTheNodeForGoodAndSaysSo() throws Exception {
        startCluster();
        int leader = awaitLeader();
        nodes.get(leader).propose(1L).get(5, TimeUnit.SECONDS);
        storages.get(leader).failSyncWith(new RuntimeException(new IOException("injected: fsync failed")));
        CompletableFuture<Long> pending = nodes.get(leader).propose(2L);

        Throwable error = nodes.get(leader).failure().get(5, TimeUnit.SECONDS);
        assertThat(error).hasRootCauseMessage("injected: fsync failed");
        // Appended and perhaps sent to followers before the sync failed: the others may apply it.
        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(OutcomeUnknownException.class);
        assertThat(nodes.get(leader).status().role()).isEqualTo(Role.FOLLOWER);
        assertThat(nodes.get(leader).status().leader()).isZero();
        assertThatThrownBy(() -> nodes.get(leader).propose(3L).get(1, TimeUnit.SECONDS))
                .cause().isInstanceOf(RaftException.class).hasMessageContaining("not applied");
        assertThatThrownBy(() -> nodes.get(leader).read("size").get(1, TimeUnit.SECONDS)).cause().isInstanceOf(RaftException.class);
        // The others carry on without it.
        int next = awaitValue(() -> nodes.entrySet().stream()
                .filter(e -> e.getKey() != leader && e.getValue().status().role() == Role.LEADER)
                .map(Map.Entry::getKey).findFirst().orElse(0), "a new leader among the others");
        nodes.get(next).propose(4L).get(5, TimeUnit.SECONDS);
    }

    @Test
    void anUnexpectedErrorOnTheNodeThreadStopsItToo() throws Exception {
        startCluster();
        int leader = awaitLeader();
        storages.get(leader).failSyncWith(new IllegalStateException("a bug"));
        nodes.get(leader).propose(1L);
        assertThat(nodes.get(leader).failure().get(5, TimeUnit.SECONDS)).hasMessage("a bug");
        assertThat(nodes.get(leader).status().role()).isNotEqualTo(Role.LEADER);
    }

    @Test
    void aNodeClosedNormallyReportsNoFailure() {
        startCluster();
        RaftRuntime<Long, String, Long> node = nodes.remove(1);
        node.close();
        assertThat(node.failure()).isNotDone();
    }

    @Test
    void proposalsPendingWhenTheNodeStopsEndAsOutcomeUnknown() throws Exception {
        startCluster();
        int leader = awaitLeader();
        nodes.get(leader).propose(1L).get(5, TimeUnit.SECONDS);
        long before = storages.get(leader).lastIndex();
        network.isolate(leader); // the entry is appended but cannot commit
        CompletableFuture<Long> pending = nodes.get(leader).propose(2L);
        await(() -> storages.get(leader).lastIndex() > before, "the leader appended the proposal");
        nodes.remove(leader).close();
        assertThatThrownBy(() -> pending.get(1, TimeUnit.SECONDS)).cause().isInstanceOf(OutcomeUnknownException.class);
    }

    @Test
    void requestsStillInTheInboxWhenTheNodeStopsAreCertainlyNotApplied() throws Exception {
        CountDownLatch applying = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        startCluster();
        int leader = awaitLeader();
        journals.get(leader).blockAt = 2L;
        journals.get(leader).applying = applying;
        journals.get(leader).release = release;
        nodes.get(leader).propose(2L);
        assertThat(applying.await(5, TimeUnit.SECONDS)).isTrue(); // the node's thread is busy applying
        CompletableFuture<Long> queued = nodes.get(leader).propose(3L);
        RaftRuntime<Long, String, Long> node = nodes.remove(leader);
        Thread closer = new Thread(node::close);
        closer.start();
        await(() -> node.status().role() != Role.LEADER || closer.isAlive(), "close started");
        Thread.sleep(50);
        release.countDown();
        closer.join(5000);
        assertThatThrownBy(() -> queued.get(1, TimeUnit.SECONDS)).cause().isInstanceOf(RaftException.class)
                .hasMessageContaining("not applied");
    }

    @Test
    void membershipChangesCompleteWithTheNewConfigurationAndARemovedNodeLearnsIt() throws Exception {
        snapshotEvery = 50; // the new member catches up through a snapshot
        startCluster();
        int leader = awaitLeader();
        for (long i = 0; i < 200; i++) {
            nodes.get(leader).propose(i).get(5, TimeUnit.SECONDS);
        }
        storages.put(4, new FaultyStorage()); // no state, no founders: waits to be added
        start(4);

        ClusterConfig added = nodes.get(leader).changeMembership(new MembershipChange.AddLearner(4, "", true))
                .get(5, TimeUnit.SECONDS);
        assertThat(added.member(4).orElseThrow().kind()).isEqualTo(Member.Kind.JOINING);
        await(() -> nodes.get(leader).status().members().isVoter(4) && nodes.get(leader).status().membersCommitted(),
                "node 4's promotion committed once it caught up"); // a second change waits for the first
        await(() -> journals.get(4).copy().size() == 200, "node 4 holds every command");

        int follower = nodes.keySet().stream().filter(id -> id != leader && id != 4).findFirst().orElseThrow();
        ClusterConfig removed = nodes.get(leader).changeMembership(new MembershipChange.Remove(follower)).get(5, TimeUnit.SECONDS);
        assertThat(removed.voters()).doesNotContain(follower).contains(4);
        assertThat(nodes.get(follower).removed().get(5, TimeUnit.SECONDS)).isPositive();
        assertThatThrownBy(() -> nodes.get(leader).changeMembership(new MembershipChange.AddLearner(follower, "", false))
                .get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RaftException.class)
                .hasMessageContaining("was removed from this cluster");
        assertThatThrownBy(() -> nodes.get(follower).changeMembership(new MembershipChange.Remove(4)).get(5, TimeUnit.SECONDS))
                .hasCauseInstanceOf(NotLeaderException.class);
    }

    @Test
    void aNodeWithNoStateRefusesStaleReadsUntilItKnowsTheClusterIsNew() throws Exception {
        MemoryStorage empty = new MemoryStorage();
        RaftRuntime.Options options = new RaftRuntime.Options(RaftConfig.defaults(1), Duration.ofMillis(10), 4096, 1)
                .withFounders(ClusterConfig.of(1, 2, 3));
        nodes.put(1, RaftRuntime.start(options, new Journal(), LONGS, empty, network.transport(1))); // nodes 2 and 3 never answer

        // An empty state machine would answer as if no write ever happened.
        assertThatThrownBy(() -> nodes.get(1).readStale("size").get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(RaftException.class).hasMessageContaining("node 1 has no data yet");
        assertThat(empty.lastIndex()).isZero();
    }

    @Test
    void requestsToAStoppedNodeFailClearly() {
        startCluster();
        RaftRuntime<Long, String, Long> node = nodes.remove(1);
        node.close();
        assertThatThrownBy(() -> node.propose(1L).get(1, TimeUnit.SECONDS))
                .cause().isInstanceOf(RaftException.class).hasMessageContaining("stopped");
    }

    private int awaitLeader() {
        return awaitValue(() -> {
            List<Integer> leaders = nodes.entrySet().stream()
                    .filter(e -> e.getValue().status().role() == Role.LEADER).map(Map.Entry::getKey).toList();
            return leaders.size() == 1 ? leaders.get(0) : 0;
        }, "exactly one leader");
    }

    private static void await(BooleanSupplier condition, String what) {
        awaitValue(() -> condition.getAsBoolean() ? 1 : 0, what);
    }

    /** Polls until {@code probe} gives a non-zero answer, failing after 10 s. */
    private static int awaitValue(IntSupplier probe, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            int answer = probe.getAsInt();
            if (answer != 0) {
                return answer;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out waiting for: " + what);
    }

    /** Memory storage whose next sync can be made to throw, as a failed fsync does. */
    static final class FaultyStorage extends ForwardingStorage {
        private volatile RuntimeException syncFailure;
        /** Every sync takes this long (a slow disk); 0 for none. */
        volatile long syncMillis;

        FaultyStorage() {
            super(new MemoryStorage());
        }

        void failSyncWith(RuntimeException e) {
            syncFailure = e;
        }

        @Override
        public void sync() {
            RuntimeException e = syncFailure;
            if (e != null) {
                throw e;
            }
            if (syncMillis > 0) {
                try {
                    Thread.sleep(syncMillis);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            delegate.sync();
        }
    }
}
