package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.client.ReadConsistency;
import io.flotilla.client.RequestRejectedException;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Membership;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Member;
import io.flotilla.core.protocol.Role;
import io.flotilla.server.net.NodeHello;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Membership changes through the client library, on real nodes on loopback sockets in this JVM. */
@Timeout(120)
class MembershipTest {
    @TempDir
    Path data;
    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterAll
    static void shutDown() {
        GROUP.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static FlotillaClient client(TestCluster cluster) {
        return FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withDeadline(Duration.ofSeconds(20)));
    }

    /** Node {@code id}'s own view: its kind in the configuration it uses (null if it does not name itself). */
    private static Member.Kind kindSeenBy(TestCluster cluster, int id) {
        return cluster.nodes.get(id).raft().status().members().member(id).map(Member::kind).orElse(null);
    }

    @Test
    void aJoiningMemberCatchesUpBySnapshotIsPromotedAndServes() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.snapshotEntries = 50; // compacted long before node 4 arrives: it needs the snapshot
            cluster.startAll();
            cluster.awaitLeader();
            try (FlotillaClient client = client(cluster)) {
                for (int i = 0; i < 300; i++) {
                    client.set("k" + i, "v" + i);
                }
                cluster.startWith(4, cluster.joinConfig(4));
                Membership added = client.addMember(4, cluster.address(4), false);
                assertThat(added.member(4).orElseThrow().kind()).isIn(Member.Kind.JOINING, Member.Kind.VOTER);
                assertThat(added.member(4).orElseThrow().address()).isEqualTo(cluster.address(4));

                Poll.until("node 4 promoted to voter", () -> client.members().member(4).map(m -> m.kind() == Member.Kind.VOTER).orElse(false), cluster::statuses);
                Poll.until("node 4 knows it votes", () -> kindSeenBy(cluster, 4) == Member.Kind.VOTER, cluster::statuses);
                assertThat(cluster.nodes.get(4).storage().latestSnapshot()).as("caught up by snapshot").isPresent();
                client.set("after", "four");
                Poll.until("node 4 applied everything", () -> cluster.nodes.get(4).raft().status().appliedIndex()
                        >= cluster.nodes.get(cluster.awaitLeader()).raft().status().commitIndex());
                try (FlotillaClient onFour = FlotillaClient.create(ClientOptions.of(cluster.address(4)).withDeadline(Duration.ofSeconds(10)))) {
                    assertThat(onFour.get("k7", ReadConsistency.STALE)).contains("v7");
                    assertThat(onFour.get("after", ReadConsistency.STALE)).contains("four");
                    assertThat(onFour.get("k299")).as("relayed to the leader by the new member").contains("v299");
                }
                // Every node, the new one included, now links to every other member at its configured address.
                Poll.until("every node linked to the three others", () -> cluster.nodes.values().stream().allMatch(n -> countUp(n.describePeerLinks()) == 3), cluster::statuses);
            }
        }
    }

    private static long countUp(String links) {
        return Stream.of(links.split(", ")).filter(l -> l.contains(": up")).count();
    }

    @Test
    void aLearnerIsPromotedOnlyOnceCaughtUpAndOnlyWhenAsked() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            try (FlotillaClient client = client(cluster)) {
                for (int i = 0; i < 50; i++) {
                    client.set("k" + i, "v" + i);
                }
                cluster.joinConfig(4); // its address, though it is not started yet
                client.addMember(4, cluster.address(4), true);
                assertThatThrownBy(() -> client.promoteMember(4)).isInstanceOf(RequestRejectedException.class)
                        .hasMessageStartingWith("member promote 4 refused: node 4 has not caught up");

                cluster.startWith(4, cluster.joinConfig(4));
                Poll.until("learner 4 caught up", () -> client.members().member(4).orElseThrow().lag() == 0, cluster::statuses);
                assertThat(client.members().member(4).orElseThrow().kind()).as("a learner is not promoted by itself")
                        .isEqualTo(Member.Kind.LEARNER);
                Membership promoted = client.promoteMember(4);
                assertThat(promoted.member(4).orElseThrow().kind()).isEqualTo(Member.Kind.VOTER);
                assertThatThrownBy(() -> client.addMember(4, cluster.address(4), false)).isInstanceOf(RequestRejectedException.class)
                        .hasMessage("member add 4 refused: node 4 is already a member (voter)");
            }
        }
    }

    @Test
    void aRemovedFollowerStopsItsIdIsNeverReusedAndTheOthersKeepServing() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader % 3 + 1;
            try (FlotillaClient client = client(cluster)) {
                client.set("before", "1");
                Membership after = client.removeMember(follower);
                assertThat(after.removed()).containsExactly(follower);
                assertThat(after.member(follower)).isEmpty();

                FlotillaServer removed = cluster.nodes.get(follower);
                assertThat(removed.awaitStopped(Duration.ofSeconds(10))).as("the removed node stopped").isTrue();
                assertThat(cluster.exits.get(follower)).as("a clean stop, not a failure").isNotDone();
                cluster.nodes.remove(follower);

                client.set("after", "2");
                assertThat(client.get("before")).contains("1");
                assertThatThrownBy(() -> client.addMember(follower, cluster.address(follower), false))
                        .isInstanceOf(RequestRejectedException.class)
                        .hasMessageStartingWith("member add " + follower + " refused: node " + follower + " was removed from this cluster");
                assertThatThrownBy(() -> client.removeMember(follower)).isInstanceOf(RequestRejectedException.class)
                        .hasMessageContaining("it was removed already");

                // A node still running under the removed id is refused by the others at the door.
                NodeConnection relay = NodeConnection.open(GROUP,
                        cluster.addresses.get(leader), NodeHello.forward(1, follower, "test"), 1 << 20, 16,
                        Duration.ofSeconds(2)).handle((c, e) -> {
                            assertThat(e).hasMessageContaining("node " + follower + " was removed from this cluster");
                            return c;
                        }).get(5, TimeUnit.SECONDS);
                assertThat(relay).isNull();
            }
        }
    }


    @Test
    void removingTheLeaderMovesLeadershipAndWritesContinue() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();
            try (FlotillaClient client = client(cluster)) {
                client.set("k", "1");
                Membership after = client.removeMember(leader);
                assertThat(after.removed()).containsExactly(leader);
                assertThat(cluster.nodes.get(leader).awaitStopped(Duration.ofSeconds(10))).isTrue();
                cluster.nodes.remove(leader);
                int next = cluster.awaitLeader();
                assertThat(next).isNotEqualTo(leader);
                client.set("k", "2");
                assertThat(client.get("k")).contains("2");
                Membership now = client.members();
                assertThat(now.leaderId()).isEqualTo(next);
                assertThat(now.members()).extracting(Membership.MemberInfo::id).hasSize(2).doesNotContain(leader);
            }
        }
    }

    @Test
    void aJoiningNodeThatIsNeverAddedWaitsAndAnswersStatus() throws Exception {
        ListAppender<ILoggingEvent> logged = capture(FlotillaServer.class);
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            cluster.startWith(4, cluster.joinConfig(4));
            Poll.until("node 4 asked node 1", () -> messages(logged).stream().anyMatch(m -> m.contains("answers: leader")));
            assertThat(messages(logged)).anyMatch(m -> m.equals("node 4 waits to be added to the cluster; to add it, run: "
                    + "bin/flotilla-client --cluster " + cluster.address(1) + " member add 4 " + cluster.address(4)));
            assertThat(messages(logged)).anyMatch(m -> m.contains("members 1, 2, 3"));
            NodeConnection c = NodeConnection.open(GROUP, cluster.joiners.get(4), Hello.client("test"), 1 << 20, 16,
                    Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);
            NodeStatus status = ((Response.Status) TestCluster.call(c, new Request.StatusQuery())).status();
            assertThat(status.nodeId()).isEqualTo(4);
            assertThat(status.members()).isEmpty();
            assertThat(status.removed()).isFalse();
            assertThat(status.role()).isEqualTo(Role.FOLLOWER.name());
            Response stale = TestCluster.call(c, new Request.Get(io.flotilla.core.Bytes.utf8("k"), true));
            assertThat(stale).as("no stale 'absent' from a node without data")
                    .isEqualTo(new Response.Failure(Response.Code.UNAVAILABLE, "node 4 has no data yet: it waits to be added to the cluster"
                            + " (or to learn whether it exists); ask another node"));
            c.close();
            assertThat(cluster.nodes.get(4).raft().status().members().members()).isEmpty();
            assertThat(cluster.exits.get(4)).isNotDone();
        } finally {
            release(FlotillaServer.class, logged);
        }
    }

    @Test
    void aBlankNodeComingBackUnderTheIdOfAVoterHalts() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();
            int lost = leader % 3 + 1;
            try (FlotillaClient client = client(cluster)) {
                client.set("k", "v");
            }
            cluster.halt(lost);
            try (Stream<Path> files = Files.walk(data.resolve("node-" + lost))) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            ServerConfig blank = cluster.config(lost).joining(cluster.addresses.get(leader));
            cluster.startWith(lost, blank);
            assertThat(cluster.exits.get(lost).get(30, TimeUnit.SECONDS)).isEqualTo(FlotillaServer.EXIT_NODE_FAILED);
            cluster.nodes.remove(lost).halt();
        }
    }

    @Test
    void aRestartWithAnotherPeerListSaysSoAndUsesTheLogsConfiguration() throws Exception {
        ListAppender<ILoggingEvent> logged = capture(FlotillaServer.class);
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            cluster.awaitLeader();
            cluster.nodes.remove(3).close();
            Map<Integer, InetSocketAddress> other = new TreeMap<>(cluster.addresses);
            other.put(9, InetSocketAddress.createUnresolved("127.0.0.1", TestPorts.next()));
            cluster.startWith(3, cluster.config(3, other));
            List<String> warnings = messages(logged).stream().filter(m -> m.contains("differs from the configuration in the log")).toList();
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0)).contains("9=127.0.0.1:" + other.get(9).getPort(), "1=" + cluster.address(1))
                    .endsWith("using the log's (the peer list only founds a cluster)");
            cluster.awaitLeader();
            assertThat(cluster.nodes.get(3).raft().status().members().members().keySet()).containsExactly(1, 2, 3);
        } finally {
            release(FlotillaServer.class, logged);
        }
    }

    static ListAppender<ILoggingEvent> capture(Class<?> type) {
        Logger logger = (Logger) LoggerFactory.getLogger(type);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);
        return appender;
    }

    static void release(Class<?> type, ListAppender<ILoggingEvent> appender) {
        Logger logger = (Logger) LoggerFactory.getLogger(type);
        logger.detachAppender(appender);
        logger.setLevel(null);
    }

    static List<String> messages(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) { // appending holds the appender's lock
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
