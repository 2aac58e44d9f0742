package io.flotilla.server;

import io.flotilla.client.Poll;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/flotilla-cluster as a user runs it: three node processes behind one script. */
class ClusterScriptIT {
    @TempDir
    Path dir;
    private Process script;

    @AfterEach
    void killLeftovers() {
        if (script != null) {
            script.descendants().forEach(ProcessHandle::destroyForcibly);
            script.destroyForcibly();
        }
        nodesOf(dir).forEach(ProcessHandle::destroyForcibly);
    }

    private Process start(List<Integer> ports) throws IOException {
        Path bin = Path.of("..", "bin", "flotilla-cluster").toAbsolutePath().normalize();
        List<String> command = new ArrayList<>(List.of(bin.toString(), "--ports",
                String.join(",", ports.stream().map(String::valueOf).toList()), "--data", dir.resolve("data").toString(), "--no-fsync", "--http-port", "0"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output().toFile());
        builder.environment().put("FLOTILLA_JAVA_OPTS", "-Xms64m -Xmx256m"); // three JVMs on a small test machine
        script = builder.start();
        return script;
    }

    private Path output() {
        return dir.resolve("cluster.out");
    }

    private String out() {
        try {
            return Files.readString(output());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Node processes of this test: their command line names its data directory. */
    private static List<ProcessHandle> nodesOf(Path dir) {
        String data = dir.resolve("data").toString();
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(c -> c.contains(data)).orElse(false)).toList();
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    @Test
    void aNodeThatCannotStartStopsTheOthersAndTheScriptExitsWithItsMessage() throws Exception {
        List<Integer> ports = List.of(TestPorts.next(), TestPorts.next(), TestPorts.next());
        int taken = ports.get(1);
        String refusal = "flotilla-server: cannot listen on 127.0.0.1:" + taken + ": the port is in use";
        try (ServerSocket occupied = new ServerSocket(taken, 1, InetAddress.getLoopbackAddress())) {
            Process p = start(ports);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the script exits by itself; output:%n%s", out()).isTrue();
            assertThat(p.exitValue()).as(out()).isEqualTo(2);
        }
        assertThat(out()).contains("[node 2] " + refusal + "\n",
                "flotilla-cluster: node 2 exited with status 2: " + refusal + "; stopping the others\n");
        assertThat(nodesOf(dir)).as("node processes left behind").isEmpty();
        assertThat(bindable(ports.get(0)) && bindable(ports.get(2))).as("the other nodes' ports are free").isTrue();
    }

    @Test
    void ctrlCStopsEveryNodeAndShowsItsShutdownLines() throws Exception {
        Process p = start(List.of(TestPorts.next(), TestPorts.next(), TestPorts.next()));
        Poll.until(Duration.ofSeconds(60), "all three nodes serve", () -> !p.isAlive() || out().split("serving on", -1).length - 1 >= 3,
                () -> "; output:\n" + out());
        assertThat(p.isAlive()).as("the cluster runs; output:%n%s", out()).isTrue();
        // Ctrl-C is SIGINT; a process started with SIGINT ignored (a background job) cannot trap it,
        // so then SIGTERM, which the script handles the same way.
        String signal = sigintIgnored(p.pid()) ? "-TERM" : "-INT";
        assertThat(new ProcessBuilder("kill", signal, String.valueOf(p.pid())).start().waitFor()).isZero();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the script stops; output:%n%s", out()).isTrue();
        assertThat(p.exitValue()).as(out()).isZero();
        for (int id = 1; id <= 3; id++) {
            assertThat(out()).containsPattern("\\[node " + id + "] .*node " + id + " shutting down");
        }
        assertThat(out()).contains("stopping the cluster...");
        assertThat(nodesOf(dir)).as("node processes left behind").isEmpty();
    }

    private static boolean sigintIgnored(long pid) throws IOException {
        Path status = Path.of("/proc", String.valueOf(pid), "status");
        if (!Files.exists(status)) {
            return false; // not Linux: assume the usual (not ignored)
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 1)) != 0; // bit 1: signal 2, SIGINT
            }
        }
        return false;
    }
}
