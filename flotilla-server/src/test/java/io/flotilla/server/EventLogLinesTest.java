package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.Poll;
import io.flotilla.core.RaftRuntime;
import io.flotilla.server.net.NodeServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An election, a leader change, a snapshot, a membership change and a refused connection each give
 * one INFO (or WARN) line per node, with the numbers an operator reads it for.
 */
@Timeout(120)
class EventLogLinesTest {
    @TempDir
    Path data;
    private ListAppender<ILoggingEvent> runtime;
    private ListAppender<ILoggingEvent> snapshots;
    private ListAppender<ILoggingEvent> connections;

    /** The snapshot lines' logger (Snapshotter is package-private in flotilla-core). */
    private static final String SNAPSHOTTER = "io.flotilla.core.Snapshotter";

    @BeforeEach
    void capture() {
        runtime = MembershipTest.capture(RaftRuntime.class);
        connections = MembershipTest.capture(NodeServer.class);
        snapshots = new ListAppender<>();
        snapshots.start();
        Logger logger = (Logger) LoggerFactory.getLogger(SNAPSHOTTER);
        logger.setLevel(Level.INFO);
        logger.addAppender(snapshots);
    }

    @AfterEach
    void release() {
        MembershipTest.release(RaftRuntime.class, runtime);
        MembershipTest.release(NodeServer.class, connections);
        Logger logger = (Logger) LoggerFactory.getLogger(SNAPSHOTTER);
        logger.detachAppender(snapshots);
        logger.setLevel(null);
    }

    private static List<String> matching(ListAppender<ILoggingEvent> appender, String regex) {
        Pattern p = Pattern.compile(regex);
        return MembershipTest.messages(appender).stream().filter(m -> p.matcher(m).matches()).toList();
    }

    @Test
    void electionsLeaderChangesSnapshotsAndMembershipChangesEachGiveOneLinePerNode() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3)) {
            cluster.snapshotEntries = 40;
            cluster.startAll();
            int leader = cluster.awaitLeader();
            long term = cluster.nodes.get(leader).raft().status().term();

            // The election that made the leader: its start (votes needed, the log's end) and its outcome.
            assertThat(matching(runtime, "node " + leader + " starts an election for term " + term
                    + ": it needs 2 votes of the voters \\[1, 2, 3\\]; its log ends at index \\d+ \\(.*\\)")).hasSize(1);
            assertThat(matching(runtime, "node \\d+ is leader in term " + term + ",.*")).hasSize(1);
            assertThat(matching(runtime, "node " + leader + " is leader in term " + term + ", elected by a quorum of 2 of the voters "
                    + "\\[1, 2, 3\\] \\((no leader known before|previous leader: node \\d+ in term \\d+)\\); its log ends at index \\d+, "
                    + "commit index \\d+")).hasSize(1);
            for (int id = 1; id <= 3; id++) {
                if (id != leader) {
                    int follower = id;
                    Poll.until("node " + id + "'s line", () -> !matching(runtime, "node " + follower + " follows leader " + leader + " in term " + term
                            + " \\((no leader known before|previous leader: node \\d+ in term \\d+)\\)").isEmpty());
                    assertThat(matching(runtime, "node " + follower + " follows leader " + leader + " in term " + term + " .*")).hasSize(1);
                }
            }

            // Snapshots: each node, one line per snapshot, with its index, term, bytes and time.
            try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses())
                    .withDeadline(Duration.ofSeconds(20)))) {
                for (int i = 0; i < 50; i++) {
                    client.set("k" + i, "v" + i);
                }
                for (int id = 1; id <= 3; id++) {
                    int node = id;
                    String line = "node " + node + ": snapshot at index (\\d+) of term \\d+ \\(\\d+ bytes in \\d+ ms\\); log starts at \\d+";
                    Poll.until("node " + node + "'s snapshot line", () -> !matching(snapshots, line).isEmpty());
                    List<String> indexes = matching(snapshots, line).stream().map(m -> m.replaceAll(line, "$1")).toList();
                    assertThat(indexes).as("one line per snapshot").doesNotHaveDuplicates();
                }

                // A membership change: every node that appends it says so once, with the index, before and after.
                int follower = leader == 1 ? 2 : 1;
                client.removeMember(follower);
                for (int id = 1; id <= 3; id++) {
                    int node = id;
                    String line = "node " + node + " uses the configuration of index (\\d+)( \\(not committed yet\\))?: node " + follower
                            + " removed; was members\\[.*\\], now members\\[.*\\] removed\\[" + follower + "\\]";
                    if (node != follower) {
                        Poll.until("node " + node + "'s configuration line", () -> !matching(runtime, line).isEmpty());
                    }
                    if (node == leader) {
                        List<String> lines = matching(runtime, line);
                        assertThat(lines).hasSize(1);
                        long index = Long.parseLong(lines.get(0).replaceAll(line, "$1"));
                        assertThat(index).isGreaterThan(50);
                    }
                    assertThat(matching(runtime, line)).hasSizeLessThanOrEqualTo(1);
                }
            }
        }
    }

    @Test
    void everyRefusedConnectionGetsALineWithItsAddressAndReason() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 1)) {
            cluster.startAll();
            cluster.awaitLeader();
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket("127.0.0.1", cluster.addresses.get(1).getPort())) {
                    ports.add(s.getLocalPort());
                    OutputStream out = s.getOutputStream();
                    out.write(new byte[] {0, 0, 0, 8, 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'});
                    out.flush();
                    s.setSoTimeout(5000);
                    s.getInputStream().read(); // the node closes it
                }
            }
            for (int port : ports) {
                String line = "closing connection from 127.0.0.1:" + port + ": not a Flotilla connection .*";
                Poll.until("the line for port " + port, () -> !matching(connections, line).isEmpty());
                assertThat(matching(connections, line)).hasSize(1);
            }
        }
    }
}
