package io.flotilla.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.ClusterStatus;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.Member;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class StatusCommandTest {
    private static final long NOW = 1_800_000_000_000L;

    private static ClusterStatus.Node node(int port, NodeStatus status) {
        return new ClusterStatus.Node(InetSocketAddress.createUnresolved("127.0.0.1", port), Optional.of(status), null);
    }

    private static NodeStatus status(int id, String role, long applied, NodeStatus.Details details) {
        TreeMap<Integer, Member.Kind> members = new TreeMap<>();
        for (int m = 1; m <= 3; m++) {
            members.put(m, Member.Kind.VOTER);
        }
        return new NodeStatus(id, role, 4, 1, Math.min(applied, 900), applied, applied, members, false, details);
    }

    @Test
    void theTableShowsEveryDetailAndTheLagBehindTheLeadersCommitIndex() {
        NodeStatus.Details leader = new NodeStatus.Details("0.2.0", 3 * 3600_000L + 5 * 60_000, 900, 800, 4, NOW - 95_000, 1234,
                5L << 20, "");
        NodeStatus.Details behind = new NodeStatus.Details("0.2.0", 42_000, 900, 0, 0, 0, 1200, 950,
                "applied index 700 trails the leader's commit index 900 by 200 entries (more than --health-max-lag 100)");
        List<String> lines = StatusCommand.render(new ClusterStatus(List.of(node(5001, status(1, "LEADER", 900, leader)),
                node(5002, status(2, "FOLLOWER", 700, behind)))), NOW).lines();

        assertThat(lines.get(0).split(" +")).containsExactly("NODE", "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST",
                "LAG", "SNAPSHOT", "SNAP-AGE", "KEYS", "DISK", "UPTIME", "VERSION", "HEALTH", "MEMBERS");
        assertThat(lines.get(1).split(" +")).containsExactly("1", "127.0.0.1:5001", "LEADER", "4", "1", "900", "900", "900", "0",
                "800", "1m35s", "1234", "5.0", "MiB", "3h05m", "0.2.0", "ok", "1,2,3");
        assertThat(lines.get(2).split(" +")).containsExactly("2", "127.0.0.1:5002", "FOLLOWER", "4", "1", "700", "700", "700", "200",
                "0", "-", "1200", "950", "B", "42s", "0.2.0", "UNHEALTHY", "1,2,3");
        assertThat(lines).contains("node 2 is unhealthy: applied index 700 trails the leader's commit index 900 by 200 entries "
                + "(more than --health-max-lag 100)");
    }

    @Test
    void aNodeOfAnOlderVersionShowsWhatItDoesNotSayAsUnknown() {
        NodeStatus old = new NodeStatus(1, "LEADER", 2, 1, 5, 5, 5, new TreeMap<>(), false);
        String row = StatusCommand.render(new ClusterStatus(List.of(node(5001, old))), NOW).lines().get(1);
        assertThat(row.split(" +")).containsExactly("1", "127.0.0.1:5001", "LEADER", "2", "1", "5", "5", "5", "0",
                "?", "?", "?", "?", "?", "?", "?", "-");
    }

    @Test
    void sizesAndDurationsReadAsAPersonWouldSayThem() {
        assertThat(StatusCommand.bytes(0)).isEqualTo("0 B");
        assertThat(StatusCommand.bytes(1536)).isEqualTo("1.5 KiB");
        assertThat(StatusCommand.bytes(3L << 30)).isEqualTo("3.0 GiB");
        assertThat(StatusCommand.duration(59_999)).isEqualTo("59s");
        assertThat(StatusCommand.duration(3_600_000)).isEqualTo("1h00m");
        assertThat(StatusCommand.duration(2 * 86_400_000L + 4 * 3_600_000)).isEqualTo("2d04h");
    }
}
