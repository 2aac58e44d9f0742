package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.NodeStatus;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Member;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster page's resource and its {@code /cluster} answer, over real sockets (the browser test is ClusterPageIT). */
class ClusterPageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path data;

    @Test
    void thePageIsOneSelfContainedFileThatFetchesNothingFromElsewhere() throws Exception {
        String page;
        try (InputStream in = ClusterPage.class.getResourceAsStream("cluster-page.html")) {
            page = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(page).doesNotContainIgnoringCase("http://").doesNotContainIgnoringCase("https://")
                .doesNotContain("//cdn").doesNotContainIgnoringCase("@import").doesNotContainIgnoringCase("url(");
        assertThat(Pattern.compile("<script[^>]*\\bsrc\\s*=", Pattern.CASE_INSENSITIVE).matcher(page).find()).isFalse();
        assertThat(Pattern.compile("<link\\b", Pattern.CASE_INSENSITIVE).matcher(page).find()).isFalse();
        assertThat(Pattern.compile("<(img|iframe|object|embed)\\b", Pattern.CASE_INSENSITIVE).matcher(page).find()).isFalse();
        // The only request it makes, and a policy that makes the browser refuse any other.
        assertThat(Pattern.compile("fetch\\(([^)]*)\\)").matcher(page).results().map(m -> m.group(1).split(",")[0].trim()).toList())
                .containsExactly("\"/cluster\"");
        assertThat(page).contains("Content-Security-Policy").contains("default-src 'none'").contains("connect-src 'self'");
    }

    @Test
    void clusterShowsEveryMemberThroughAnyNodeAndAStoppedOneWithItsError() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 3).withHttp().startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader % 3 + 1;
            int other = 6 - leader - follower;
            NodeConnection c = cluster.connect(follower);
            cluster.set(c, "k", "v");
            TestCluster.get(c, "k");

            HttpResponse<String> page = get(cluster, follower, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
            assertThat(page.body()).contains("<title>Flotilla cluster</title>");

            JsonNode view = JSON.readTree(get(cluster, follower, "/cluster").body());
            assertThat(view.get("via").asInt()).isEqualTo(follower);
            assertThat(ids(view)).containsExactly(1, 2, 3);
            for (JsonNode m : view.get("members")) {
                int id = m.get("id").asInt();
                assertThat(m.get("reachable").asBoolean()).as("node %d reachable", id).isTrue();
                assertThat(m.get("role").asText()).isEqualTo(id == leader ? "LEADER" : "FOLLOWER");
                assertThat(m.get("address").asText()).isEqualTo(cluster.address(id));
                assertThat(m.get("self").asBoolean()).isEqualTo(id == follower);
                assertThat(m.get("kind").asText()).isEqualTo("voter");
                assertThat(m.get("version").asText()).isNotEmpty();
                assertThat(m.has("lag") && m.has("snapshotIndex") && m.has("healthy") && m.has("uptimeMillis")).isTrue();
            }
            // The write and the read were sent to the follower: they count there, not again at the leader it relayed to.
            JsonNode asked = member(view, follower);
            assertThat(asked.get("requests").get("writes").asLong()).isEqualTo(1);
            assertThat(asked.get("requests").get("reads").asLong()).isEqualTo(1);
            assertThat(member(view, leader).get("requests").get("writes").asLong()).isZero();

            cluster.halt(other);
            // Answers are shared for ClusterPage.FRESH; once they are not, the page shows the node unreachable,
            // and never waits long for it.
            JsonNode[] after = new JsonNode[1];
            Poll.until("node " + other + " shown unreachable", () -> {
                long start = System.nanoTime();
                after[0] = view(cluster, follower);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
                return !member(after[0], other).get("reachable").asBoolean();
            });
            JsonNode down = member(after[0], other);
            assertThat(down.get("reachable").asBoolean()).isFalse();
            assertThat(down.get("error").asText()).isNotEmpty();
            assertThat(down.get("address").asText()).isEqualTo(cluster.address(other));
            assertThat(member(after[0], leader).get("reachable").asBoolean()).isTrue();
            c.close();
        }
    }

    @Test
    void aSilentMemberIsShownUnreachableAfterTheTimeoutAndPollsMeanwhileShareOneGather() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        // Accepts connections (the kernel completes them) and never answers a hello.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String silentAddress = "127.0.0.1:" + silent.getLocalPort();
            ClusterConfig members = new ClusterConfig(List.of(new Member(1, "127.0.0.1:1", Member.Kind.VOTER),
                    new Member(2, silentAddress, Member.Kind.VOTER)), Set.of());
            NodeStatus self = new NodeStatus(1, "FOLLOWER", 4, 0, 10, 10, 11, new TreeMap<>(Map.of(1, Member.Kind.VOTER,
                    2, Member.Kind.VOTER)), false, new NodeStatus.Details("test", 1000, 10, 0, 0, 0, 3, 100,
                    "no leader is known", 5, 6));
            AtomicLong clock = new AtomicLong();
            ClusterPage page = new ClusterPage(1, "test", () -> members,
                    id -> Optional.of(id == 1 ? new InetSocketAddress("127.0.0.1", 1) : new InetSocketAddress("127.0.0.1", silent.getLocalPort())),
                    () -> self, group, 1 << 20, null, clock::get);
            try {
                long start = System.nanoTime();
                List<CompletableFuture<byte[]>> polls = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    polls.add(page.json());
                }
                assertThat(polls).allMatch(p -> p == polls.get(0));
                JsonNode view = JSON.readTree(polls.get(0).get(10, TimeUnit.SECONDS));
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(took).isGreaterThanOrEqualTo(ClusterPage.TIMEOUT.minusMillis(50)).isLessThan(Duration.ofSeconds(3));
                assertThat(page.gathers()).isEqualTo(1);
                JsonNode silentOne = member(view, 2);
                assertThat(silentOne.get("reachable").asBoolean()).isFalse();
                assertThat(silentOne.get("error").asText()).isEqualTo("no answer within 500 ms");
                JsonNode me = member(view, 1);
                assertThat(me.get("self").asBoolean()).isTrue();
                assertThat(me.get("healthProblem").asText()).isEqualTo("no leader is known");
                assertThat(me.get("requests").get("writes").asLong()).isEqualTo(5);

                assertThat(page.json()).isSameAs(polls.get(0)); // still fresh
                clock.addAndGet(ClusterPage.FRESH.toNanos());
                assertThat(page.json()).isNotSameAs(polls.get(0));
                assertThat(page.gathers()).isEqualTo(2);
            } finally {
                page.close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static List<Integer> ids(JsonNode view) {
        List<Integer> out = new ArrayList<>();
        view.get("members").forEach(m -> out.add(m.get("id").asInt()));
        return out;
    }

    private static JsonNode member(JsonNode view, int id) {
        for (JsonNode m : view.get("members")) {
            if (m.get("id").asInt() == id) {
                return m;
            }
        }
        throw new AssertionError("no member " + id + " in " + view);
    }

    /** GET /cluster from {@code node}, parsed. */
    private static JsonNode view(TestCluster cluster, int node) {
        try {
            return JSON.readTree(get(cluster, node, "/cluster").body());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static HttpResponse<String> get(TestCluster cluster, int node, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.httpPorts.get(node) + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
