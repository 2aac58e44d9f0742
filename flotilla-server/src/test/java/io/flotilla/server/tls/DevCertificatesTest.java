package io.flotilla.server.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.NodeTls;
import io.flotilla.client.Pem;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DevCertificatesTest {
    @TempDir
    Path dir;

    private record Run(int exit, String err) {
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = DevCertificates.commandLine();
        cli.setErr(new PrintWriter(err, true)).setOut(new PrintWriter(new StringWriter(), true));
        return new Run(cli.execute(args), err.toString());
    }

    @Test
    void writesACaNodeAndClientCertificatesSignedByIt() throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(run("3", "--dir", certs.toString(), "--host", "db.example", "--host", "10.1.2.3").exit()).isZero();
        assertThat(Files.list(certs).map(p -> p.getFileName().toString()).sorted().toList()).containsExactly(
                "ca.key", "ca.pem", "client.key", "client.pem", "node-1.key", "node-1.pem", "node-2.key", "node-2.pem", "node-3.key",
                "node-3.pem");
        X509Certificate ca = Pem.certificates(certs.resolve("ca.pem"), "ca").get(0);
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        for (int id = 1; id <= 3; id++) {
            X509Certificate node = Pem.certificates(certs.resolve("node-" + id + ".pem"), "node").get(0);
            node.verify(ca.getPublicKey());
            node.checkValidity();
            assertThat(NodeTls.nodeId(node)).hasValue(id);
            assertThat(node.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                    .contains("127.0.0.1", "localhost", "db.example", "10.1.2.3");
            Pem.checkPair(Pem.privateKey(certs.resolve("node-" + id + ".key"), "key"), certs.resolve("node-" + id + ".key"), node,
                    certs.resolve("node-" + id + ".pem"));
        }
        X509Certificate client = Pem.certificates(certs.resolve("client.pem"), "client").get(0);
        client.verify(ca.getPublicKey());
        assertThat(NodeTls.commonName(client)).isEqualTo("client");
        assertThat(NodeTls.nodeId(client)).isEmpty();
        for (String key : List.of("ca.key", "client.key", "node-1.key")) {
            assertThat(Files.readString(certs.resolve(key))).startsWith("-----BEGIN PRIVATE KEY-----");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve(key)))).isEqualTo("rw-------");
        }
    }

    @Test
    void refusesToOverwriteACaWithoutForce() throws Exception {
        Path certs = dir.resolve("certs");
        assertThat(run("1", "--dir", certs.toString()).exit()).isZero();
        String ca = Files.readString(certs.resolve("ca.pem"));
        Run again = run("2", "--dir", certs.toString());
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err().lines().toList()).hasSize(1);
        assertThat(again.err()).contains("exists; not overwriting the CA (add --force");
        assertThat(Files.readString(certs.resolve("ca.pem"))).isEqualTo(ca);
        assertThat(certs.resolve("node-2.pem")).doesNotExist();

        assertThat(run("2", "--dir", certs.toString(), "--force").exit()).isZero();
        assertThat(Files.readString(certs.resolve("ca.pem"))).isNotEqualTo(ca);
        assertThat(certs.resolve("node-2.pem")).exists();
    }

    @Test
    void badArgumentsAreOneLine() {
        Run zero = run("0", "--dir", dir.toString());
        assertThat(zero.exit()).isEqualTo(2);
        assertThat(zero.err().lines().toList()).hasSize(1);
        Run badIp = run("1", "--dir", dir.toString(), "--host", "300.1.1.1");
        assertThat(badIp.exit()).isEqualTo(2);
        assertThat(badIp.err()).contains("not an IP address");
    }
}
