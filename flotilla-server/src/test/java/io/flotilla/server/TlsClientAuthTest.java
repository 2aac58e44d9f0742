package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.ClientTls;
import io.flotilla.client.ClusterUnavailableException;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.cli.FlotillaCli;
import io.flotilla.server.tls.DevCertificates;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS cluster started with --tls-client-auth, and a plaintext node beside it: clients and the
 * command line with and without certificates, and every mismatch as one readable line.
 */
class TlsClientAuthTest {
    @TempDir
    static Path dir;
    static Path certs;
    static TestCluster cluster;
    static TestCluster plaintext;

    @BeforeAll
    static void start() throws Exception {
        certs = dir.resolve("certs");
        assertThat(DevCertificates.commandLine().execute("3", "--dir", certs.toString())).isZero();
        cluster = new TestCluster(dir.resolve("data"), 3);
        cluster.certs = certs;
        cluster.clientAuth = true;
        cluster.startAll();
        cluster.awaitLeader();
        plaintext = new TestCluster(dir.resolve("plain"), 1).startAll();
        plaintext.awaitLeader();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
        if (plaintext != null) {
            plaintext.close();
        }
    }

    private static ClientOptions options(ClientTls tls) {
        // A first TLS handshake in a cold JVM on a loaded machine takes over a second: room for it.
        return ClientOptions.of(cluster.clusterAddresses()).withDeadline(Duration.ofSeconds(5))
                .withConnectTimeout(Duration.ofSeconds(3)).withTls(tls);
    }

    @Test
    void aClientWithoutACertificateIsRefused() {
        try (FlotillaClient client = FlotillaClient.create(options(ClientTls.trusting(certs.resolve("ca.pem"))))) {
            assertThatThrownBy(() -> client.get("k")).isInstanceOf(ClusterUnavailableException.class)
                    .hasMessageContaining("requires a client certificate");
        }
    }

    @Test
    void aClientWithTheClientCertificateWorks() {
        try (FlotillaClient client = FlotillaClient.create(options(
                new ClientTls(certs.resolve("ca.pem"), certs.resolve("client.pem"), certs.resolve("client.key"))).withDeadline(Duration.ofSeconds(10)))) {
            client.set("k", "v");
            assertThat(client.get("k")).contains("v");
        }
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run cli(String cluster, String... args) {
        List<String> all = new ArrayList<>(List.of("--cluster", cluster, "--timeout", "5s"));
        all.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = FlotillaCli.run(all.toArray(String[]::new), new ByteArrayInputStream(new byte[0]), out, err);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String file(String name) {
        return certs.resolve(name).toString();
    }

    @Test
    void theCommandLineTakesTheTlsOptions() {
        String c = cluster.clusterAddresses();
        assertThat(cli(c, "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.key"),
                "set", "cli", "over tls")).isEqualTo(new Run(0, "OK\n", ""));
        // The options are inherited: they may follow the command too.
        assertThat(cli(c, "get", "cli", "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.key")))
                .isEqualTo(new Run(0, "over tls\n", ""));
        Run status = cli(c, "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.key"), "status");
        assertThat(status.exit()).as(status.err()).isZero();
    }

    /** Exits as the CLI does for an unreachable cluster or invalid input, with one line on standard error. */
    private static void assertOneLine(Run run, int exit, String containing) {
        assertThat(run.exit()).as(run.err()).isEqualTo(exit);
        assertThat(run.err().lines().toList()).as(run.err()).hasSize(1);
        assertThat(run.err()).contains(containing).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void mismatchesAreOneLine() {
        String c = cluster.clusterAddresses();
        assertOneLine(cli(c, "get", "k"), 3, "this node requires TLS");
        assertOneLine(cli(c, "--tls-ca", file("ca.pem"), "get", "k"), 3, "requires a client certificate");
        assertOneLine(cli(plaintext.clusterAddresses(), "--tls-ca", file("ca.pem"), "get", "k"), 3, "TLS");
        assertOneLine(cli(c, "--tls-ca", file("missing.pem"), "get", "k"), 4, "missing.pem: does not exist or is not readable");
        assertOneLine(cli(c, "--tls-ca", file("node-1.key"), "get", "k"), 4, "not a PEM certificate");
        assertOneLine(cli(c, "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "get", "k"), 4, "--tls-cert needs --tls-key");
        assertOneLine(cli(c, "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.pem"), "get", "k"),
                4, "no PKCS#8 private key");
    }
}
