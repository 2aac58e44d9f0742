package io.flotilla.server;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flotilla.server.kv.KvLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla-server}: starts one node. Options override the config file, which overrides the defaults. */
@Command(name = "flotilla-server", mixinStandardHelpOptions = true, version = "flotilla-server 0.1.0",
        description = "Starts one node of a Flotilla key-value cluster.", sortOptions = false)
public final class ServerCommand implements Callable<Integer> {
    static final String DEFAULT_PEERS = "1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003";

    @Option(names = "--id", required = true, description = "This node's id (a positive number in the peer list).")
    int id;

    @Option(names = "--port", description = "Port for peers and clients (default: this node's port in the peer list).")
    Integer port;

    @Option(names = "--host", description = "Address to bind (default: this node's host in the peer list).")
    String host;

    @Option(names = "--peers", description = "Every member as id=host:port,... (default: " + DEFAULT_PEERS + ").")
    String peers;

    @Option(names = "--config", description = "A YAML or JSON file with any of these settings (keys as the long option names in camelCase; peers as a map of id to host:port).")
    Path config;

    @Option(names = "--cluster-id", description = "Name of the cluster; nodes and data directories of another cluster are refused (default: flotilla).")
    String clusterId;

    @Option(names = "--data-dir", description = "Where this node keeps its log (default: ./data/node-<id>).")
    Path dataDir;

    @Option(names = "--tick-ms", description = "Length of one Raft tick in ms (default: 10).")
    Integer tickMs;

    @Option(names = "--election-ticks", description = "Election timeout in ticks; elections start after 1-2x this (default: 20).")
    Integer electionTicks;

    @Option(names = "--heartbeat-ticks", description = "Heartbeat interval in ticks (default: 5).")
    Integer heartbeatTicks;

    @Option(names = "--max-key-bytes", description = "Largest key accepted (default: 4096).")
    Integer maxKeyBytes;

    @Option(names = "--max-value-bytes", description = "Largest value accepted (default: 1048576).")
    Integer maxValueBytes;

    @Option(names = "--max-frame-bytes", description = "Largest frame on any connection; bigger ones close it (default: 4194304).")
    Integer maxFrameBytes;

    @Option(names = "--request-timeout-ms", description = "How long a request may wait for its outcome (default: 5000).")
    Integer requestTimeoutMs;

    @Option(names = "--idle-timeout-s", description = "Close a connection that stops halfway through a frame, or sends no hello, for this long (default: 10).")
    Integer idleTimeoutS;

    @Option(names = "--snapshot-entries", description = "Take a snapshot and compact the log every this many entries; 0 never (default: 100000).")
    Long snapshotEntries;

    @Option(names = "--no-fsync", description = "Do not fsync the log: faster, but a machine crash may lose acknowledged writes. For tests only.")
    Boolean noFsync;

    /** The config file's shape: every field optional. */
    @JsonIgnoreProperties(ignoreUnknown = false)
    record ConfigFile(Map<Integer, String> peers, String clusterId, String host, Integer port, Path dataDir,
                      Integer tickMs, Integer electionTicks, Integer heartbeatTicks, Integer maxKeyBytes,
                      Integer maxValueBytes, Integer maxFrameBytes, Integer requestTimeoutMs, Integer idleTimeoutS, Long snapshotEntries,
                      Boolean noFsync) {
        static final ConfigFile EMPTY = new ConfigFile(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null);
    }

    /** Builds the validated configuration; any problem is an {@link IllegalArgumentException} with a one-line message. */
    ServerConfig resolve() {
        ConfigFile file = config == null ? ConfigFile.EMPTY : readConfig(config);
        Map<Integer, InetSocketAddress> members = peers != null ? parsePeers(peers)
                : file.peers() != null ? parsePeerMap(file.peers()) : parsePeers(DEFAULT_PEERS);
        if (id <= 0) {
            throw new IllegalArgumentException("--id must be a positive number, got " + id);
        }
        InetSocketAddress self = members.get(id);
        if (self == null) {
            throw new IllegalArgumentException("node id " + id + " is not in the peer list " + new TreeMap<>(members).keySet());
        }
        int tick = pick(tickMs, file.tickMs(), 10);
        int election = pick(electionTicks, file.electionTicks(), 20);
        int heartbeat = pick(heartbeatTicks, file.heartbeatTicks(), 5);
        int maxFrame = pick(maxFrameBytes, file.maxFrameBytes(), 4 << 20);
        int maxValue = pick(maxValueBytes, file.maxValueBytes(), KvLimits.DEFAULTS.maxValueBytes());
        int maxKey = pick(maxKeyBytes, file.maxKeyBytes(), KvLimits.DEFAULTS.maxKeyBytes());
        positive("--tick-ms", tick);
        positive("--election-ticks", election);
        positive("--heartbeat-ticks", heartbeat);
        if (election <= heartbeat) {
            throw new IllegalArgumentException("--election-ticks (" + election + ") must be larger than --heartbeat-ticks (" + heartbeat + ")");
        }
        positive("--max-key-bytes", maxKey);
        positive("--max-value-bytes", maxValue);
        if (maxFrame < 2L * maxValue + maxKey + 1024) {
            throw new IllegalArgumentException("--max-frame-bytes (" + maxFrame + ") must hold a CAS with two largest values: at least "
                    + (2L * maxValue + maxKey + 1024));
        }
        int timeout = pick(requestTimeoutMs, file.requestTimeoutMs(), 5000);
        positive("--request-timeout-ms", timeout);
        int idle = pick(idleTimeoutS, file.idleTimeoutS(), 10);
        positive("--idle-timeout-s", idle);
        long snapshots = pick(snapshotEntries, file.snapshotEntries(), 100_000L);
        if (snapshots < 0) {
            throw new IllegalArgumentException("--snapshot-entries must not be negative, got " + snapshots);
        }
        KvLimits limits = new KvLimits(maxKey, maxValue, KvLimits.DEFAULTS.sessionTimeoutMillis(), KvLimits.DEFAULTS.maxSessions(),
                KvLimits.DEFAULTS.maxOutcomesPerSession());
        return new ServerConfig(id,
                pick(host, file.host(), self.getHostString()),
                pick(port, file.port(), self.getPort()),
                members,
                pick(clusterId, file.clusterId(), "flotilla"),
                pick(dataDir, file.dataDir(), Path.of("data", "node-" + id)),
                Duration.ofMillis(tick), election, heartbeat, limits, maxFrame, Duration.ofMillis(timeout), Duration.ofSeconds(idle), snapshots,
                !pick(noFsync, file.noFsync(), false));
    }

    private static <T> T pick(T option, T fromFile, T fallback) {
        return option != null ? option : fromFile != null ? fromFile : fallback;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    static Map<Integer, InetSocketAddress> parsePeers(String spec) {
        Map<Integer, String> raw = new TreeMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("--peers entry '" + part.trim() + "' is not id=host:port");
            }
            try {
                raw.put(Integer.parseInt(kv[0].trim()), kv[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--peers entry '" + part.trim() + "' has a node id that is not a number");
            }
        }
        return parsePeerMap(raw);
    }

    static Map<Integer, InetSocketAddress> parsePeerMap(Map<Integer, String> raw) {
        Map<Integer, InetSocketAddress> members = new TreeMap<>();
        raw.forEach((peerId, address) -> {
            if (peerId <= 0) {
                throw new IllegalArgumentException("peer ids must be positive, got " + peerId);
            }
            int colon = address.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("peer " + peerId + " address '" + address + "' is not host:port");
            }
            int p;
            try {
                p = Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("peer " + peerId + " address '" + address + "' has no valid port");
            }
            if (p <= 0 || p > 65535) {
                throw new IllegalArgumentException("peer " + peerId + " port " + p + " is out of range");
            }
            members.put(peerId, InetSocketAddress.createUnresolved(address.substring(0, colon), p));
        });
        if (members.isEmpty()) {
            throw new IllegalArgumentException("the peer list is empty");
        }
        return members;
    }

    private static ConfigFile readConfig(Path path) {
        ObjectMapper mapper = path.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        try {
            return mapper.readValue(Files.readAllBytes(path), ConfigFile.class);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + path + " does not exist");
        } catch (IOException e) {
            String detail = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new IllegalArgumentException("config file " + path + " is unreadable: " + detail);
        }
    }

    @Override
    public Integer call() throws Exception {
        ServerConfig resolved;
        try {
            resolved = resolve();
        } catch (IllegalArgumentException e) {
            System.err.println("flotilla-server: " + e.getMessage());
            return 2;
        }
        return FlotillaServer.run(resolved);
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new ServerCommand());
        cli.setExecutionExceptionHandler((e, cmd, parse) -> {
            System.err.println("flotilla-server: " + e.getMessage());
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
