package io.flotilla.client.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.ClientOptions;
import io.flotilla.client.FakeCluster;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.cli.FlotillaCli;
import io.flotilla.client.wire.Request;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BenchTest {
    private final FakeCluster cluster = new FakeCluster(3);

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void runsTheRequestedNumberOfCallsAndMeasuresThem() throws Exception {
        BenchConfig config = new BenchConfig(300, 20, 8, 50, 16, 10, Workload.parse("mixed:0.5"), false);
        BenchResult result;
        StringWriter progress = new StringWriter();
        try (FlotillaClient client = FlotillaClient.create(ClientOptions.of(cluster.addresses()))) {
            result = new Bench(client, config).run(new PrintWriter(progress), false);
        }
        assertThat(result.completed()).isEqualTo(300);
        assertThat(result.errors()).isZero();
        assertThat(result.latencyMicros().getTotalCount()).isEqualTo(300);
        assertThat(result.percentileMillis(50)).isPositive().isLessThanOrEqualTo(result.maxMillis());
        List<Request> sent = cluster.node(1).dataRequests();
        assertThat(sent).hasSize(320);
        assertThat(sent.stream().filter(r -> r instanceof Request.Get).count()).isBetween(80L, 240L);
        assertThat(sent).filteredOn(r -> r instanceof Request.Set).allSatisfy(r -> {
            Request.Set set = (Request.Set) r;
            assertThat(set.key().length()).isEqualTo(16);
            assertThat(set.key().utf8()).matches("0{14}[0-9]{2}");
            assertThat(set.value().length()).isEqualTo(10);
        });
    }

    @Test
    void theCommandPrintsPercentilesAsTextOrJson() throws Exception {
        String[] args = {"--cluster", cluster.addresses(), "bench", "--requests", "200", "--clients", "4", "--keys", "100",
            "--workload", "read", "--stale"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(args, new ByteArrayInputStream(new byte[0]), out, err);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(text + err).isZero();
        assertThat(text).contains("bench: read, 200 requests", "stale reads", "200 requests in", "requests/s, 0 errors",
                "p50", "p90", "p99 ", "p99.9", "max", "leader changes: 0 (terms 1 -> 1)");

        out.reset();
        String[] json = {"--cluster", cluster.addresses(), "-o", "json", "bench", "--requests", "100", "--workload", "write"};
        assertThat(FlotillaCli.run(json, new ByteArrayInputStream(new byte[0]), out, err)).isZero();
        JsonNode result = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(result.get("completed").asLong()).isEqualTo(100);
        assertThat(result.get("workload").asText()).isEqualTo("write");
        assertThat(result.get("throughput").asDouble()).isPositive();
        assertThat(result.get("latencyMs").get("p99.9").asDouble()).isPositive();
        assertThat(result.get("exitCode").asInt()).isZero();
        assertThat(result.get("leaderChanges").asLong()).isZero();
        assertThat(result.get("durationSeconds").isNull()).isTrue();
    }

    @Test
    @Timeout(30) // a run that ignored its duration would never end
    void aDurationRunsForThatLongInsteadOfANumberOfRequests() throws Exception {
        String[] args = {"--cluster", cluster.addresses(), "-o", "json", "bench", "--duration", "1500ms", "--clients", "4"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(args, new ByteArrayInputStream(new byte[0]), out, err);
        JsonNode result = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(exit).as("%s %s", result, err).isZero();
        assertThat(result.get("durationSeconds").asDouble()).isEqualTo(1.5);
        assertThat(result.get("requests").isNull()).isTrue();
        assertThat(result.get("elapsedSeconds").asDouble()).isGreaterThanOrEqualTo(1.5);
        assertThat(result.get("completed").asLong()).isPositive().isEqualTo(cluster.node(1).dataRequests().size());

        out.reset();
        String[] text = {"--cluster", cluster.addresses(), "bench", "--duration", "0.2s", "--warmup", "10"};
        assertThat(FlotillaCli.run(text, new ByteArrayInputStream(new byte[0]), out, err)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("bench: write, 0.2 s (+10 warmup), 16 in flight");
    }

    @Test
    void requestsAndDurationExcludeEachOther() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] both = {"bench", "--requests", "10", "--duration", "5s"};
        assertThat(FlotillaCli.run(both, new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), err)).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(
                "flotilla-client: Error: --requests=N, --duration=DURATION are mutually exclusive (specify only one)");
        err.reset();
        String[] zero = {"bench", "--duration", "0s"};
        assertThat(FlotillaCli.run(zero, new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), err)).isEqualTo(4);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("'0s' is not a positive duration");
        assertThatThrownBy(() -> new BenchConfig(10, java.time.Duration.ofSeconds(1), 0, 1, 10, 16, 1, Workload.parse("write"), false))
                .hasMessage("--requests and --duration exclude each other: run a number of requests or for a time");
    }

    @Test
    void aLeaderChangeDuringTheRunIsCountedAsANewTerm() throws Exception {
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        cluster.node(1).interceptor = r -> {
            if (r instanceof Request.Write && writes.incrementAndGet() == 50) {
                cluster.setLeader(2); // node 1 goes on relaying to it, as a follower does
            }
            return null;
        };
        String[] args = {"--cluster", cluster.addresses(), "bench", "--requests", "200", "--clients", "4"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(args, new ByteArrayInputStream(new byte[0]), out, err);
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(text + err).isZero();
        assertThat(text).contains("leader changes: 1 (terms 1 -> 2)", "leaders: node 1 (term 1, ", "node 2 (term 2, ");
    }

    @Test
    void failedRequestsAreCountedAndExitWith3() throws Exception {
        String dead = "127.0.0.1:" + FakeCluster.deadPort();
        String[] args = {"--cluster", dead, "--timeout", "200ms", "bench", "--requests", "5", "--clients", "5"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(args, new ByteArrayInputStream(new byte[0]), out, err);
        assertThat(exit).isEqualTo(3);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("5 errors", "first error: set");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bench: 5 of 5 requests failed");
    }

    @Test
    void workloadsAndSizesAreValidated() {
        assertThat(Workload.parse("write").readFraction()).isZero();
        assertThat(Workload.parse("read").readFraction()).isEqualTo(1);
        assertThat(Workload.parse("mixed").readFraction()).isEqualTo(0.5);
        assertThat(Workload.parse("MIXED:0.9").readFraction()).isEqualTo(0.9);
        assertThatThrownBy(() -> Workload.parse("mixed:2")).hasMessageContaining("between 0 and 1");
        assertThatThrownBy(() -> Workload.parse("scan")).hasMessageContaining("not a workload");
        assertThatThrownBy(() -> new BenchConfig(1, 0, 1, 10000, 3, 1, Workload.parse("write"), false))
                .hasMessageContaining("--key-size 3 is too short");
        String[] bad = {"bench", "--workload", "scan"};
        assertThat(FlotillaCli.run(bad, new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), new ByteArrayOutputStream()))
                .isEqualTo(4);
    }

    @Test
    void requestsAllRefusedAsInvalidExitWith4() throws Exception {
        cluster.nodes.forEach(n -> n.interceptor = r -> r instanceof Request.Write
                ? FakeCluster.Answer.respond(new io.flotilla.client.wire.Response.Failure(io.flotilla.client.wire.Response.Code.INVALID,
                        "the value is 128 bytes; the limit is 100")) : null);
        String[] args = {"--cluster", cluster.addresses(), "-o", "json", "bench", "--requests", "20", "--clients", "4"};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(args, new ByteArrayInputStream(new byte[0]), out, new ByteArrayOutputStream());
        JsonNode result = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(exit).as("%s", result).isEqualTo(4);
        assertThat(result.get("result").asText()).isEqualTo("invalid");
        assertThat(result.get("failures").get("invalid").asLong()).isEqualTo(20);
    }
}
