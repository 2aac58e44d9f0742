package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's TLS steps as processes: bin/flotilla-certs, three bin/flotilla-server nodes with the
 * TLS options, and bin/flotilla-client with --tls-ca or FLOTILLA_TLS_CA.
 */
class TlsProcessIT {
    @TempDir
    Path dir;
    private final Map<Integer, Process> nodes = new TreeMap<>();

    @AfterEach
    void stopAll() {
        nodes.values().forEach(Process::destroyForcibly);
    }

    private static String bin(String name) {
        return Path.of("..", "bin", name).toAbsolutePath().normalize().toString();
    }

    private record Run(int exit, String out) {
    }

    private Run run(Map<String, String> env, String... command) throws Exception {
        Path out = Files.createTempFile(dir, "run", ".out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xmx128m");
        pb.environment().remove("FLOTILLA_TLS_CA");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
        }
        return new Run(p.exitValue(), Files.readString(out));
    }

    @Test
    void certificatesThenATlsClusterThenTheClient() throws Exception {
        Path certs = dir.resolve("certs");
        Run made = run(Map.of(), bin("flotilla-certs"), "3", "--dir", certs.toString());
        assertThat(made.exit()).as(made.out()).isZero();

        Map<Integer, Integer> ports = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            ports.put(id, TestPorts.next());
        }
        List<String> peers = new ArrayList<>();
        ports.forEach((id, port) -> peers.add(id + "=127.0.0.1:" + port));
        for (int id = 1; id <= 3; id++) {
            ProcessBuilder pb = new ProcessBuilder(bin("flotilla-server"), "--id", String.valueOf(id), "--port", String.valueOf(ports.get(id)),
                    "--peers", String.join(",", peers), "--data-dir", dir.resolve("node-" + id).toString(), "--no-fsync", "--http-port", "0",
                    "--tls-cert", certs.resolve("node-" + id + ".pem").toString(), "--tls-key", certs.resolve("node-" + id + ".key").toString(),
                    "--tls-ca", certs.resolve("ca.pem").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("node-" + id + ".log").toFile());
            pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xms64m -Xmx256m");
            nodes.put(id, pb.start());
        }
        String cluster = String.join(",", ports.values().stream().map(p -> "127.0.0.1:" + p).toList());
        String ca = certs.resolve("ca.pem").toString();

        // The first write waits out the nodes' start (three JVMs on a loaded machine) and the election: the client's
        // retry budget may run out first (exit 3, nothing applied), so it is asked again until a deadline.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        Run set;
        do {
            set = run(Map.of(), bin("flotilla-client"), "--cluster", cluster, "--timeout", "20s", "--tls-ca", ca, "set", "k", "v");
        } while (set.exit() == 3 && System.nanoTime() < deadline);
        assertThat(set.exit()).as(set.out() + logs()).isZero();
        Run get = run(Map.of("FLOTILLA_TLS_CA", ca), bin("flotilla-client"), "--cluster", cluster, "get", "k");
        assertThat(get).as(logs()).isEqualTo(new Run(0, "v\n"));

        // A generous deadline: a cold client JVM on a loaded machine may need more than 2 s for its first answers.
        Run plain = run(Map.of(), bin("flotilla-client"), "--cluster", cluster, "--timeout", "10s", "get", "k");
        assertThat(plain.exit()).isEqualTo(3);
        assertThat(plain.out().lines().toList()).as(plain.out()).hasSize(1);
        assertThat(plain.out()).contains("this node requires TLS");
    }

    private String logs() throws Exception {
        StringBuilder out = new StringBuilder();
        for (int id : nodes.keySet()) {
            Path log = dir.resolve("node-" + id + ".log");
            out.append("\n--- node ").append(id).append('\n').append(Files.exists(log) ? Files.readString(log) : "(none)");
        }
        return out.toString();
    }
}
