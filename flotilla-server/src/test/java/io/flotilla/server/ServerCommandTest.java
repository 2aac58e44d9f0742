package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Wrong input at start: one clear line on stderr, a non-zero exit, no stack trace. */
class ServerCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = new CommandLine(new ServerCommand());
            cli.setErr(new java.io.PrintWriter(System.err, true));
            int exit = cli.execute(args);
            return new Run(exit, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    private static void assertOneLineRefusal(Run run, String expected) {
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains(expected).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(run.err().strip().lines()).hasSize(1);
    }

    @Test
    void anIdOutsideThePeerListIsRefused() {
        assertOneLineRefusal(run("--id", "4", "--data-dir", dir.toString()), "node id 4 is not in the peer list [1, 2, 3]");
    }

    @Test
    void malformedPeersAreRefused() {
        assertOneLineRefusal(run("--id", "1", "--peers", "1=localhost"), "is not host:port");
        assertOneLineRefusal(run("--id", "1", "--peers", "x=localhost:1"), "not a number");
    }

    @Test
    void nonsensicalTimingsAndLimitsAreRefused() {
        assertOneLineRefusal(run("--id", "1", "--election-ticks", "5", "--heartbeat-ticks", "5"),
                "--election-ticks (5) must be larger than --heartbeat-ticks (5)");
        assertOneLineRefusal(run("--id", "1", "--max-frame-bytes", "1000"), "--max-frame-bytes (1000) must hold a CAS");
        assertOneLineRefusal(run("--id", "1", "--snapshot-entries", "-5"), "--snapshot-entries must not be negative");
    }

    @Test
    void anUnreadableConfigIsRefused() throws Exception {
        assertOneLineRefusal(run("--id", "1", "--config", dir.resolve("missing.yaml").toString()), "does not exist");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "peers: [this is: not a map\n");
        assertOneLineRefusal(run("--id", "1", "--config", bad.toString()), "is unreadable");
        Path unknown = Files.writeString(dir.resolve("unknown.json"), "{\"colour\": \"blue\"}");
        assertOneLineRefusal(run("--id", "1", "--config", unknown.toString()), "is unreadable");
    }

    @Test
    void aConfigFileDescribesTheCluster() {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--id", "2", "--config", writeConfig());
        ServerConfig config = command.resolve();
        assertThat(config.peers()).containsOnlyKeys(1, 2);
        assertThat(config.port()).isEqualTo(6002);
        assertThat(config.clusterId()).isEqualTo("prod");
        assertThat(config.electionTicks()).isEqualTo(30);
    }

    private String writeConfig() {
        try {
            return Files.writeString(dir.resolve("cluster.yaml"), """
                    clusterId: prod
                    electionTicks: 30
                    peers:
                      1: 127.0.0.1:6001
                      2: 127.0.0.1:6002
                    """).toString();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aPortInUseIsRefused() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            int port = taken.getLocalPort();
            Run run = run("--id", "1", "--peers", "1=127.0.0.1:" + port, "--data-dir", dir.resolve("n1").toString());
            assertOneLineRefusal(run, "cannot listen on 127.0.0.1:" + port);
        }
    }

    @Test
    void aDataDirectoryOfAnotherNodeIsRefused() throws Exception {
        Path data = dir.resolve("shared");
        int port = TestPorts.next();
        FlotillaServer first = FlotillaServer.start(new ServerCommandConfig(1, port, data).config());
        first.close();
        Run run = run("--id", "2", "--peers", "1=127.0.0.1:" + TestPorts.next() + ",2=127.0.0.1:" + port,
                "--data-dir", data.toString());
        assertOneLineRefusal(run, "belongs to cluster 'flotilla' node 1");
    }

    /** A one-node configuration through the same parser the command line uses. */
    private record ServerCommandConfig(int id, int port, Path data) {
        ServerConfig config() {
            ServerCommand command = new ServerCommand();
            new CommandLine(command).parseArgs("--id", String.valueOf(id), "--peers", id + "=127.0.0.1:" + port,
                    "--data-dir", data.toString(), "--no-fsync");
            return command.resolve();
        }
    }
}
