package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Wrong input at start: one clear line on stderr, a non-zero exit, no stack trace. The timeout turns
 * a refusal that regressed into a running node (which would wait for SIGTERM) into a failure.
 */
@Timeout(30)
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
            CommandLine cli = ServerCommand.commandLine();
            cli.setErr(new java.io.PrintWriter(System.err, true));
            int exit = cli.execute(args);
            return new Run(exit, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    /** Refused with exactly this one line on stderr (after "flotilla-server: ") and this exit code. */
    private static void assertRefused(Run run, int exit, String line) {
        assertThat(run.err()).isEqualTo("flotilla-server: " + line + System.lineSeparator());
        assertThat(run.exit()).as(run.err()).isEqualTo(exit);
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
    void theFsyncDelayIsAHiddenTestingAidRefusedWhereItMakesNoSense() {
        assertThat(ServerCommand.commandLine().getUsageMessage()).contains("--no-fsync").doesNotContain("fsync-delay");
        assertRefused(run("--id", "1", "--data-dir", dir.toString(), "--debug-fsync-delay-ms", "-5"), 2,
                "--debug-fsync-delay-ms and --debug-fsync-delay-after-s must not be negative");
        assertRefused(run("--id", "1", "--data-dir", dir.toString(), "--debug-fsync-delay-after-s", "10"), 2,
                "--debug-fsync-delay-after-s says when --debug-fsync-delay-ms starts; give both");
        assertRefused(run("--id", "1", "--data-dir", dir.toString(), "--no-fsync", "--debug-fsync-delay-ms", "300"), 2,
                "--debug-fsync-delay-ms delays fsyncs, and --no-fsync leaves none to delay");
    }

    @Test
    void anUnreadableConfigIsRefused() throws Exception {
        assertOneLineRefusal(run("--id", "1", "--config", dir.resolve("missing.yaml").toString()), "does not exist");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "peers: [this is: not a map\n");
        assertOneLineRefusal(run("--id", "1", "--config", bad.toString()), "must be a map of node id to host:port");
        Path unknown = Files.writeString(dir.resolve("unknown.json"), "{\"colour\": \"blue\"}");
        assertOneLineRefusal(run("--id", "1", "--config", unknown.toString()), "unknown setting 'colour'");
    }

    @Test
    void configProblemsAreOneLineWithTheLineAndColumn() throws Exception {
        Path missing = dir.resolve("missing.yaml");
        assertRefused(run("--config", missing.toString()), 2, "config file " + missing + " does not exist");

        Path tab = Files.writeString(dir.resolve("tab.yaml"), "clusterId: prod\n\tport: 3\n");
        assertRefused(run("--config", tab.toString()), 2, "config file " + tab
                + " line 2, column 1: found character '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)");

        Path type = Files.writeString(dir.resolve("type.yaml"), "id: 1\nport: abc\n");
        assertRefused(run("--config", type.toString()), 2, "config file " + type + " line 2, column 7: 'port' must be a whole number, got 'abc'");

        Path unknown = Files.writeString(dir.resolve("unknown.yaml"), "id: 1\ncolour: blue\n");
        assertRefused(run("--config", unknown.toString()), 2, "config file " + unknown + ": unknown setting 'colour'; the settings are "
                + "clientIdleTimeoutS, clusterId, dataDir, electionTicks, healthMaxLag, heartbeatTicks, host, httpPort, id, idleTimeoutS, join, "
                + "logFile, logFormat, maxConnectionBufferBytes, maxConnections, maxFrameBytes, maxHandshakes, maxInFlight, maxKeyBytes, maxOutcomes, "
                + "maxSessionOutcomes, maxSessions, maxValueBytes, noFsync, peers, port, requestTimeoutMs, respPort, respRedirect, restore, snapshotEntries, tickMs, "
                + "tlsCa, tlsCert, tlsClientAuth, tlsKey");
    }

    @Test
    void usageErrorsAreOneLineNotTheWholeUsage() {
        assertRefused(run("--id", "1", "--port", "abc"), 2, "Invalid value for option '--port': 'abc' is not an int (see --help)");
        assertRefused(run("--id", "1", "--bogus"), 2, "Unknown option: '--bogus' (see --help)");
        assertRefused(run(), 2, "no node id: give --id N");
    }

    /** Every option --help lists (but --config itself) has its field in the config file, named in camelCase. */
    @Test
    void theConfigFileAcceptsEveryOption() {
        java.util.Set<String> options = new java.util.TreeSet<>();
        ServerCommand.commandLine().getCommandSpec().options().forEach(option -> {
            String name = option.longestName().substring(2);
            if (!option.hidden() && !java.util.List.of("config", "help", "version").contains(name)) {
                options.add(java.util.regex.Pattern.compile("-([a-z])").matcher(name).replaceAll(m -> m.group(1).toUpperCase()));
            }
        });
        java.util.Set<String> fields = new java.util.TreeSet<>();
        for (var component : ServerCommand.ConfigFile.class.getRecordComponents()) {
            fields.add(component.getName());
        }
        assertThat(fields).isEqualTo(options);
    }

    @Test
    void theConfigFileCanNameTheNode() throws Exception {
        Path file = Files.writeString(dir.resolve("node.yaml"), """
                id: 2
                peers:
                  1: 127.0.0.1:6001
                  2: 127.0.0.1:6002
                noFsync: true
                idleTimeoutS: 7
                dataDir: %s
                """.formatted(dir.resolve("n2")));
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--config", file.toString());
        ServerConfig config = command.resolve();
        assertThat(config.nodeId()).isEqualTo(2);
        assertThat(config.port()).isEqualTo(6002);
        assertThat(config.fsync()).isFalse();
        assertThat(config.idleTimeout()).hasSeconds(7);
        assertThat(config.dataDir()).isEqualTo(dir.resolve("n2"));

        ServerCommand overridden = new ServerCommand(); // the command line still wins
        new CommandLine(overridden).parseArgs("--config", file.toString(), "--id", "1");
        assertThat(overridden.resolve().nodeId()).isEqualTo(1);
    }

    @Test
    void joinIsRefusedWithPeersWithoutAPortOrWithABadAddress() throws Exception {
        assertRefused(run("--id", "4", "--port", "6004", "--join", "127.0.0.1:6001", "--peers", "1=127.0.0.1:6001"), 2,
                "--join and --peers exclude each other: a node that joins learns its peers from the cluster");
        Path file = Files.writeString(dir.resolve("peers.yaml"), "peers:\n  1: 127.0.0.1:6001\n");
        assertRefused(run("--id", "4", "--port", "6004", "--join", "127.0.0.1:6001", "--config", file.toString()), 2,
                "--join and --peers exclude each other: a node that joins learns its peers from the cluster");
        assertRefused(run("--id", "4", "--join", "127.0.0.1:6001"), 2,
                "--join needs --port: the port this node listens on, where the cluster reaches it");
        assertRefused(run("--id", "4", "--port", "6004", "--join", "nowhere"), 2, "--join 'nowhere' is not host:port");
        assertRefused(run("--id", "4", "--port", "6004", "--join", "127.0.0.1:0"), 2, "--join port 0 is out of range");
    }

    @Test
    void restoreIsForFoundersOnly() throws Exception {
        Path backup = Files.writeString(dir.resolve("backup.flot"), "not even a backup: the file is read when the node starts");
        assertRefused(run("--id", "4", "--port", "6004", "--join", "127.0.0.1:6001", "--restore", backup.toString()), 2,
                "--restore and --join exclude each other: --restore seeds a founder of a new cluster, a node that joins copies the"
                        + " data from the cluster's leader");
        ServerCommand founder = new ServerCommand();
        new CommandLine(founder).parseArgs("--id", "1", "--restore", backup.toString());
        assertThat(founder.resolve().admin().restore()).isEqualTo(backup);
    }

    @Test
    void aJoiningNodeNeedsNoPeerListAndTheConfigFileCanSayJoin() throws Exception {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--id", "4", "--port", "6004", "--join", "10.0.0.1:5001");
        ServerConfig config = command.resolve();
        assertThat(config.peers()).isEmpty();
        assertThat(config.join().getHostString() + ":" + config.join().getPort()).isEqualTo("10.0.0.1:5001");
        assertThat(config.advertised()).isEqualTo("127.0.0.1:6004");

        Path file = Files.writeString(dir.resolve("join.yaml"), "id: 5\nhost: 127.0.0.2\nport: 6005\njoin: 10.0.0.1:5001\n");
        ServerCommand fromFile = new ServerCommand();
        new CommandLine(fromFile).parseArgs("--config", file.toString());
        assertThat(fromFile.resolve().advertised()).isEqualTo("127.0.0.2:6005");
        assertThat(fromFile.resolve().join().getPort()).isEqualTo(5001);
    }

    @Test
    void duplicateIdsOrAddressesInThePeerListAreRefused() throws Exception {
        assertRefused(run("--id", "1", "--peers", "1=127.0.0.1:6001,2=127.0.0.1:6002,1=127.0.0.1:6003"), 2, "--peers names node 1 twice");
        assertRefused(run("--id", "1", "--peers", "1=127.0.0.1:6001,2=127.0.0.1:6002,3=127.0.0.1:6001"), 2,
                "peers 1 and 3 have the same address 127.0.0.1:6001");
        Path file = Files.writeString(dir.resolve("dup.yaml"), "peers:\n  1: 127.0.0.1:6001\n  1: 127.0.0.1:6002\n");
        assertRefused(run("--id", "1", "--config", file.toString()), 2, "config file " + file + " line 3, column 4: Duplicate field '1'");
    }

    @Test
    void aPortOutOfRangeIsRefusedBeforeTheDataDirectoryIsCreated() {
        Path data = dir.resolve("n1");
        assertRefused(run("--id", "1", "--port", "70000", "--data-dir", data.toString()), 2, "--port 70000 is out of range (1-65535)");
        assertRefused(run("--id", "1", "--port", "0", "--data-dir", data.toString()), 2, "--port 0 is out of range (1-65535)");
        assertThat(data).doesNotExist();
    }

    @Test
    void aPortInUseIsRefusedBeforeTheDataDirectoryIsCreated() throws Exception {
        Path data = dir.resolve("n1");
        try (ServerSocket taken = new ServerSocket(TestPorts.next(), 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Run run = run("--id", "1", "--peers", "1=127.0.0.1:" + port, "--data-dir", data.toString());
            assertRefused(run, 2, "cannot listen on 127.0.0.1:" + port + ": the port is in use");
        }
        assertThat(data).doesNotExist();
    }

    @Test
    void anUnusableDataDirectoryIsOneLine() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        int port = TestPorts.next();
        assertRefused(run("--id", "1", "--peers", "1=127.0.0.1:" + port, "--data-dir", file.toString()), 2,
                "data directory " + file + " is not a directory");
        Path under = file.resolve("node-1");
        assertRefused(run("--id", "1", "--peers", "1=127.0.0.1:" + port, "--data-dir", under.toString()), 2,
                "cannot create data directory " + under + ": " + file + " is not a directory");

        Path locked = Files.createDirectory(dir.resolve("read-only"));
        locked.toFile().setWritable(false);
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isWritable(locked), "permissions do not bind this user (root)");
        Path inside = locked.resolve("node-1");
        assertRefused(run("--id", "1", "--peers", "1=127.0.0.1:" + port, "--data-dir", inside.toString()), 2,
                "cannot create data directory " + inside + ": " + locked + " is not writable by this user");
    }

    @Test
    void theDataDirectoryIsHeldAbsoluteAndNormalized() {
        ServerCommand command = new ServerCommand();
        new CommandLine(command).parseArgs("--id", "1", "--data-dir", "some/../data/./node-1");
        assertThat(command.resolve().dataDir()).isEqualTo(Path.of("").toAbsolutePath().resolve("data/node-1"));
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
    void aDataDirectoryOfAnotherNodeIsRefused() throws Exception {
        Path data = dir.resolve("shared");
        int port = TestPorts.next();
        FlotillaServer first = FlotillaServer.start(new ServerCommandConfig(1, port, data).config());
        first.close();
        // Node 2 on a port of its own: the refusal under test is the data directory's, not the port's.
        Run run = run("--id", "2", "--peers", "1=127.0.0.1:" + port + ",2=127.0.0.1:" + TestPorts.next(),
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
