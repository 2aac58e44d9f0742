package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.cli.FlotillaCli;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code flotilla-client member ...} end to end against real nodes: text, JSON, exit codes, the shell. */
@Timeout(120)
class MemberCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;

    private record Run(int exit, String out, String err) {
    }

    private static Run cli(TestCluster cluster, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 2];
        all[0] = "--cluster";
        all[1] = cluster.clusterAddresses();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = FlotillaCli.run(all, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void memberCommandsListAddPromoteAndRemoveWithTheirExitCodes() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).startAll()) {
            int leader = cluster.awaitLeader();

            Run list = cli(cluster, "", "member", "list");
            assertThat(list.exit()).as("%s", list).isZero();
            List<String> lines = list.out().lines().toList();
            assertThat(lines).hasSize(4);
            for (int id = 1; id <= 3; id++) {
                assertThat(lines.get(id - 1)).matches(id + " " + cluster.address(id).replace(".", "\\.") + " voter match=\\d+ lag=\\d+"
                        + (id == leader ? " leader" : ""));
            }
            assertThat(lines.get(3)).isEqualTo("removed: none");

            JsonNode json = JSON.readTree(cli(cluster, "", "member", "list", "-o", "json").out());
            assertThat(json.get("command").asText()).isEqualTo("member list");
            assertThat(json.get("result").asText()).isEqualTo("ok");
            assertThat(json.get("exitCode").asInt()).isZero();
            assertThat(json.get("leader").asInt()).isEqualTo(leader);
            assertThat(json.get("members")).hasSize(3);
            JsonNode first = json.get("members").get(leader - 1);
            assertThat(first.get("id").asInt()).isEqualTo(leader);
            assertThat(first.get("address").asText()).isEqualTo(cluster.address(leader));
            assertThat(first.get("kind").asText()).isEqualTo("voter");
            assertThat(first.get("lag").asLong()).isZero();
            assertThat(first.get("match").asLong()).isPositive();
            assertThat(first.get("leader").asBoolean()).isTrue();
            assertThat(json.get("removed")).isEmpty();

            cluster.startWith(4, cluster.joinConfig(4));
            Run add = cli(cluster, "", "member", "add", "4", cluster.address(4), "--wait", "--timeout", "60s");
            assertThat(add.exit()).as("%s", add).isZero();
            assertThat(add.out()).isEqualTo("OK\n");
            assertThat(cli(cluster, "", "member", "list").out()).contains("4 " + cluster.address(4) + " voter match=");

            Run again = cli(cluster, "", "member", "add", "4", cluster.address(4));
            assertThat(again).isEqualTo(new Run(4, "", "flotilla-client: member add 4 refused: node 4 is already a member (voter)\n"));
            JsonNode refused = JSON.readTree(cli(cluster, "", "-o", "json", "member", "promote", "9").out());
            assertThat(refused.get("result").asText()).isEqualTo("invalid");
            assertThat(refused.get("exitCode").asInt()).isEqualTo(4);
            assertThat(refused.get("error").asText()).isEqualTo("member promote 9 refused: node 9 is not a member; add it as a learner first");

            Run remove = cli(cluster, "", "-o", "json", "member", "remove", "4");
            assertThat(remove.exit()).as("%s", remove).isZero();
            JsonNode removed = JSON.readTree(remove.out());
            assertThat(removed.get("command").asText()).isEqualTo("member remove");
            assertThat(removed.get("removed").get(0).asInt()).isEqualTo(4);
            assertThat(removed.get("members")).hasSize(3);
            assertThat(cluster.nodes.get(4).awaitStopped(Duration.ofSeconds(10))).isTrue();
            cluster.nodes.remove(4);

            Run reAdd = cli(cluster, "", "member", "add", "4", cluster.address(4));
            assertThat(reAdd.exit()).isEqualTo(4);
            assertThat(reAdd.err()).startsWith("flotilla-client: member add 4 refused: node 4 was removed from this cluster")
                    .hasLineCount(1);
            assertThat(cli(cluster, "", "member", "list").out()).endsWith("removed: 4\n");
            Run learnerWait = cli(cluster, "", "member", "add", "5", "127.0.0.1:1", "--learner", "--wait");
            assertThat(learnerWait.exit()).isEqualTo(4);
            assertThat(learnerWait.err()).contains("a --learner never gets");
            assertThat(cli(cluster, "", "member", "add", "5", "nowhere").err())
                    .isEqualTo("flotilla-client: member add: 'nowhere' is not HOST:PORT\n");
            assertThat(cli(cluster, "", "member").exit()).as("a subcommand is required").isEqualTo(4);

            // The shell runs member commands too; in JSON each line is one object.
            Run shell = cli(cluster, "member list\nmember remove 9\n", "-o", "json", "shell");
            List<String> objects = shell.out().lines().toList();
            assertThat(objects).hasSize(2);
            assertThat(JSON.readTree(objects.get(0)).get("members")).hasSize(3);
            assertThat(JSON.readTree(objects.get(1)).get("error").asText())
                    .isEqualTo("member remove 9 refused: node 9 is not a member");
            assertThat(shell.exit()).isEqualTo(4);

            // status: the configuration each node uses.
            JsonNode status = JSON.readTree(cli(cluster, "", "-o", "json", "status").out());
            assertThat(status.get("nodes").get(0).get("members")).hasSize(3);
            assertThat(status.get("nodes").get(0).get("members").get(0).get("kind").asText()).isEqualTo("voter");
            assertThat(status.get("nodes").get(0).get("removed").asBoolean()).isFalse();
            assertThat(cli(cluster, "", "status").out().lines().findFirst().orElseThrow()).endsWith("MEMBERS");
        }
    }

    @Test
    void anUnreachableClusterExitsWith3() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 1)) { // never started
            Run run = cli(cluster, "", "--timeout", "1s", "member", "add", "4", "127.0.0.1:6004");
            assertThat(run.exit()).as("%s", run).isEqualTo(3);
            assertThat(run.err()).startsWith("flotilla-client: member add 4 failed:").contains("The change was not applied");
            assertThat(cli(cluster, "", "--timeout", "1s", "member", "list").exit()).isEqualTo(3);
        }
    }
}
