package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.server.kv.KvLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session limits on real nodes: the same on every replica, through restarts, whatever each node's flags. */
class SessionLimitsClusterTest {
    private static final long GREEDY = 0x6ee5L;

    @TempDir
    Path data;

    private static KvLimits withSessionOutcomes(int max) {
        KvLimits d = KvLimits.DEFAULTS;
        return new KvLimits(d.maxKeyBytes(), d.maxValueBytes(), d.sessionTimeoutMillis(), d.maxSessions(), max, d.maxOutcomes());
    }

    /** Every running node applies the session limits {@code perSession} (they came through the log). */
    private static void awaitLimits(TestCluster cluster, int perSession) {
        Poll.until("every node to apply --max-session-outcomes " + perSession, () -> cluster.nodes.values().stream()
                        .allMatch(n -> n.stateMachine().sessionLimits().maxOutcomesPerSession() == perSession), cluster::statuses);
    }

    /** Every running node has applied every write answered so far. */
    private static void awaitApplied(TestCluster cluster) {
        cluster.awaitLeader();
        // The highest index any node applied: every write answered so far is at or below it (a leader
        // elected meanwhile may not know its commit index yet, so not "the leader's commit index").
        long commit = cluster.nodes.values().stream().mapToLong(n -> n.raft().status().appliedIndex()).max().orElseThrow();
        Poll.until("every node to apply index " + commit, () -> cluster.nodes.values().stream().allMatch(n -> n.raft().status().appliedIndex() >= commit), cluster::statuses);
    }

    /** Writes of a client that never acknowledges: ackedBelow stays 1. How many were applied. */
    private static int greedyWrites(NodeConnection c, long fromSeq, long toSeq) throws Exception {
        return greedyWrites(c, fromSeq, toSeq, "--max-session-outcomes");
    }

    private static int greedyWrites(NodeConnection c, long fromSeq, long toSeq, String limit) throws Exception {
        int applied = 0;
        for (long seq = fromSeq; seq <= toSeq; seq++) {
            Response r = TestCluster.call(c, new Request.Set(new Session(GREEDY, seq, 1), Bytes.utf8("g" + seq), Bytes.utf8("v")));
            if (r.equals(Response.OK)) {
                applied++;
            } else {
                assertThat(r.code()).as("write %d", seq).isEqualTo(Response.Code.UNAVAILABLE);
                assertThat(((Response.Failure) r).message()).contains(limit).contains("not applied");
            }
        }
        return applied;
    }

    private static void assertEveryNodeHolds(TestCluster cluster, int greedyOutcomes) {
        awaitApplied(cluster);
        cluster.nodes.forEach((id, n) -> {
            assertThat(n.stateMachine().sessionOutcomes(GREEDY)).as("node %d", id).isEqualTo(greedyOutcomes);
            // The honest client acknowledges every earlier write: its session holds its latest outcome at most.
            assertThat(n.stateMachine().outcomeCount()).as("node %d", id).isBetween((long) greedyOutcomes, greedyOutcomes + 1L);
        });
    }

    @Test
    void aClientThatNeverAcknowledgesCannotGrowItsSessionPastTheCapOnAnyReplica() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.snapshotEntries = 40; // restarts restore a snapshot, then replay the rest
            for (int id = 1; id <= 3; id++) {
                cluster.limits.put(id, withSessionOutcomes(50));
            }
            cluster.startAll();
            cluster.awaitLeader();
            awaitLimits(cluster, 50);
            NodeConnection c = cluster.connect(1);
            int applied = 0;
            for (int round = 0; round < 4; round++) {
                applied += greedyWrites(c, round * 30L + 1, round * 30L + 30);
                assertThat(cluster.set(c, "honest" + round, "v")).isEqualTo(Response.OK); // others keep writing
            }
            assertThat(applied).isEqualTo(50);
            assertThat(TestCluster.get(c, "g51")).isEqualTo(Response.NOT_FOUND);
            assertEveryNodeHolds(cluster, 50);
            c.close();

            for (int id = 1; id <= 3; id++) {
                cluster.halt(id);
            }
            cluster.startAll();
            cluster.awaitLeader();
            assertEveryNodeHolds(cluster, 50);
            NodeConnection again = cluster.connect(2);
            // A retry of an applied write is still answered from the session; new ones are still refused.
            assertThat(TestCluster.call(again, new Request.Set(new Session(GREEDY, 1, 1, true), Bytes.utf8("g1"), Bytes.utf8("w"))))
                    .isEqualTo(Response.OK);
            assertThat(TestCluster.get(again, "g1")).isEqualTo(new Response.Value(Bytes.utf8("v")));
            assertThat(greedyWrites(again, 121, 130)).isZero();
            assertThat(cluster.set(again, "honest-after", "v")).isEqualTo(Response.OK);
            // Acknowledging frees room for exactly as many writes.
            assertThat(TestCluster.call(again, new Request.Set(new Session(GREEDY, 131, 11), Bytes.utf8("g131"), Bytes.utf8("v"))))
                    .isEqualTo(Response.OK);
            assertEveryNodeHolds(cluster, 41);
            again.close();
        }
    }

    @Test
    void nodesStartedWithDifferentCapsRefuseAtTheSameIndexUnderTheLeadersCap() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.limits.put(1, withSessionOutcomes(20));
            cluster.limits.put(2, withSessionOutcomes(30));
            cluster.limits.put(3, withSessionOutcomes(40));
            cluster.startAll();
            int leader = cluster.awaitLeader();
            int cap = 10 + 10 * leader;
            awaitLimits(cluster, cap);
            NodeConnection c = cluster.connect(leader % 3 + 1); // a follower relays to the leader
            assertThat(greedyWrites(c, 1, 60)).isEqualTo(cap);
            assertEveryNodeHolds(cluster, cap);
            c.close();

            // A new leader brings its own cap through the log; a lower one drops nothing.
            cluster.halt(leader);
            int next = cluster.awaitLeader();
            int nextCap = 10 + 10 * next;
            awaitLimits(cluster, nextCap);
            NodeConnection d = cluster.connect(next);
            assertThat(greedyWrites(d, 61, 120)).isEqualTo(Math.max(0, nextCap - cap));
            assertEveryNodeHolds(cluster, Math.max(cap, nextCap));
            d.close();
        }
    }

    /** Once a greedy client has used up the budget, a client that waits for each answer still gets through. */
    @Test
    void theBudgetStopsAGreedyClientButNotOneThatWaitsForEachAnswer() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            KvLimits d = KvLimits.DEFAULTS;
            for (int id = 1; id <= 3; id++) {
                cluster.limits.put(id, new KvLimits(d.maxKeyBytes(), d.maxValueBytes(), d.sessionTimeoutMillis(), d.maxSessions(), 50, 20));
            }
            cluster.startAll();
            cluster.awaitLeader();
            awaitLimits(cluster, 50);
            NodeConnection c = cluster.connect(1);
            assertThat(greedyWrites(c, 1, 40, "--max-outcomes")).isEqualTo(20);
            try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withDeadline(Duration.ofSeconds(20)))) {
                for (int i = 0; i < 30; i++) {
                    client.set("k" + i, "v" + i);
                }
                assertThat(client.get("k29")).contains("v29");
            }
            assertThat(cluster.set(c, "raw", "v")).isEqualTo(Response.OK);
            awaitApplied(cluster);
            cluster.nodes.forEach((id, n) -> assertThat(n.stateMachine().sessionOutcomes(GREEDY)).as("node %d", id).isEqualTo(20));
            c.close();
        }
    }
}
