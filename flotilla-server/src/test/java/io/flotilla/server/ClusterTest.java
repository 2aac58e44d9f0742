package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import io.flotilla.core.protocol.Role;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three in-process nodes on loopback sockets, through the client protocol. */
class ClusterTest {
    @TempDir
    Path data;

    @Test
    void setGetDeleteAndCasWorkThroughEveryNode() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            for (int id = 1; id <= 3; id++) {
                NodeConnection c = cluster.connect(id);
                String key = "key-" + id;
                assertThat(cluster.set(c, key, "v1")).isEqualTo(Response.OK);
                assertThat(TestCluster.get(c, key)).isEqualTo(new Response.Value(Bytes.utf8("v1")));
                assertThat(TestCluster.call(c, new Request.Cas(cluster.nextSession(), Bytes.utf8(key),
                        Optional.of(Bytes.utf8("nope")), Bytes.utf8("v2")))).isEqualTo(Response.CAS_MISMATCH);
                assertThat(TestCluster.call(c, new Request.Cas(cluster.nextSession(), Bytes.utf8(key),
                        Optional.of(Bytes.utf8("v1")), Bytes.utf8("v2")))).isEqualTo(Response.OK);
                assertThat(TestCluster.get(c, key)).isEqualTo(new Response.Value(Bytes.utf8("v2")));
                assertThat(TestCluster.call(c, new Request.Delete(cluster.nextSession(), Bytes.utf8(key)))).isEqualTo(Response.OK);
                assertThat(TestCluster.get(c, key)).isEqualTo(Response.NOT_FOUND);
                assertThat(TestCluster.call(c, new Request.Cas(cluster.nextSession(), Bytes.utf8(key),
                        Optional.empty(), Bytes.utf8("created")))).isEqualTo(Response.OK);
                c.close();
            }
        }
    }

    @Test
    void aStaleReadIsServedLocallyAndAStatusAnswersOnEveryNode() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader % 3 + 1;
            NodeConnection c = cluster.connect(follower);
            assertThat(cluster.set(c, "k", "v")).isEqualTo(Response.OK);
            Poll.until("the follower applied the write", () -> cluster.nodes.get(follower).raft().status().appliedIndex()
                    >= cluster.nodes.get(leader).raft().status().commitIndex());
            assertThat(TestCluster.call(c, new Request.Get(Bytes.utf8("k"), true))).isEqualTo(new Response.Value(Bytes.utf8("v")));
            Response status = TestCluster.call(c, new Request.StatusQuery());
            assertThat(((Response.Status) status).status().leaderId()).isEqualTo(leader);
            assertThat(((Response.Status) status).status().nodeId()).isEqualTo(follower);
        }
    }

    @Test
    void whenTheLeaderDiesANewOneTakesOverWithEveryAcknowledgedWriteAndTheOldOneCatchesUp() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int old = cluster.awaitLeader();
            int survivor = old % 3 + 1;
            NodeConnection c = cluster.connect(survivor);
            for (int i = 0; i < 50; i++) {
                assertThat(cluster.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
            }
            cluster.halt(old);
            int next = cluster.awaitLeader();
            assertThat(next).isNotEqualTo(old);
            for (int i = 0; i < 50; i++) {
                assertThat(TestCluster.get(c, "k" + i)).isEqualTo(new Response.Value(Bytes.utf8("v" + i)));
            }
            assertThat(cluster.set(c, "after", "failover")).isEqualTo(Response.OK);

            cluster.start(old); // same data directory
            cluster.awaitLeader();
            NodeConnection back = cluster.connect(old);
            Poll.until("the old leader caught up", () -> cluster.nodes.get(old).raft().status().appliedIndex()
                    >= cluster.nodes.get(next).raft().status().commitIndex());
            assertThat(TestCluster.call(back, new Request.Get(Bytes.utf8("after"), true))).isEqualTo(new Response.Value(Bytes.utf8("failover")));
            assertThat(TestCluster.call(back, new Request.Get(Bytes.utf8("k7"), true))).isEqualTo(new Response.Value(Bytes.utf8("v7")));
        }
    }

    @Test
    void aWholeClusterRestartsFromItsDataDirectories() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            NodeConnection c = cluster.connect(1);
            for (int i = 0; i < 20; i++) {
                assertThat(cluster.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
            }
            for (int id = 1; id <= 3; id++) {
                cluster.halt(id);
            }
            cluster.startAll();
            cluster.awaitLeader();
            NodeConnection again = cluster.connect(2);
            for (int i = 0; i < 20; i++) {
                assertThat(TestCluster.get(again, "k" + i)).isEqualTo(new Response.Value(Bytes.utf8("v" + i)));
            }
        }
    }

    @Test
    void aNodeDownWhileTheOthersCompactedCatchesUpThroughASnapshotAndKeepsItAcrossARestart() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.snapshotEntries = 40;
            cluster.startAll();
            int leader = cluster.awaitLeader();
            int down = leader % 3 + 1;
            cluster.halt(down);
            NodeConnection c = cluster.connect(leader);
            for (int i = 0; i < 200; i++) {
                assertThat(cluster.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
            }
            Poll.until("commits", () -> cluster.nodes.get(leader).raft().status().commitIndex() > 200);
            cluster.start(down);
            Poll.until("the restarted node caught up", () -> cluster.nodes.get(down).raft().status().appliedIndex()
                    >= cluster.nodes.get(leader).raft().status().commitIndex(), cluster::statuses);
            NodeConnection back = cluster.connect(down);
            assertThat(TestCluster.call(back, new Request.Get(Bytes.utf8("k150"), true))).isEqualTo(new Response.Value(Bytes.utf8("v150")));
            // It now restarts from the snapshot it received, not from the beginning of history.
            cluster.halt(down);
            cluster.start(down);
            NodeConnection again = cluster.connect(down);
            assertThat(TestCluster.call(again, new Request.Get(Bytes.utf8("k0"), true))).isEqualTo(new Response.Value(Bytes.utf8("v0")));
        }
    }

    @Test
    void oversizedValuesGetAClearRefusalAndTheConnectionStaysUsable() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            NodeConnection c = cluster.connect(1);
            Response r = TestCluster.call(c, new Request.Set(cluster.nextSession(), Bytes.utf8("k"), Bytes.wrap(new byte[(1 << 20) + 1])));
            assertThat(r.code()).isEqualTo(Response.Code.INVALID);
            assertThat(((Response.Failure) r).message()).contains("limit is 1048576");
            assertThat(cluster.set(c, "k", "small")).isEqualTo(Response.OK);
        }
    }

    @Test
    void aWritePendingOnALeaderThatStopsIsAnsweredUnknownOutcomeNotUnavailable() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.electionTicks.put(1, 2000); // node 1, once leader, keeps leading without a quorum for 20 s
            cluster.startAll();
            int first = cluster.awaitLeader();
            if (first != 1) {
                cluster.nodes.get(first).raft().transferLeadership(1).get(5, TimeUnit.SECONDS);
            }
            Poll.until("node 1 leads", () -> cluster.nodes.get(1).raft().status().role() == Role.LEADER, cluster::statuses);
            NodeConnection c = cluster.connect(1);
            cluster.halt(2);
            cluster.halt(3);
            long before = cluster.nodes.get(1).raft().status().lastIndex();
            CompletableFuture<Response> write = c.send(new Request.Set(cluster.nextSession(), Bytes.utf8("k"), Bytes.utf8("v")),
                    Duration.ofSeconds(30));
            Poll.until("the write is in node 1's log", () -> cluster.nodes.get(1).raft().status().lastIndex() > before);
            assertThat(write).as("no quorum: the write cannot commit").isNotDone();

            cluster.nodes.remove(1).close(); // a graceful stop: the other nodes (restarted) may still commit the write
            Response answer = write.get(10, TimeUnit.SECONDS);
            assertThat(answer.code()).isEqualTo(Response.Code.UNKNOWN_OUTCOME);
            assertThat(((Response.Failure) answer).message()).contains("may or may not have been applied");
        }
    }
}
