package io.flotilla.server;

import io.flotilla.client.Poll;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} of a three-node cluster over real sockets: the text is parsed by the official
 * Prometheus Python client's parser (Debian's python3-prometheus-client, which .ci/run installs), and
 * the values move when writes and reads happen.
 */
class MetricsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
    /** Reads the exposition on stdin, writes every family with its samples as JSON. */
    private static final String PARSE = String.join("\n",
            "import json, sys",
            "from prometheus_client.parser import text_string_to_metric_families",
            "families = [{'name': f.name, 'type': f.type, 'help': f.documentation,",
            "             'samples': [{'name': s.name, 'labels': s.labels, 'value': s.value} for s in f.samples]}",
            "            for f in text_string_to_metric_families(sys.stdin.read())]",
            "json.dump(families, sys.stdout)");
    private static String python;

    @TempDir
    Path dir;
    private TestCluster cluster;
    private final Map<Integer, Integer> httpPorts = new TreeMap<>();

    /** A Python that has the parser: Debian's first (a pyenv shim on PATH may lack it). */
    @BeforeAll
    static void findParser() throws Exception {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import prometheus_client.parser").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    python = candidate;
                    return;
                }
            } catch (IOException absent) {
                // try the next
            }
        }
        String missing = "the Prometheus Python client's parser is missing: apt-get install python3-prometheus-client";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(missing + " (.ci/run installs it)");
        }
        Assumptions.abort(missing);
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void start(int id) throws IOException {
        ServerConfig config = cluster.config(id);
        int port = httpPorts.computeIfAbsent(id, k -> TestPorts.next());
        cluster.startWith(id, config.with(config.admin().withHttpPort(port)));
    }

    @Test
    void metricsParseAndMoveWithWritesReadsSnapshotsAndACatchingUpFollower() throws Exception {
        cluster = new TestCluster(dir, 3);
        cluster.snapshotEntries = 20; // so that writes below take snapshots, and a restarted follower installs one
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        int leader = cluster.awaitLeader();
        int follower = leader % 3 + 1;

        HttpResponse<String> raw = get(leader);
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        Scrape before = parse(raw.body());
        for (String family : List.of("flotilla_info", "flotilla_role", "flotilla_term", "flotilla_leader_id", "flotilla_commit_index",
                "flotilla_applied_index", "flotilla_last_index", "flotilla_leader_changes", "flotilla_elections",
                "flotilla_proposals", "flotilla_reads", "flotilla_request_duration_seconds", "flotilla_fsync_duration_seconds",
                "flotilla_fsync_batch_entries", "flotilla_append_entries_batch_entries", "flotilla_follower_match_index",
                "flotilla_follower_lag_entries", "flotilla_snapshot_duration_seconds", "flotilla_snapshot_bytes",
                "flotilla_sessions", "flotilla_keys", "flotilla_client_connections", "flotilla_open_connections",
                "flotilla_network_received_bytes", "flotilla_network_sent_bytes", "flotilla_healthy",
                "jvm_memory_used_bytes", "jvm_gc_collection_seconds")) {
            assertThat(before.families.containsKey(family)).as("family " + family + " is there").isTrue();
        }
        assertThat(before.families.get("flotilla_request_duration_seconds").get("type").asText()).isEqualTo("histogram");
        assertThat(before.families.get("flotilla_proposals").get("type").asText()).isEqualTo("counter");
        assertThat(before.value("flotilla_role", Map.of("role", "leader"))).isEqualTo(1);
        assertThat(before.value("flotilla_role", Map.of("role", "follower"))).isEqualTo(0);
        assertThat(before.value("flotilla_leader_id", Map.of())).isEqualTo(leader);
        assertThat(before.value("flotilla_term", Map.of())).isPositive();
        assertThat(before.value("flotilla_leader_changes_total", Map.of())).isGreaterThanOrEqualTo(1);
        assertThat(before.value("flotilla_healthy", Map.of())).isEqualTo(1);
        assertThat(before.value("flotilla_info", Map.of("node_id", Integer.toString(leader)))).isEqualTo(1);
        assertThat(before.sum("jvm_memory_used_bytes", l -> "heap".equals(l.get("area")))).isPositive();
        assertThat(before.value("flotilla_follower_match_index", Map.of("follower", Integer.toString(follower)))).isNotNegative();
        Scrape followerBefore = parse(get(follower).body());
        assertThat(followerBefore.value("flotilla_role", Map.of("role", "follower"))).isEqualTo(1);
        assertThat(followerBefore.samples("flotilla_follower_match_index")).isEmpty();

        int writes = 30;
        NodeConnection c = cluster.connect(leader);
        NodeConnection viaFollower = cluster.connect(follower);
        Scrape after;
        Scrape followerAfter;
        try {
            for (int i = 0; i < writes; i++) {
                assertThat(cluster.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
            }
            assertThat(TestCluster.get(c, "k1")).isEqualTo(new Response.Value(Bytes.utf8("v1")));
            assertThat(TestCluster.get(c, "absent")).isEqualTo(Response.NOT_FOUND);
            assertThat(TestCluster.call(c, new Request.Get(Bytes.utf8("k2"), true))).isEqualTo(new Response.Value(Bytes.utf8("v2")));
            assertThat(cluster.set(viaFollower, "relayed", "x")).isEqualTo(Response.OK); // the follower relays it to the leader

            long commit = cluster.nodes.get(leader).raft().status().commitIndex();
            after = awaitScrape(leader, s -> s.value("flotilla_follower_match_index", Map.of("follower", Integer.toString(follower)))
                    >= commit && s.sum("flotilla_snapshot_duration_seconds_count", l -> "taken".equals(l.get("kind"))) >= 1);
            followerAfter = parse(get(follower).body());
            assertThat(after.value("flotilla_applied_index", Map.of())).isGreaterThanOrEqualTo(commit);
        } finally {
            c.close();
            viaFollower.close();
        }
        assertThat(after.value("flotilla_commit_index", Map.of())).isGreaterThanOrEqualTo(before.value("flotilla_commit_index", Map.of())
                + writes + 1);
        assertThat(after.value("flotilla_client_connections", Map.of())).isEqualTo(1);
        assertThat(after.value("flotilla_open_connections", Map.of())).isGreaterThanOrEqualTo(2); // the client and a follower's link
        assertThat(after.value("flotilla_keys", Map.of())).isEqualTo(writes + 1);
        assertThat(after.value("flotilla_sessions", Map.of())).isGreaterThanOrEqualTo(1);
        // By outcome and source: the leader answered 30 writes of its own client and one the follower relayed.
        assertThat(after.value("flotilla_proposals_total", Map.of("outcome", "ok", "source", "client"))).isEqualTo(writes);
        assertThat(after.value("flotilla_proposals_total", Map.of("outcome", "ok", "source", "relay"))).isEqualTo(1);
        assertThat(after.value("flotilla_reads_total", Map.of("outcome", "ok", "consistency", "linearizable", "source", "client")))
                .isEqualTo(1);
        assertThat(after.value("flotilla_reads_total", Map.of("outcome", "not_found", "consistency", "linearizable", "source", "client")))
                .isEqualTo(1);
        assertThat(after.value("flotilla_reads_total", Map.of("outcome", "ok", "consistency", "stale", "source", "client"))).isEqualTo(1);
        assertThat(after.value("flotilla_request_duration_seconds_count", Map.of("command", "set", "source", "client"))).isEqualTo(writes);
        assertThat(after.value("flotilla_request_duration_seconds_count", Map.of("command", "get", "source", "client"))).isEqualTo(3);
        assertThat(after.value("flotilla_request_duration_seconds_sum", Map.of("command", "set", "source", "client"))).isPositive();
        assertThat(after.value("flotilla_request_duration_seconds_bucket", Map.of("command", "set", "source", "client", "le", "+Inf")))
                .isEqualTo(writes);
        // Group commit: every entry synced once, however they were batched.
        assertThat(after.value("flotilla_fsync_duration_seconds_count", Map.of()))
                .isGreaterThan(before.value("flotilla_fsync_duration_seconds_count", Map.of()));
        assertThat(after.value("flotilla_fsync_batch_entries_sum", Map.of()) - before.value("flotilla_fsync_batch_entries_sum", Map.of()))
                .isGreaterThanOrEqualTo(writes + 1);
        assertThat(after.value("flotilla_append_entries_batch_entries_sum", Map.of())
                - before.value("flotilla_append_entries_batch_entries_sum", Map.of())).isGreaterThanOrEqualTo(2 * (writes + 1));
        assertThat(after.value("flotilla_snapshot_bytes_total", Map.of("kind", "taken"))).isPositive();
        assertThat(after.value("flotilla_follower_lag_entries", Map.of("follower", Integer.toString(follower)))).isNotNegative();
        // A node sends its messages over its own links (outbound) and receives its peers' on its port (inbound),
        // where its clients are too; outbound links only bring back the peers' hello replies.
        for (List<String> moved : List.of(List.of("flotilla_network_received_bytes_total", "inbound"),
                List.of("flotilla_network_sent_bytes_total", "inbound"), List.of("flotilla_network_sent_bytes_total", "outbound"))) {
            Map<String, String> labels = Map.of("connections", moved.get(1));
            assertThat(after.value(moved.get(0), labels)).as(moved.toString()).isGreaterThan(before.value(moved.get(0), labels));
        }
        assertThat(followerAfter.value("flotilla_proposals_total", Map.of("outcome", "ok", "source", "client"))).isEqualTo(1);
        assertThat(followerAfter.value("flotilla_client_connections", Map.of())).isEqualTo(1);
        assertThat(followerAfter.value("flotilla_fsync_batch_entries_sum", Map.of())).isGreaterThanOrEqualTo(writes + 1);

        // A follower that missed more than the leader's log keeps catches up through a snapshot, and says so.
        cluster.halt(follower);
        NodeConnection again = cluster.connect(leader);
        try {
            for (int i = 0; i < 3 * cluster.snapshotEntries; i++) {
                assertThat(cluster.set(again, "later" + i, "v")).isEqualTo(Response.OK);
            }
        } finally {
            again.close();
        }
        start(follower);
        Scrape caughtUp = awaitScrape(follower, s -> s.sum("flotilla_snapshot_duration_seconds_count",
                l -> "installed".equals(l.get("kind"))) >= 1);
        assertThat(caughtUp.value("flotilla_snapshot_bytes_total", Map.of("kind", "installed"))).isPositive();
        assertThat(caughtUp.value("flotilla_leader_id", Map.of())).isEqualTo(leader);
    }

    @Test
    void aScrapeAnswersHeadAndNeedsNoRaftYet() throws Exception {
        // A node whose HTTP port is up before its Raft node runs (a joiner waits to be added) still answers.
        cluster = new TestCluster(dir, 1);
        ServerConfig joiner = cluster.joinConfig(7);
        int port = TestPorts.next();
        httpPorts.put(7, port);
        cluster.startWith(7, joiner.with(joiner.admin().withHttpPort(port)));
        HttpResponse<String> answer = get(7);
        assertThat(answer.statusCode()).isEqualTo(200);
        Scrape s = parse(answer.body());
        assertThat(s.value("flotilla_healthy", Map.of())).isZero();
        assertThat(s.samples("flotilla_commit_index")).isEmpty();
        assertThat(s.families).containsKey("jvm_memory_used_bytes");
        HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(uri(7)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
    }

    private URI uri(int id) {
        return URI.create("http://127.0.0.1:" + httpPorts.get(id) + "/metrics");
    }

    private HttpResponse<String> get(int id) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri(id)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes until {@code done} holds (up to 30 s: a loaded machine is slow). */
    private Scrape awaitScrape(int id, Predicate<Scrape> done) {
        Scrape[] last = new Scrape[1];
        Poll.until(Duration.ofSeconds(30), "node " + id + "'s metrics get there", () -> {
            try {
                last[0] = parse(get(id).body());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return done.test(last[0]);
        }, () -> "; last scrape: " + (last[0] == null ? "none" : last[0].families.keySet()));
        return last[0];
    }

    /** The exposition as the Prometheus client's parser reads it; it fails on anything malformed. */
    private static Scrape parse(String text) throws Exception {
        Process p = new ProcessBuilder(python, "-c", PARSE).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the parser finished").isTrue();
        assertThat(p.exitValue()).as("the Prometheus parser's exit status for:\n" + text).isZero();
        return new Scrape(JSON.readTree(out));
    }

    /** Parsed families by name, each {@code {name, type, help, samples: [{name, labels, value}]}}. */
    private static final class Scrape {
        final Map<String, JsonNode> families = new TreeMap<>();
        private final List<JsonNode> samples = new ArrayList<>();

        Scrape(JsonNode parsed) {
            Set<String> series = new HashSet<>();
            for (JsonNode f : parsed) {
                assertThat(families.put(f.get("name").asText(), f)).as("family " + f.get("name") + " appears once").isNull();
                assertThat(f.get("help").asText()).as("help of " + f.get("name")).isNotEmpty();
                for (JsonNode s : f.get("samples")) {
                    assertThat(series.add(s.get("name").asText() + s.get("labels"))).as("one sample per series: " + s).isTrue();
                    samples.add(s);
                }
            }
        }

        /** The samples of family {@code family} (none if the family is absent). */
        List<JsonNode> samples(String family) {
            List<JsonNode> out = new ArrayList<>();
            JsonNode f = families.get(family);
            if (f != null) {
                f.get("samples").forEach(out::add);
            }
            return out;
        }

        /** The one sample named {@code name} whose labels include {@code labels}. */
        double value(String name, Map<String, String> labels) {
            List<JsonNode> found = matching(name, l -> labels.entrySet().stream().allMatch(e -> e.getValue().equals(l.get(e.getKey()))));
            assertThat(found).as(name + labels).hasSize(1);
            return found.get(0).get("value").asDouble();
        }

        double sum(String name, Predicate<Map<String, String>> labels) {
            return matching(name, labels).stream().mapToDouble(s -> s.get("value").asDouble()).sum();
        }

        private List<JsonNode> matching(String name, Predicate<Map<String, String>> labels) {
            List<JsonNode> out = new ArrayList<>();
            for (JsonNode s : samples) {
                if (s.get("name").asText().equals(name)) {
                    Map<String, String> l = new TreeMap<>();
                    s.get("labels").fields().forEachRemaining(e -> l.put(e.getKey(), e.getValue().asText()));
                    if (labels.test(l)) {
                        out.add(s);
                    }
                }
            }
            return out;
        }
    }
}
