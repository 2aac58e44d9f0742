package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Pem;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.server.tls.DevCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /health and /status over real sockets, on a real three-node cluster. */
class HealthAndStatusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String url(TestCluster cluster, int id, String path) {
        return "http://127.0.0.1:" + cluster.httpPort(id) + path;
    }

    @Test
    void healthyNodesSay200AndStatusShowsWhatTheyHold() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3)) {
            cluster.withHttp();
            cluster.startAll();
            int leader = cluster.awaitLeader();
            try (NodeConnection c = cluster.connect(leader)) {
                for (int i = 0; i < 20; i++) {
                    assertThat(cluster.set(c, "k" + i, "v" + i)).isEqualTo(Response.OK);
                }
            }
            for (int id = 1; id <= 3; id++) {
                int node = id;
                Poll.until("node " + id + " to be healthy", () -> {
                    try {
                        return get(HTTP, url(cluster, node, "/health")).statusCode() == 200;
                    } catch (Exception e) {
                        return false;
                    }
                });
                HttpResponse<String> health = get(HTTP, url(cluster, id, "/health"));
                assertThat(health.headers().firstValue("content-type")).hasValue("application/json");
                assertThat(JSON.readTree(health.body()).get("health").asBoolean()).isTrue();
            }
            Poll.until("every node to apply the writes", () -> cluster.nodes.values().stream().allMatch(n -> n.raft().status().appliedIndex() >= 21));
            JsonNode status = JSON.readTree(get(HTTP, url(cluster, leader, "/status")).body());
            assertThat(status.get("id").asInt()).isEqualTo(leader);
            assertThat(status.get("role").asText()).isEqualTo("LEADER");
            assertThat(status.get("leaderId").asInt()).isEqualTo(leader);
            assertThat(status.get("keys").asLong()).isEqualTo(20);
            assertThat(status.get("version").asText()).isNotBlank();
            assertThat(status.get("uptimeMillis").asLong()).isPositive();
            assertThat(status.get("dataDirBytes").asLong()).isPositive();
            assertThat(status.get("healthy").asBoolean()).isTrue();
            assertThat(status.get("requests").get("writes").asLong()).isEqualTo(20);
            assertThat(status.get("members")).hasSize(3);
            for (JsonNode member : status.get("members")) {
                if (member.get("id").asInt() != leader) { // the leader reports each follower's progress
                    assertThat(member.get("matchIndex").asLong()).isGreaterThanOrEqualTo(21);
                }
            }
            // The native status says the same (what flotilla-client status prints).
            try (NodeConnection c = cluster.connect(leader, io.flotilla.client.wire.Hello.client(""))) {
                var s = ((Response.Status) TestCluster.call(c, new Request.StatusQuery())).status();
                assertThat(s.details().keyCount()).isEqualTo(20);
                assertThat(s.details().healthy()).isTrue();
                assertThat(s.details().version()).isEqualTo(status.get("version").asText());
            }

            HttpResponse<String> missing = get(HTTP, url(cluster, 1, "/nothing-here"));
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).isEqualTo("no such page: /nothing-here (try /health, /metrics, /status or /)\n");
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(url(cluster, 1, "/health")))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
            HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(URI.create(url(cluster, 1, "/health")))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
        }
    }

    @Test
    void aNodeWithoutALeaderSays503WithTheReasonButIsAliveForALivenessProbe() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3)) {
            cluster.withHttp();
            cluster.startAll();
            int leader = cluster.awaitLeader();
            int survivor = leader == 1 ? 2 : 1;
            for (int id = 1; id <= 3; id++) {
                if (id != survivor) {
                    cluster.halt(id);
                }
            }
            Poll.until("the lone node to be unhealthy", () -> {
                try {
                    return get(HTTP, url(cluster, survivor, "/health")).statusCode() == 503;
                } catch (Exception e) {
                    return false;
                }
            });
            JsonNode body = JSON.readTree(get(HTTP, url(cluster, survivor, "/health")).body());
            assertThat(body.get("health").asBoolean()).isFalse();
            assertThat(body.get("reason").asText()).isEqualTo("no leader is known (an election may be running)");

            HttpResponse<String> live = get(HTTP, url(cluster, survivor, "/health?serializable=true"));
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(live.body()).get("health").asBoolean()).isTrue();
            JsonNode status = JSON.readTree(get(HTTP, url(cluster, survivor, "/status")).body());
            assertThat(status.get("healthy").asBoolean()).isFalse();
            assertThat(status.get("healthProblem").asText()).contains("no leader");
        }
    }

    @Test
    void withTlsTheHttpPortSpeaksHttpsWithTheNodesCertificate() throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(DevCertificates.commandLine().execute("3", "--dir", certs.toString())).isZero();
        try (TestCluster cluster = new TestCluster(dir.resolve("data"), 3)) {
            cluster.withHttp();
            cluster.certs = certs;
            cluster.startAll();
            cluster.awaitLeader();
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int n = 0;
            for (X509Certificate ca : Pem.certificates(certs.resolve("ca.pem"), "CA certificate")) {
                trust.setCertificateEntry("ca" + n++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
            Poll.until("an HTTPS health check to pass", () -> {
                try {
                    return get(https, "https://127.0.0.1:" + cluster.httpPort(1) + "/health").statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            });
            // Plain HTTP to a TLS port gets no answer a client could mistake for one.
            assertThat(catching(() -> get(HTTP, url(cluster, 1, "/health")).statusCode())).isNotEqualTo(200);
        }
    }

    private static Object catching(java.util.concurrent.Callable<Object> call) {
        try {
            return call.call();
        } catch (Exception e) {
            return e;
        }
    }
}
