package io.flotilla.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.flotilla.client.Poll;
import io.flotilla.server.tls.DevCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis's own tools against three node processes started as users start them, fsync on:
 * {@code redis-cli} for each kind of answer, and {@code redis-benchmark} pipelined, once while the
 * leader is killed. Debian's {@code redis-tools} provides both (.ci/run installs it).
 */
class RedisToolsIT {
    private static final Pattern RATE = Pattern.compile("(SET|GET): ([0-9.]+) requests per second");

    @TempDir
    Path dir;

    @BeforeAll
    static void requireTools() {
        for (String tool : List.of("redis-cli", "redis-benchmark")) {
            boolean found = Files.isExecutable(Path.of("/usr/bin", tool));
            if (!found) {
                String missing = "the Redis tools test needs /usr/bin/" + tool + " (Debian: apt-get install redis-tools; .ci/run installs it)";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    fail(missing);
                }
                Assumptions.abort(missing);
            }
        }
    }

    private record Run(int exit, String out) {
    }

    private static Run run(Duration limit, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        byte[] out = p.getInputStream().readAllBytes(); // the tools exit by themselves: their work is bounded by -n
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + limit);
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8).replace('\r', '\n'));
    }

    private static Run cli(int port, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-p", String.valueOf(port)));
        command.addAll(List.of(args));
        return run(Duration.ofSeconds(30), command.toArray(String[]::new));
    }

    private static int leader(ProcessCluster cluster) {
        return cluster.awaitLeader(Duration.ofSeconds(30)).orElseThrow(() -> new AssertionError("no leader within 30 s"));
    }

    @Test
    void redisCliGetsEveryKindOfAnswer() throws Exception {
        try (ProcessCluster cluster = new ProcessCluster(dir, new ProcessCluster.Options(3, false, List.of()).withResp())) {
            cluster.startAll();
            int leader = leader(cluster);
            int follower = leader == 1 ? 2 : 1;
            int port = cluster.respPort(follower);
            assertThat(cli(port, "ping").out()).isEqualTo("PONG\n");
            assertThat(cli(port, "set", "greeting", "hello").out()).isEqualTo("OK\n");
            assertThat(cli(cluster.respPort(leader), "get", "greeting").out()).isEqualTo("hello\n");
            assertThat(cli(port, "get", "nothing").out()).isEqualTo("\n"); // nil, as redis-cli prints it when not on a terminal
            assertThat(cli(port, "cas", "greeting", "hello", "bonjour").out()).isEqualTo("1\n");
            assertThat(cli(port, "mset", "a", "1", "b", "2").out()).isEqualTo("OK\n");
            assertThat(cli(port, "mget", "a", "nothing", "b").out()).isEqualTo("1\n\n2\n");
            assertThat(cli(port, "del", "a", "b", "nothing").out()).isEqualTo("2\n");
            assertThat(cli(port, "flushall").out()).startsWith("ERR unknown command 'flushall'");
            assertThat(cli(port, "info", "replication").out()).contains("role:slave", "flotilla_leader_id:" + leader);
            assertThat(cli(port, "-3", "hello", "3").out()).contains("proto", "flotilla");
        }
    }

    @Test
    void withTlsTheRedisPortSpeaksTlsWithTheNodesCertificate() throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(DevCertificates.commandLine().execute("3", "--dir", certs.toString())).as("bin/flotilla-certs 3").isZero();
        try (ProcessCluster cluster = new ProcessCluster(dir, new ProcessCluster.Options(3, false, List.of(), certs, true))) {
            cluster.startAll();
            int follower = leader(cluster) == 1 ? 2 : 1;
            String port = String.valueOf(cluster.respPort(follower));
            List<String> tls = List.of("redis-cli", "--tls", "--cacert", certs.resolve("ca.pem").toString(),
                    "--cert", certs.resolve("client.pem").toString(), "--key", certs.resolve("client.key").toString(), "-p", port);
            List<String> set = new ArrayList<>(tls);
            set.addAll(List.of("set", "secret", "kept"));
            assertThat(run(Duration.ofSeconds(30), set.toArray(String[]::new)).out()).isEqualTo("OK\n");
            List<String> get = new ArrayList<>(tls);
            get.addAll(List.of("get", "secret"));
            assertThat(run(Duration.ofSeconds(30), get.toArray(String[]::new)).out()).isEqualTo("kept\n");
            Run plain = cli(cluster.respPort(follower), "get", "secret");
            assertThat(plain.out()).as("plaintext gets no answer").doesNotContain("kept");
        }
    }

    @Test
    void redisBenchmarkPipelinedThroughAFollowerLosesNothingWhenTheLeaderIsKilled() throws Exception {
        try (ProcessCluster cluster = new ProcessCluster(dir, new ProcessCluster.Options(3, false, List.of()).withResp())) {
            cluster.startAll();
            int leader = leader(cluster);
            int follower = leader == 1 ? 2 : 1;
            String port = String.valueOf(cluster.respPort(follower));

            Run steady = run(Duration.ofMinutes(2), "redis-benchmark", "-p", port, "-t", "set,get", "-n", "20000", "-c", "16", "-P", "16",
                    "-q");
            assertThat(steady.exit()).as(steady.out()).isZero();
            assertThat(rates(steady.out())).as(steady.out()).containsKeys("SET", "GET");
            assertThat(steady.out()).doesNotContain("ERR", "Error");

            // Distinct keys (-r), so that afterwards every acknowledged one can be counted.
            List<String> command = List.of("redis-benchmark", "-p", port, "-t", "set", "-n", "60000", "-c", "8", "-P", "16",
                    "-r", "1000000000", "-q");
            Process bench = new ProcessBuilder(command).redirectErrorStream(true).start();
            long started = System.nanoTime();
            int follows = cluster.respPort(follower);
            Poll.until(Duration.ofSeconds(30), "the benchmark's first thousand writes", () -> keys(follows) >= 1_000);
            cluster.kill(leader);
            byte[] out = bench.getInputStream().readAllBytes();
            assertThat(bench.waitFor(2, TimeUnit.MINUTES)).as("redis-benchmark finished").isTrue();
            String text = new String(out, StandardCharsets.UTF_8).replace('\r', '\n');
            System.out.printf("[redis] %d SETs through node %d while leader %d was killed, in %.1f s: %s%n", 60_000, follower, leader,
                    (System.nanoTime() - started) / 1e9, rates(text));
            assertThat(bench.exitValue()).as(text).isZero();
            assertThat(text).as("no command failed: the node retried them across the leader change").doesNotContain("ERR", "Error");
            assertThat(leader(cluster)).isNotEqualTo(leader);
        }
    }

    /** The node's DBSIZE, or -1 if it does not answer one. */
    private static long keys(int port) {
        try {
            String size = cli(port, "dbsize").out().trim();
            return size.matches("[0-9]+") ? Long.parseLong(size) : -1;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.util.Map<String, Double> rates(String out) {
        java.util.Map<String, Double> rates = new java.util.TreeMap<>();
        Matcher m = RATE.matcher(out);
        while (m.find()) {
            rates.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return rates;
    }
}
