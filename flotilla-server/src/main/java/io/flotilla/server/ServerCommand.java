package io.flotilla.server;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.client.HostPort;
import io.flotilla.core.storage.DebugFsyncDelay;
import io.flotilla.server.kv.KvLimits;
import io.flotilla.server.net.ConnectionLimits;
import io.flotilla.server.net.TlsConfig;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flotilla-server}: starts one node. Options override the config file, which overrides the defaults. */
@Command(name = "flotilla-server", mixinStandardHelpOptions = true, version = "flotilla-server 0.1.0",
        description = "Starts one node of a Flotilla key-value cluster.", sortOptions = false)
public final class ServerCommand implements Callable<Integer> {
    static final String DEFAULT_PEERS = "1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003";

    @Option(names = "--id", description = "This node's id (a positive number in the peer list); required here or in the config file.")
    Integer id;

    @Option(names = "--port", description = "Port for peers and clients (default: this node's port in the peer list).")
    Integer port;

    @Option(names = "--host", description = "Address to bind (default: this node's host in the peer list).")
    String host;

    @Option(names = "--peers", description = "The founding members as id=host:port,... (default: " + DEFAULT_PEERS + "). "
            + "Once the cluster is founded, the configuration in its log is authoritative.")
    String peers;

    @Option(names = "--join", paramLabel = "HOST:PORT", description = "Join the cluster this member belongs to instead of founding one "
            + "(no --peers): the node waits until an operator adds it (flotilla-client member add ID HOST:PORT). "
            + "Ignored once the node has data.")
    String join;

    @Option(names = "--config", description = "A YAML or JSON file with any of these settings (keys as the long option names in camelCase; peers as a map of id to host:port).")
    Path config;

    @Option(names = "--cluster-id", description = "Name of the cluster; nodes and data directories of another cluster are refused (default: flotilla).")
    String clusterId;

    @Option(names = "--data-dir", description = "Where this node keeps its log (default: ./data/node-<id>).")
    Path dataDir;

    @Option(names = "--tick-ms", description = "Length of one Raft tick in ms (default: " + RaftRuntime.Options.DEFAULT_TICK_MILLIS + ").")
    Integer tickMs;

    @Option(names = "--election-ticks", description = "Election timeout in ticks; elections start after 1-2x this (default: "
            + RaftConfig.DEFAULT_ELECTION_TICKS + ").")
    Integer electionTicks;

    @Option(names = "--heartbeat-ticks", description = "Heartbeat interval in ticks (default: " + RaftConfig.DEFAULT_HEARTBEAT_TICKS + ").")
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

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "This node's certificate (PEM); with --tls-key and --tls-ca turns TLS on for every connection.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM, PKCS#8).")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "The cluster's CA certificate (PEM): peers must present a certificate it signed.")
    Path tlsCa;

    @Option(names = "--tls-client-auth", description = "Clients must present a certificate signed by --tls-ca too.")
    Boolean tlsClientAuth;

    @Option(names = "--max-connections", description = "Client connections at once; more are refused (default: 1024). Authenticated peers are always admitted.")
    Integer maxConnections;

    @Option(names = "--max-handshakes", description = "Connections at once that have not completed their hello (default: 128).")
    Integer maxHandshakes;

    @Option(names = "--client-idle-timeout-s", description = "Close a client connection with nothing in flight for this long (default: 300).")
    Integer clientIdleTimeoutS;

    @Option(names = "--max-in-flight", description = "Requests of one connection handled at once; reading pauses beyond it (default: 4096).")
    Integer maxInFlight;

    @Option(names = "--max-connection-buffer-bytes", description = "Answers one connection may leave unread; reading pauses at half, "
            + "and a client over it is disconnected (default: 16777216).")
    Integer maxConnectionBufferBytes;

    @Option(names = "--max-sessions", description = "Client sessions the cluster remembers (default: 100000).")
    Integer maxSessions;

    @Option(names = "--max-session-outcomes", description = "Unacknowledged write outcomes one session may hold; more writes are refused (default: 10000).")
    Integer maxSessionOutcomes;

    @Option(names = "--max-outcomes", description = "Unacknowledged write outcomes all sessions may hold together; more writes are refused (default: 1000000).")
    Integer maxOutcomes;

    @Option(names = "--http-port", description = "HTTP port for /health, /metrics, /status and the cluster page at /; 0 for none "
            + "(default: --port + 1000).")
    Integer httpPort;

    @Option(names = "--resp-port", description = "Redis protocol (RESP2/RESP3) port for redis-cli and Redis client libraries; "
            + "0 for none (default: 0).")
    Integer respPort;

    @Option(names = "--resp-redirect", description = "On a follower, answer Redis writes and linearizable reads with -MOVED to the "
            + "leader's Redis port instead of relaying them (default: relay).")
    Boolean respRedirect;

    @Option(names = "--health-max-lag", description = "Entries the applied index may trail the leader's commit index before /health "
            + "answers 503 (default: 10000).")
    Long healthMaxLag;

    @Option(names = "--restore", paramLabel = "FILE", description = "Seed this founder's empty data directory from a backup "
            + "(flotilla-client snapshot save); refused if the directory holds data.")
    Path restore;

    @Option(names = "--log-file", paramLabel = "FILE", description = "Also write the log to FILE, rolled daily and at 100 MiB "
            + "into FILE.<date>.<n>.gz; rolled files are kept 14 days and 2 GiB at most (default: the terminal only).")
    Path logFile;

    @Option(names = "--log-format", description = "text or json (one object per line, for log shippers) (default: text).")
    String logFormat;

    @Option(names = "--no-fsync", description = "Do not fsync the log: faster, but a machine crash may lose acknowledged writes. For tests only.")
    Boolean noFsync;

    /** Not in --help nor the config file: they make a node slow on purpose (docs/operations.md, "Testing aids"). */
    @Option(names = "--debug-fsync-delay-ms", hidden = true, paramLabel = "MS",
            description = "Testing aid: every fsync of the node's storage waits this long first, as on a slow disk (default: 0).")
    Integer debugFsyncDelayMs;

    @Option(names = "--debug-fsync-delay-after-s", hidden = true, paramLabel = "S",
            description = "Start the fsync delays this long after the node starts, so that a cluster can elect its leader first "
                    + "(a vote waits for two fsyncs, longer than an election timeout) (default: 0).")
    Integer debugFsyncDelayAfterS;

    /**
     * The config file's shape: every option above except --config, named in camelCase, each optional
     * (ServerCommandTest checks that every option has its field).
     */
    @JsonIgnoreProperties(ignoreUnknown = false)
    record ConfigFile(Integer id, Map<Integer, String> peers, String clusterId, String host, Integer port, Path dataDir,
                      Integer tickMs, Integer electionTicks, Integer heartbeatTicks, Integer maxKeyBytes,
                      Integer maxValueBytes, Integer maxFrameBytes, Integer requestTimeoutMs, Integer idleTimeoutS, Long snapshotEntries,
                      Boolean noFsync, String join, Path tlsCert, Path tlsKey, Path tlsCa, Boolean tlsClientAuth,
                      Integer maxConnections, Integer maxHandshakes, Integer clientIdleTimeoutS, Integer maxInFlight,
                      Integer maxConnectionBufferBytes, Integer maxSessions, Integer maxSessionOutcomes, Integer maxOutcomes,
                      Integer httpPort, Integer respPort, Boolean respRedirect, Long healthMaxLag, Path restore, Path logFile,
                      String logFormat) {
        static final ConfigFile EMPTY = new ConfigFile(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null);
    }

    /** Builds the validated configuration; any problem is an {@link IllegalArgumentException} with a one-line message. */
    ServerConfig resolve() {
        ConfigFile file = config == null ? ConfigFile.EMPTY : readConfig(config);
        String joinAddress = pick(join, file.join(), null);
        if (joinAddress != null && (peers != null || file.peers() != null)) {
            throw new IllegalArgumentException("--join and --peers exclude each other: a node that joins learns its peers from the cluster");
        }
        InetSocketAddress joining = joinAddress == null ? null : parseAddress("--join", joinAddress);
        Map<Integer, InetSocketAddress> members = joining != null ? Map.of() : peers != null ? parsePeers(peers)
                : file.peers() != null ? parsePeerMap(file.peers()) : parsePeers(DEFAULT_PEERS);
        Integer id = pick(this.id, file.id(), null);
        if (id == null) {
            throw new IllegalArgumentException("no node id: give --id N" + (config == null ? "" : " or 'id: N' in " + config));
        }
        if (id <= 0) {
            throw new IllegalArgumentException("--id must be a positive number, got " + id);
        }
        InetSocketAddress self = members.get(id);
        if (joining != null) {
            if (pick(port, file.port(), null) == null) {
                throw new IllegalArgumentException("--join needs --port: the port this node listens on, where the cluster reaches it");
            }
            self = InetSocketAddress.createUnresolved(pick(host, file.host(), "127.0.0.1"), 0);
        } else if (self == null) {
            throw new IllegalArgumentException("node id " + id + " is not in the peer list " + new TreeMap<>(members).keySet());
        }
        // The core's defaults (RaftConfig, RaftRuntime.Options) are the one source of these three.
        int tick = pick(tickMs, file.tickMs(), RaftRuntime.Options.DEFAULT_TICK_MILLIS);
        int election = pick(electionTicks, file.electionTicks(), RaftConfig.DEFAULT_ELECTION_TICKS);
        int heartbeat = pick(heartbeatTicks, file.heartbeatTicks(), RaftConfig.DEFAULT_HEARTBEAT_TICKS);
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
        int listenPort = pick(port, file.port(), self.getPort());
        if (listenPort <= 0 || listenPort > 65535) {
            throw new IllegalArgumentException("--port " + listenPort + " is out of range (1-65535)");
        }
        int sessions = pick(maxSessions, file.maxSessions(), KvLimits.DEFAULTS.maxSessions());
        int sessionOutcomes = pick(maxSessionOutcomes, file.maxSessionOutcomes(), KvLimits.DEFAULTS.maxOutcomesPerSession());
        int outcomes = pick(maxOutcomes, file.maxOutcomes(), KvLimits.DEFAULTS.maxOutcomes());
        positive("--max-sessions", sessions);
        positive("--max-session-outcomes", sessionOutcomes);
        positive("--max-outcomes", outcomes);
        KvLimits limits = new KvLimits(maxKey, maxValue, KvLimits.DEFAULTS.sessionTimeoutMillis(), sessions, sessionOutcomes, outcomes);
        ConnectionLimits connections = connectionLimits(file, maxFrame);
        TlsConfig tls = tls(file);
        AdminConfig admin = admin(file, listenPort);
        if (admin.restore() != null && joining != null) {
            throw new IllegalArgumentException("--restore and --join exclude each other: --restore seeds a founder of a new cluster,"
                    + " a node that joins copies the data from the cluster's leader");
        }
        return new ServerConfig(id,
                pick(host, file.host(), self.getHostString()),
                listenPort,
                members,
                pick(clusterId, file.clusterId(), "flotilla"),
                pick(dataDir, file.dataDir(), Path.of("data", "node-" + id)),
                Duration.ofMillis(tick), election, heartbeat, limits, maxFrame, Duration.ofMillis(timeout), Duration.ofSeconds(idle), snapshots,
                !pick(noFsync, file.noFsync(), false), joining, connections, tls, admin);
    }

    private ConnectionLimits connectionLimits(ConfigFile file, int maxFrame) {
        ConnectionLimits d = ConnectionLimits.DEFAULTS;
        int connections = pick(maxConnections, file.maxConnections(), d.maxConnections());
        int handshakes = pick(maxHandshakes, file.maxHandshakes(), d.maxHandshakes());
        int idle = pick(clientIdleTimeoutS, file.clientIdleTimeoutS(), (int) d.clientIdleTimeout().toSeconds());
        int inFlight = pick(maxInFlight, file.maxInFlight(), d.maxInFlight());
        int buffer = pick(maxConnectionBufferBytes, file.maxConnectionBufferBytes(), Math.max(d.maxOutputBufferBytes(), 2 * maxFrame));
        positive("--max-connections", connections);
        positive("--max-handshakes", handshakes);
        positive("--client-idle-timeout-s", idle);
        positive("--max-in-flight", inFlight);
        if (buffer < maxFrame) {
            throw new IllegalArgumentException("--max-connection-buffer-bytes (" + buffer + ") must hold the largest answer: at least --max-frame-bytes ("
                    + maxFrame + ")");
        }
        return new ConnectionLimits(connections, handshakes, Duration.ofSeconds(idle), inFlight, buffer);
    }

    private AdminConfig admin(ConfigFile file, int listenPort) {
        int http = pick(httpPort, file.httpPort(), listenPort + 1000 <= 65535 ? listenPort + 1000 : 0);
        long lag = pick(healthMaxLag, file.healthMaxLag(), AdminConfig.NONE.maxHealthyLag());
        Path backup = pick(restore, file.restore(), null);
        int resp = pick(respPort, file.respPort(), 0);
        boolean redirect = pick(respRedirect, file.respRedirect(), false);
        if (http == listenPort) {
            throw new IllegalArgumentException("--http-port " + http + " is the node's own --port");
        }
        if (resp != 0 && (resp == listenPort || resp == http)) {
            throw new IllegalArgumentException("--resp-port " + resp + " is the node's own " + (resp == listenPort ? "--port" : "--http-port"));
        }
        if (redirect && resp == 0) {
            throw new IllegalArgumentException("--resp-redirect needs a Redis port: give --resp-port");
        }
        if (backup != null && !Files.isReadable(backup)) {
            throw new IllegalArgumentException("--restore " + backup + " does not exist or is not readable");
        }
        return new AdminConfig(http, lag, backup, resp, redirect);
    }

    /** The --debug-fsync-delay-ms testing aid: every fsync waits {@code delay} from {@code after} the start on. */
    record FsyncDelay(Duration delay, Duration after) {
        static final FsyncDelay NONE = new FsyncDelay(Duration.ZERO, Duration.ZERO);
    }

    FsyncDelay fsyncDelay(boolean fsync) {
        int ms = debugFsyncDelayMs == null ? 0 : debugFsyncDelayMs;
        int after = debugFsyncDelayAfterS == null ? 0 : debugFsyncDelayAfterS;
        if (ms < 0 || after < 0) {
            throw new IllegalArgumentException("--debug-fsync-delay-ms and --debug-fsync-delay-after-s must not be negative");
        }
        if (ms == 0) {
            if (debugFsyncDelayAfterS != null) {
                throw new IllegalArgumentException("--debug-fsync-delay-after-s says when --debug-fsync-delay-ms starts; give both");
            }
            return FsyncDelay.NONE;
        }
        if (!fsync) {
            throw new IllegalArgumentException("--debug-fsync-delay-ms delays fsyncs, and --no-fsync leaves none to delay");
        }
        return new FsyncDelay(Duration.ofMillis(ms), Duration.ofSeconds(after));
    }

    /** The log settings of the command line and the config file (applied before the node logs anything). */
    LogSettings logSettings() {
        ConfigFile file = config == null ? ConfigFile.EMPTY : readConfig(config);
        String format = pick(logFormat, file.logFormat(), "text").toLowerCase(Locale.ROOT);
        if (!format.equals("text") && !format.equals("json")) {
            throw new IllegalArgumentException("--log-format must be text or json, got '" + format + "'");
        }
        return new LogSettings(pick(logFile, file.logFile(), null), format.equals("json"));
    }

    /** @param file null for the terminal only */
    record LogSettings(Path file, boolean json) {
    }

    /** TLS is on when a certificate is given, and then needs its key and the CA. */
    private TlsConfig tls(ConfigFile file) {
        Path cert = pick(tlsCert, file.tlsCert(), null);
        Path key = pick(tlsKey, file.tlsKey(), null);
        Path ca = pick(tlsCa, file.tlsCa(), null);
        boolean clientAuth = pick(tlsClientAuth, file.tlsClientAuth(), false);
        if (cert == null && key == null && ca == null) {
            if (clientAuth) {
                throw new IllegalArgumentException("--tls-client-auth needs TLS: give --tls-cert, --tls-key and --tls-ca");
            }
            return TlsConfig.PLAINTEXT;
        }
        if (cert == null || key == null || ca == null) {
            throw new IllegalArgumentException("TLS needs all three of --tls-cert, --tls-key and --tls-ca; missing: "
                    + String.join(", ", java.util.stream.Stream.of(cert == null ? "--tls-cert" : null, key == null ? "--tls-key" : null,
                            ca == null ? "--tls-ca" : null).filter(java.util.Objects::nonNull).toList()));
        }
        for (Path p : new Path[] {cert, key, ca}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file " + p + " does not exist or is not readable");
            }
        }
        return new TlsConfig(cert, key, ca, clientAuth);
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
            int peerId;
            try {
                peerId = Integer.parseInt(kv[0].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--peers entry '" + part.trim() + "' has a node id that is not a number");
            }
            if (raw.put(peerId, kv[1].trim()) != null) { // a map would silently keep only the last one
                throw new IllegalArgumentException("--peers names node " + peerId + " twice");
            }
        }
        return parsePeerMap(raw);
    }

    /** A "host:port" given for {@code what}. */
    static InetSocketAddress parseAddress(String what, String address) {
        try {
            return HostPort.parse(address);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " " + e.getMessage());
        }
    }

    static Map<Integer, InetSocketAddress> parsePeerMap(Map<Integer, String> raw) {
        Map<Integer, InetSocketAddress> members = new TreeMap<>();
        Map<String, Integer> byAddress = new HashMap<>();
        new TreeMap<>(raw).forEach((peerId, address) -> {
            if (address == null) {
                throw new IllegalArgumentException("peer " + peerId + " has no address");
            }
            if (peerId <= 0) {
                throw new IllegalArgumentException("peer ids must be positive, got " + peerId);
            }
            InetSocketAddress parsed = parseAddress("peer " + peerId, address);
            String where = HostPort.format(parsed);
            Integer other = byAddress.putIfAbsent(where.toLowerCase(Locale.ROOT), peerId);
            if (other != null) { // two members on one port: one of them could never start
                throw new IllegalArgumentException("peers " + other + " and " + peerId + " have the same address " + where);
            }
            members.put(peerId, parsed);
        });
        if (members.isEmpty()) {
            throw new IllegalArgumentException("the peer list is empty");
        }
        return members;
    }

    private static ConfigFile readConfig(Path path) {
        ObjectMapper mapper = path.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a peer listed twice must not silently keep the last
        byte[] content;
        try {
            content = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + path + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + path + " is unreadable: " + describe(e));
        }
        if (new String(content, StandardCharsets.UTF_8).isBlank()) {
            return ConfigFile.EMPTY; // an empty YAML document sets nothing
        }
        try {
            ConfigFile file = mapper.readValue(content, ConfigFile.class);
            return file == null ? ConfigFile.EMPTY : file;
        } catch (UnrecognizedPropertyException e) {
            // No line here: the parser reports where it stopped, which is past the field.
            List<String> known = e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            throw new IllegalArgumentException("config file " + path + ": unknown setting '" + e.getPropertyName()
                    + "'; the settings are " + String.join(", ", known));
        } catch (MismatchedInputException e) {
            throw new IllegalArgumentException(where(path, e.getLocation()) + mismatch(e));
        } catch (JsonProcessingException e) {
            if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
                // SnakeYAML's own message starts with its context ("while scanning ..."); the problem is the useful part.
                Mark mark = yaml.getProblemMark();
                throw new IllegalArgumentException("config file " + path + " line " + (mark.getLine() + 1) + ", column "
                        + (mark.getColumn() + 1) + ": " + yaml.getProblem());
            }
            throw new IllegalArgumentException(where(path, e.getLocation()) + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + path + " is unreadable: " + describe(e));
        }
    }

    /** A value of the wrong type, said in the file's terms rather than Java's. */
    private static String mismatch(MismatchedInputException e) {
        String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : String.valueOf(r.getIndex()))
                .reduce((a, b) -> a + "." + b).orElse("");
        Class<?> type = e.getTargetType();
        String wanted = type == null ? null
                : type == Integer.class || type == Long.class ? "a whole number"
                : type == Boolean.class ? "true or false"
                : Map.class.isAssignableFrom(type) ? "a map of node id to host:port"
                : type == ConfigFile.class ? "a map of settings"
                : type == String.class || type == Path.class ? "text" : null;
        if (wanted == null || field.isEmpty() && type != ConfigFile.class) {
            return (field.isEmpty() ? "" : "'" + field + "': ") + firstLine(e.getOriginalMessage());
        }
        String got = e instanceof InvalidFormatException invalid ? ", got '" + invalid.getValue() + "'" : "";
        if (field.equals("peers") && type == Integer.class) {
            return "the node ids in 'peers' must be whole numbers" + got; // a map key, not the map
        }
        return (field.isEmpty() ? "the file" : "'" + field + "'") + " must be " + wanted + got;
    }

    /** "config file F line L, column C: " from a parser's location, if it has one. */
    private static String where(Path path, JsonLocation at) {
        return "config file " + path + (at == null || at.getLineNr() <= 0 ? "" : " line " + at.getLineNr() + ", column " + at.getColumnNr())
                + ": ";
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").strip();
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage());
    }

    /**
     * Refuses a data directory the node could not create or write, before anything is created, so
     * the problem is one line instead of a storage error.
     */
    static void checkDataDir(Path dir) {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("data directory " + dir + " is not a directory");
            }
            if (!Files.isWritable(dir) || !Files.isExecutable(dir)) {
                throw new IllegalArgumentException("data directory " + dir + " is not writable by this user");
            }
            return;
        }
        Path existing = dir.getParent();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new IllegalArgumentException("cannot create data directory " + dir + ": none of its parents exists");
        }
        if (!Files.isDirectory(existing)) {
            throw new IllegalArgumentException("cannot create data directory " + dir + ": " + existing + " is not a directory");
        }
        if (!Files.isWritable(existing) || !Files.isExecutable(existing)) {
            throw new IllegalArgumentException("cannot create data directory " + dir + ": " + existing + " is not writable by this user");
        }
    }

    /**
     * Refuses an address this node cannot listen on, by binding it briefly: before the data
     * directory is created, so a refused start leaves nothing behind. The real bind may still lose a
     * race with another process; it then fails with its own one-line message.
     */
    static void checkListenAddress(String host, int port) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        String name = host + ":" + port;
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("cannot listen on " + name + ": the host name does not resolve");
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true); // as the node's own socket does: connections in TIME_WAIT do not block a restart
            probe.bind(address);
        } catch (BindException e) {
            String reason = String.valueOf(e.getMessage());
            throw new IllegalArgumentException("cannot listen on " + name + ": " + (reason.contains("in use") ? "the port is in use"
                    : reason.contains("assign") ? "the address is not local to this machine" : reason));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot listen on " + name + ": " + describe(e));
        }
    }

    @Override
    public Integer call() throws Exception {
        ServerConfig resolved;
        FsyncDelay fsyncDelay;
        try {
            resolved = resolve();
            fsyncDelay = fsyncDelay(resolved.fsync());
            checkDataDir(resolved.dataDir());
            checkListenAddress(resolved.host(), resolved.port());
            if (resolved.admin().httpPort() != 0) {
                checkListenAddress(resolved.host(), resolved.admin().httpPort());
            }
            if (resolved.admin().respPort() != 0) {
                checkListenAddress(resolved.host(), resolved.admin().respPort());
            }
            LogSetup.apply(logSettings());
        } catch (IllegalArgumentException e) {
            System.err.println("flotilla-server: " + e.getMessage());
            return USAGE;
        }
        if (!fsyncDelay.delay().isZero()) {
            startFsyncDelay(fsyncDelay);
        }
        return FlotillaServer.run(resolved);
    }

    /** For the whole process (the hook is static, and this process is one node), now or after a while. */
    private static void startFsyncDelay(FsyncDelay fsync) {
        Logger log = LoggerFactory.getLogger(ServerCommand.class);
        long ms = fsync.delay().toMillis();
        log.warn("every fsync waits {} ms first{} (--debug-fsync-delay-ms): a testing aid that makes the disk slow on purpose; "
                + "never use it in production", ms, fsync.after().isZero() ? "" : " from " + fsync.after().toSeconds() + " s after the start");
        if (fsync.after().isZero()) {
            DebugFsyncDelay.set(fsync.delay());
            return;
        }
        CompletableFuture.delayedExecutor(fsync.after().toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            DebugFsyncDelay.set(fsync.delay());
            log.warn("every fsync now waits {} ms first (--debug-fsync-delay-ms)", ms);
        });
    }

    /** The exit code of a refused command line or configuration; a node that fails to start exits with 1. */
    static final int USAGE = 2;

    /** The command line with one-line refusals: a usage error names the problem, not the whole usage. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ServerCommand());
        cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("flotilla-server: " + firstLine(e.getMessage()) + " (see --help)");
            e.getCommandLine().getErr().flush();
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, cmd, parse) -> {
            cmd.getErr().println("flotilla-server: " + e);
            cmd.getErr().flush();
            return 1;
        });
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
