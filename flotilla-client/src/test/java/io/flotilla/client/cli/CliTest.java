package io.flotilla.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.FakeCluster;
import io.flotilla.client.FakeCluster.Answer;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Every command's output and exit code, against a fake cluster over real sockets. */
class CliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final FakeCluster cluster = new FakeCluster(3);
    private final String nodes = cluster.addresses();

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of("--cluster", nodes));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    private static JsonNode json(CliRun run) throws Exception {
        assertThat(run.out().lines().count()).as("one JSON line: %s", run).isEqualTo(1);
        return JSON.readTree(run.out());
    }

    @Test
    void theAttemptTimeoutIsItsOwnOption() {
        CliRun bad = cli("--attempt-timeout", "soon", "get", "k");
        assertThat(bad.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(bad.err()).contains("'soon' is not a duration");

        CliRun set = cli("--timeout", "5s", "--attempt-timeout", "200ms", "set", "k", "v");
        assertThat(set.exit()).as("%s", set).isZero();
        assertThat(cli("get", "--help").out()).contains("--attempt-timeout");
    }

    @Test
    void setPrintsOkAndGetPrintsTheValue() {
        CliRun set = cli("set", "greeting", "hello world");
        assertThat(set.exit()).as("%s", set).isZero();
        assertThat(set.out()).isEqualTo("OK\n");
        assertThat(set.err()).isEmpty();

        CliRun get = cli("get", "greeting");
        assertThat(get.exit()).as("%s", get).isZero();
        assertThat(get.out()).isEqualTo("hello world\n");

        CliRun stale = CliRun.of("get", "--stale", "--cluster", nodes, "greeting"); // options after the command too
        assertThat(stale.out()).isEqualTo("hello world\n");
    }

    @Test
    void aMissingKeyExitsWith1() {
        CliRun get = cli("get", "nope");
        assertThat(get.exit()).as("%s", get).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(get.out()).isEmpty();
        assertThat(get.err()).isEqualTo("flotilla-client: get: key \"nope\" not found\n");

        CliRun delete = cli("delete", "nope");
        assertThat(delete.exit()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(delete.err()).contains("delete: key \"nope\" not found");
    }

    @Test
    void deletePrintsOk() {
        cluster.put("k", "v");
        CliRun delete = cli("delete", "k");
        assertThat(delete.exit()).isZero();
        assertThat(delete.out()).isEqualTo("OK\n");
        assertThat(cluster.value("k")).isEmpty();
    }

    @Test
    void casSwapsOrExitsWith2() {
        cluster.put("k", "old");
        CliRun mismatch = cli("cas", "k", "other", "new");
        assertThat(mismatch.exit()).as("%s", mismatch).isEqualTo(ExitCode.CAS_MISMATCH);
        assertThat(mismatch.err()).contains("does not hold the expected value; nothing was written");
        assertThat(cluster.value("k").orElseThrow().utf8()).isEqualTo("old");

        CliRun swap = cli("cas", "k", "old", "new");
        assertThat(swap.exit()).isZero();
        assertThat(swap.out()).isEqualTo("OK\n");
        assertThat(cluster.value("k").orElseThrow().utf8()).isEqualTo("new");

        CliRun present = cli("cas", "--expect-absent", "k", "x");
        assertThat(present.exit()).isEqualTo(ExitCode.CAS_MISMATCH);
        assertThat(present.err()).contains("is present");

        CliRun absent = cli("cas", "--expect-absent", "fresh", "x");
        assertThat(absent.exit()).isZero();
        assertThat(cluster.value("fresh").orElseThrow().utf8()).isEqualTo("x");
    }

    @Test
    void statusShowsEveryNodeTheLeaderAndTheUnreachable() throws Exception {
        cluster.setLeader(2);
        String dead = "127.0.0.1:" + FakeCluster.deadPort();
        CliRun status = CliRun.of("status", "--cluster", nodes + "," + dead);
        assertThat(status.exit()).as("%s", status).isZero();
        List<String> lines = status.out().lines().toList();
        assertThat(lines.get(0)).startsWith("NODE  ADDRESS").contains("ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST", "LAG",
                "SNAPSHOT", "SNAP-AGE", "KEYS", "DISK", "UPTIME", "VERSION", "HEALTH", "MEMBERS");
        assertThat(lines.get(1)).startsWith("1     127.0.0.1:" + cluster.node(1).port()).contains("FOLLOWER");
        assertThat(lines.get(2)).startsWith("2     127.0.0.1:" + cluster.node(2).port()).contains("LEADER");
        assertThat(lines.get(4)).matches("-     " + java.util.regex.Pattern.quote(dead) + " +unreachable: connection refused");
        assertThat(lines).contains("leader: node 2 at 127.0.0.1:" + cluster.node(2).port(), "unreachable: " + dead);

        JsonNode json = json(CliRun.of("status", "-o", "json", "--cluster", nodes + "," + dead));
        assertThat(json.get("leader").get("id").asInt()).isEqualTo(2);
        assertThat(json.get("nodes")).hasSize(4);
        assertThat(json.get("nodes").get(0).get("role").asText()).isEqualTo("FOLLOWER");
        assertThat(json.get("nodes").get(1).get("commitIndex").asLong()).isEqualTo(10);
        assertThat(json.get("nodes").get(3).get("reachable").asBoolean()).isFalse();
        assertThat(json.get("unreachable").get(0).asText()).isEqualTo(dead);
        assertThat(json.get("exitCode").asInt()).isZero();
    }

    @Test
    void anUnreachableClusterExitsWith3AndSaysWhatWasTried() throws Exception {
        String dead = "127.0.0.1:" + FakeCluster.deadPort();
        CliRun set = CliRun.of("--cluster", dead, "--timeout", "1s", "set", "k", "v");
        assertThat(set.exit()).as("%s", set).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(set.out()).isEmpty();
        assertThat(set.err()).startsWith("flotilla-client: set \"k\" failed:")
                .contains(dead + " (connection refused)", "The write was not applied")
                .doesNotContain("\tat ");
        assertThat(set.err().lines().count()).isEqualTo(1);

        CliRun verbose = CliRun.of("--cluster", dead, "--timeout", "300ms", "--verbose", "get", "k");
        assertThat(verbose.exit()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(verbose.err()).contains("ClusterUnavailableException", "\tat ");

        JsonNode json = json(CliRun.of("--cluster", dead, "--timeout", "300ms", "-o", "json", "get", "k"));
        assertThat(json.get("result").asText()).isEqualTo("unavailable");
        assertThat(json.get("exitCode").asInt()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(json.get("mayHaveBeenApplied").asBoolean()).isFalse();
        assertThat(json.get("error").asText()).contains("connection refused");

        CliRun status = CliRun.of("--cluster", dead, "status");
        assertThat(status.exit()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(status.err()).contains("no node answered");
    }

    @Test
    void aWriteWhoseAnswersAreLostExitsWith5() throws Exception {
        cluster.nodes.forEach(n -> n.interceptor = r -> r instanceof Request.Write ? Answer.DROP : null);
        CliRun set = cli("--timeout", "600ms", "set", "k", "v");
        assertThat(set.exit()).as("%s", set).isEqualTo(ExitCode.UNKNOWN_OUTCOME);
        assertThat(set.err()).contains("MAY HAVE BEEN APPLIED");
        JsonNode json = json(cli("--timeout", "600ms", "-o", "json", "delete", "k"));
        assertThat(json.get("result").asText()).isEqualTo("unknown_outcome");
        assertThat(json.get("mayHaveBeenApplied").asBoolean()).isTrue();
    }

    @Test
    void invalidInputExitsWith4() {
        assertThat(cli("get").exit()).isEqualTo(ExitCode.INVALID);
        assertThat(cli("get").err()).contains("Missing required parameter: 'KEY'", "Run 'flotilla-client get --help'");
        assertThat(cli("set", "k").exit()).isEqualTo(ExitCode.INVALID);
        assertThat(cli("get", "--bogus", "k").exit()).isEqualTo(ExitCode.INVALID);
        assertThat(cli("frobnicate").exit()).isEqualTo(ExitCode.INVALID);
        assertThat(cli("cas", "k", "v").exit()).isEqualTo(ExitCode.INVALID);
        CliRun extra = cli("cas", "--expect-absent", "k", "v", "w");
        assertThat(extra.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(extra.err()).contains("cas --expect-absent takes KEY NEW");
        CliRun timeout = cli("--timeout", "soon", "get", "k");
        assertThat(timeout.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(timeout.err()).contains("'soon' is not a duration");
        CliRun badCluster = CliRun.of("--cluster", "nowhere", "get", "k");
        assertThat(badCluster.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(badCluster.err()).contains("--cluster: 'nowhere' is not host:port");
        CliRun refused = cli("set", "", "v"); // the cluster refuses an empty key
        assertThat(refused.exit()).as("%s", refused).isEqualTo(ExitCode.INVALID);
        assertThat(refused.err()).contains("the key is empty");
    }

    @Test
    void everyCommandHasHelpAndTheToolHasAVersion() {
        for (String command : List.of("get", "set", "delete", "cas", "status", "member", "snapshot", "shell", "bench")) {
            CliRun help = CliRun.of(command, "--help");
            assertThat(help.exit()).as("%s --help", command).isZero();
            assertThat(help.out()).contains("Usage: flotilla-client " + command, "--cluster", "--timeout", "--output");
        }
        CliRun help = CliRun.of("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("Commands:", "get", "bench", "Exit codes:", "5  outcome unknown");
        CliRun version = CliRun.of("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).isEqualTo("flotilla-client 0.1.0\n");
    }

    @Test
    void jsonOutputParsesForEveryCommand() throws Exception {
        JsonNode set = json(cli("-o", "json", "set", "k", "v"));
        assertThat(set.get("command").asText()).isEqualTo("set");
        assertThat(set.get("result").asText()).isEqualTo("ok");
        assertThat(set.get("exitCode").asInt()).isZero();

        JsonNode get = json(cli("--output", "JSON", "get", "k"));
        assertThat(get.get("key").asText()).isEqualTo("k");
        assertThat(get.get("value").asText()).isEqualTo("v");

        JsonNode missing = json(cli("-o", "json", "get", "nope"));
        assertThat(missing.get("result").asText()).isEqualTo("not_found");
        assertThat(missing.get("exitCode").asInt()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(missing.has("value")).isFalse();

        JsonNode cas = json(cli("-o", "json", "cas", "k", "x", "y"));
        assertThat(cas.get("result").asText()).isEqualTo("cas_mismatch");
        assertThat(cas.get("exitCode").asInt()).isEqualTo(ExitCode.CAS_MISMATCH);

        JsonNode delete = json(cli("-o", "json", "delete", "k"));
        assertThat(delete.get("result").asText()).isEqualTo("ok");

        JsonNode status = json(cli("-o", "json", "status"));
        assertThat(status.get("nodes")).hasSize(3);

        cluster.node(1).interceptor = r -> r instanceof Request.Write
                ? Answer.respond(new Response.Failure(Response.Code.INVALID, "the value is 9 bytes; the limit is 8")) : null;
        JsonNode invalid = json(cli("-o", "json", "set", "k", "123456789"));
        assertThat(invalid.get("result").asText()).isEqualTo("invalid");
        assertThat(invalid.get("error").asText()).contains("the limit is 8");
    }

    @Test
    void theShellRunsCommandsFromStandardInputOverOneConnection() {
        StringBuilder script = new StringBuilder("# a comment, then a blank line\n\n");
        for (int i = 0; i < 200; i++) {
            script.append("set key").append(i).append(" 'value ").append(i).append("'\n");
        }
        for (int i = 0; i < 200; i += 50) {
            script.append("get key").append(i).append('\n');
        }
        script.append("cas key0 \"value 0\" changed\nget key0\ndelete key1\nget key1\n");
        CliRun run = CliRun.withInput(script.toString(), "--cluster", nodes, "shell");
        assertThat(run.exit()).as("%s", run).isEqualTo(ExitCode.NOT_FOUND); // the last command's
        List<String> lines = run.out().lines().toList();
        assertThat(lines).hasSize(200 + 4 + 3);
        assertThat(lines.subList(0, 200)).containsOnly("OK");
        assertThat(lines.subList(200, 204)).containsExactly("value 0", "value 50", "value 100", "value 150");
        assertThat(lines.subList(204, 207)).containsExactly("OK", "changed", "OK");
        assertThat(run.err()).isEqualTo("flotilla-client: get: key \"key1\" not found\n");
        assertThat(cluster.node(1).connections.get()).isEqualTo(1);
        assertThat(cluster.node(1).dataRequests()).hasSize(200 + 4 + 4);
    }

    @Test
    void theShellReportsBadLinesAndCanStopAtTheFirstError() throws Exception {
        CliRun run = CliRun.withInput("set a 1\nfrobnicate\nset \"unclosed\nget\nhelp\nget a\nexit\nget a\n", "--cluster", nodes, "shell");
        assertThat(run.exit()).as("%s", run).isZero();
        assertThat(run.out().lines().toList()).containsExactly("OK",
                "commands: get KEY [--stale] | set KEY VALUE | delete KEY | cas KEY EXPECTED NEW | cas --expect-absent KEY NEW | "
                        + "status | member list|add|promote|remove | exit;  COMMAND --help for more", "1");
        assertThat(run.err()).contains("unknown command 'frobnicate'", "unclosed double quote", "Missing required parameter: 'KEY'");

        CliRun stop = CliRun.withInput("set a 1\nfrobnicate\nset b 2\n", "--cluster", nodes, "shell", "--stop-on-error");
        assertThat(stop.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(stop.out()).isEqualTo("OK\n");
        assertThat(cluster.value("b")).isEmpty();

        CliRun json = CliRun.withInput("set a 1\nget a\nget zz\n", "--cluster", nodes, "-o", "json", "shell");
        List<String> lines = json.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(JSON.readTree(lines.get(1)).get("value").asText()).isEqualTo("1");
        assertThat(JSON.readTree(lines.get(2)).get("result").asText()).isEqualTo("not_found");
    }

    @Test
    void setReadsAnyBytesFromStandardInputOrAFile() throws Exception {
        byte[] binary = new byte[256 * 4];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i; // every byte value, invalid UTF-8 included
        }
        CliRun stdin = CliRun.withInput(new java.io.ByteArrayInputStream(binary), "--cluster", nodes, "set", "bin", "-");
        assertThat(stdin.exit()).as("%s", stdin).isZero();
        assertThat(cluster.value("bin").orElseThrow().toByteArray()).isEqualTo(binary);

        java.nio.file.Path file = java.nio.file.Files.createTempFile("value", ".bin");
        try {
            java.nio.file.Files.write(file, java.util.Arrays.copyOf(binary, 300));
            CliRun fromFile = cli("set", "file", "--value-file", file.toString());
            assertThat(fromFile.exit()).as("%s", fromFile).isZero();
            assertThat(cluster.value("file").orElseThrow().toByteArray()).isEqualTo(java.util.Arrays.copyOf(binary, 300));

            CliRun tooLong = cli("set", "file2", "--value-file", file.toString(), "--max-value-bytes", "299");
            assertThat(tooLong.exit()).isEqualTo(ExitCode.INVALID);
            assertThat(tooLong.err()).isEqualTo("flotilla-client: --value-file " + file
                    + " (300 bytes) is longer than the limit of 299 bytes (--max-value-bytes)\n");
            assertThat(cluster.value("file2")).isEmpty();
        } finally {
            java.nio.file.Files.delete(file);
        }
        CliRun missing = cli("set", "k", "--value-file", "/nonexistent/value");
        assertThat(missing.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(missing.err()).isEqualTo("flotilla-client: --value-file /nonexistent/value does not exist\n");
        assertThat(cli("set", "k", "v", "--value-file", "x").exit()).isEqualTo(ExitCode.INVALID);
    }

    @Test
    void anEndlessStandardInputIsRefusedAtTheLimitWithoutReadingItAll() {
        java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
        java.io.InputStream endless = new java.io.InputStream() {
            @Override
            public int read() {
                read.incrementAndGet();
                return 'x';
            }
        };
        CliRun run = CliRun.withInput(endless, "--cluster", nodes, "set", "k", "-");
        assertThat(run.exit()).as("%s", run).isEqualTo(ExitCode.INVALID);
        assertThat(run.err()).isEqualTo(
                "flotilla-client: the value on standard input is longer than the limit of 1048576 bytes (--max-value-bytes)\n");
        assertThat(read.get()).isLessThanOrEqualTo((1 << 20) + 1);
        assertThat(cluster.value("k")).isEmpty();
    }

    @Test
    void argumentsThatWereNotValidInTheTerminalsCharsetAreRefused() {
        CliRun run = cli("set", "k", "caf\uFFFD"); // what Java makes of bytes its charset cannot decode
        assertThat(run.exit()).isEqualTo(ExitCode.INVALID);
        assertThat(run.err()).startsWith("flotilla-client: 'caf\uFFFD' is not valid text in this terminal's character set (")
                .endsWith("); refused rather than stored with replacement characters (\uFFFD)\n");
        assertThat(run.err().lines()).hasSize(1);
        assertThat(cluster.value("k")).isEmpty();
    }

    @Test
    void inJsonEveryShellLineGivesExactlyOneJsonLine() throws Exception {
        List<String> input = List.of("set a 1", "frobnicate", "set \"unclosed", "get", "help", "get --help", "get a",
                "set b -", "set c caf\uFFFD", "cas a", "get zz");
        String script = "# comments and blank lines are not commands\n\n" + String.join("\n", input) + "\n";
        CliRun run = CliRun.withInput(script, "--cluster", nodes, "-o", "json", "shell");
        List<String> lines = run.out().lines().toList();
        assertThat(lines).as("%s", run).hasSize(input.size());
        List<String> results = new ArrayList<>();
        for (String line : lines) {
            results.add(JSON.readTree(line).get("result").asText());
        }
        assertThat(results).containsExactly("ok", "invalid", "invalid", "invalid", "ok", "ok", "ok", "invalid", "invalid", "invalid",
                "not_found");
        assertThat(JSON.readTree(lines.get(1)).get("error").asText()).contains("unknown command 'frobnicate'");
        assertThat(JSON.readTree(lines.get(3)).get("error").asText()).contains("Missing required parameter: 'KEY'");
        assertThat(JSON.readTree(lines.get(5)).get("help").asText()).contains("Usage: flotilla-client get");
        assertThat(JSON.readTree(lines.get(7)).get("error").asText()).contains("use --value-file FILE");
        assertThat(JSON.readTree(lines.get(3)).get("exitCode").asInt()).isEqualTo(ExitCode.INVALID);
        assertThat(run.err()).isEmpty();
    }
}
