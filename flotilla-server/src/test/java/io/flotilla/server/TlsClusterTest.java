package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.ClientTls;
import io.flotilla.client.ClusterUnavailableException;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.NodeConnection;
import io.flotilla.client.Pem;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.WireCodec;
import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.LogEntry;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.InstallSnapshot;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.MessageCodec;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.TimeoutNow;
import io.flotilla.core.protocol.Status;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.server.net.NodeHello;
import io.flotilla.server.tls.DevCertificates;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes with TLS on real sockets: they elect a leader, serve clients over TLS (also through a
 * follower's relay), and refuse every connection that asks to act as a node without that node's
 * certificate, whatever Raft message it then sends.
 */
class TlsClusterTest {
    @TempDir
    static Path dir;
    static Path certs;
    /** A CA the cluster does not trust, and node certificates it signed. */
    static Path otherCerts;
    static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        certs = dir.resolve("certs");
        otherCerts = dir.resolve("other");
        assertThat(DevCertificates.commandLine().execute("3", "--dir", certs.toString())).isZero();
        assertThat(DevCertificates.commandLine().execute("3", "--dir", otherCerts.toString())).isZero();
        cluster = new TestCluster(dir.resolve("data"), 3);
        cluster.certs = certs;
        cluster.startAll();
        cluster.awaitLeader();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ClientOptions clientOptions() {
        return ClientOptions.of(cluster.clusterAddresses()).withDeadline(Duration.ofSeconds(10));
    }

    @Test
    void theClientWritesAndReadsOverTls() {
        try (FlotillaClient client = FlotillaClient.create(clientOptions().withTls(ClientTls.trusting(certs.resolve("ca.pem"))))) {
            client.set("city", "Lisbon");
            assertThat(client.get("city")).contains("Lisbon");
        }
    }

    @Test
    void aFollowerRelaysWritesToTheLeaderOverTls() throws Exception {
        int leader = cluster.awaitLeader();
        int follower = leader % 3 + 1;
        NodeConnection c = cluster.connect(follower);
        try {
            assertThat(cluster.set(c, "relayed", "yes")).isEqualTo(Response.OK);
            assertThat(TestCluster.get(c, "relayed")).isEqualTo(new Response.Value(Bytes.utf8("yes")));
        } finally {
            c.close();
        }
    }

    @Test
    void aPlaintextClientIsToldTheNodeRequiresTls() {
        try (FlotillaClient client = FlotillaClient.create(clientOptions().withDeadline(Duration.ofSeconds(5)).withConnectTimeout(Duration.ofSeconds(3)))) {
            assertThatThrownBy(() -> client.get("city")).isInstanceOf(ClusterUnavailableException.class)
                    .hasMessageContaining("this node requires TLS");
        }
    }

    @Test
    void aClientTrustingAnotherCaRefusesTheNodes() {
        try (FlotillaClient client = FlotillaClient.create(clientOptions().withDeadline(Duration.ofSeconds(5)).withConnectTimeout(Duration.ofSeconds(3))
                .withTls(ClientTls.trusting(otherCerts.resolve("ca.pem"))))) {
            assertThatThrownBy(() -> client.get("city")).isInstanceOf(ClusterUnavailableException.class)
                    .hasMessageContaining("is not signed by the trusted CA");
        }
    }

    @Test
    void aMissingTlsFileIsOneLine() {
        assertThatThrownBy(() -> FlotillaClient.create(clientOptions().withTls(ClientTls.trusting(dir.resolve("nope.pem")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TLS CA certificate " + dir.resolve("nope.pem") + ": does not exist or is not readable");
        assertThatThrownBy(() -> FlotillaClient.create(clientOptions().withTls(
                new ClientTls(certs.resolve("ca.pem"), certs.resolve("client.pem"), certs.resolve("node-1.key")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not belong to certificate");
    }

    // ---- forged peer connections -------------------------------------------------------------------

    /** How the attacker connects: plain TCP, or TLS presenting the given certificate (null: none). */
    private record Attacker(String name, boolean tls, Path cert, Path key, int claimedId, NodeHello.Role role) {
    }

    @Test
    void forgedPeerMessagesFromUnauthenticatedConnectionsAreNeverDelivered() throws Exception {
        int leader = cluster.awaitLeader();
        int target = leader % 3 + 1; // a follower: a vote, a heartbeat or TimeoutNow would change its term
        int other = 6 - leader - target;
        Status before = cluster.nodes.get(target).raft().status();
        long closedBefore = cluster.nodes.get(target).closedForBadInput();
        List<Attacker> attackers = List.of(
                new Attacker("plain TCP", false, null, null, leader, NodeHello.Role.PEER),
                new Attacker("TLS without a certificate", true, null, null, leader, NodeHello.Role.PEER),
                new Attacker("TLS, node certificate of another CA", true, otherCerts.resolve("node-" + leader + ".pem"),
                        otherCerts.resolve("node-" + leader + ".key"), leader, NodeHello.Role.PEER),
                new Attacker("TLS, the client certificate", true, certs.resolve("client.pem"), certs.resolve("client.key"), leader,
                        NodeHello.Role.PEER),
                new Attacker("TLS, the client certificate relaying", true, certs.resolve("client.pem"), certs.resolve("client.key"),
                        leader, NodeHello.Role.FORWARD),
                new Attacker("TLS, node " + other + "'s certificate claiming node " + leader, true,
                        certs.resolve("node-" + other + ".pem"), certs.resolve("node-" + other + ".key"), leader, NodeHello.Role.PEER));
        MessageCodec codec = new MessageCodec(4 << 20);
        for (Attacker attacker : attackers) {
            for (Message forged : forged(attacker.claimedId(), target, before.term())) {
                String outcome = attack(attacker, forged, codec);
                assertThat(outcome).as("%s sending %s", attacker.name(), forged.kind()).doesNotStartWith("accepted");
            }
        }
        Status after = cluster.nodes.get(target).raft().status();
        assertThat(after.term()).isEqualTo(before.term());
        assertThat(after.lastIndex()).isEqualTo(before.lastIndex());
        assertThat(after.commitIndex()).isEqualTo(before.commitIndex());
        assertThat(cluster.nodes.get(target).closedForBadInput()).isGreaterThan(closedBefore);
        NodeConnection c = cluster.connect(target);
        try {
            assertThat(cluster.set(c, "after-attack", "still serving")).isEqualTo(Response.OK);
        } finally {
            c.close();
        }
        assertThat(cluster.nodes.get(target).raft().status().term()).isEqualTo(before.term());
    }

    /** One of each message that would disturb a follower if delivered, from {@code from}, in a later term. */
    private static List<Message> forged(int from, int to, long term) {
        long t = term + 5;
        SnapshotMeta meta = new SnapshotMeta(1_000, t, ClusterConfig.of(1, 2, 3));
        return List.of(
                new RequestVote(from, to, t, 1_000, t, false, false),
                new AppendEntries(from, to, t, 0, 0, List.of(new LogEntry(1, t, EntryType.NORMAL, Bytes.utf8("forged"))), 1, 1),
                new InstallSnapshot(from, to, t, meta, 0, Bytes.utf8("forged"), true, 0),
                new TimeoutNow(from, to, t));
    }

    /**
     * Sends a PEER (or FORWARD) hello and the forged message as PeerTransport would, then reads until
     * the node closes the connection: "accepted" if it accepted the hello, else what happened.
     */
    private static String attack(Attacker attacker, Message forged, MessageCodec codec) throws Exception {
        int port = cluster.addresses.get(forged.to()).getPort();
        try (Socket s = attacker.tls() ? new java.net.Socket() : new Socket("127.0.0.1", port)) {
            try {
                Socket conn = attacker.tls() ? tlsSocket(attacker, port) : s;
                conn.setSoTimeout(5000);
                DataOutputStream out = new DataOutputStream(conn.getOutputStream());
                DataInputStream in = new DataInputStream(conn.getInputStream());
                frame(out, new NodeHello(1, attacker.role(), attacker.claimedId(), "test").encode());
                frame(out, ByteBuffer.wrap(codec.encode(forged)));
                byte[] reply = new byte[in.readInt()];
                in.readFully(reply);
                Hello.Reply hello = WireCodec.decodeHelloReply(ByteBuffer.wrap(reply));
                if (hello.accepted()) {
                    conn.close();
                    return "accepted";
                }
                int after = in.read();
                conn.close();
                assertThat(after).as("the node closes a refused connection").isEqualTo(-1);
                return "refused: " + hello.message();
            } catch (SocketTimeoutException e) {
                throw new AssertionError(attacker.name() + ": the node neither answered nor closed the connection");
            } catch (EOFException | javax.net.ssl.SSLException | java.net.SocketException e) {
                return "closed: " + e.getMessage(); // the TLS handshake failed, or the node closed at once
            }
        }
    }

    private static void frame(DataOutputStream out, ByteBuffer body) throws IOException {
        byte[] bytes = new byte[body.remaining()];
        body.get(bytes);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    /** A TLS socket that trusts any server (the attacker does not care) and presents the attacker's certificate, if any. */
    private static Socket tlsSocket(Attacker attacker, int port) throws Exception {
        KeyManagerFactory keys = null;
        if (attacker.cert() != null) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("me", Pem.privateKey(attacker.key(), "key"), new char[0],
                    Pem.certificates(attacker.cert(), "cert").toArray(X509Certificate[]::new));
            keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, new char[0]);
        }
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys == null ? null : keys.getKeyManagers(), new TrustManager[] {trustAll}, null);
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        s.startHandshake();
        return s;
    }
}
