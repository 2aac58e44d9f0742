package io.flotilla.server;

import io.flotilla.client.HostPort;
import io.flotilla.server.kv.KvLimits;
import io.flotilla.server.net.ConnectionLimits;
import io.flotilla.server.net.TlsConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything a node needs to start, validated where it is built ({@link ServerCommand}).
 *
 * @param peers   every founding member of the cluster by id, this node included; empty for a node
 *                that joins. After the cluster is founded, the configuration in the log is
 *                authoritative, and the peers only fill in addresses a configuration of an older
 *                version does not have
 * @param dataDir made absolute and normalized here, so logs and messages say where the data is
 * @param join    null, or a member of the cluster this node joins ({@code --join}): then the node never
 *                founds a cluster, and waits to be added (if its data directory is empty)
 * @param connections what connections may hold on this node
 * @param tls     {@link TlsConfig#PLAINTEXT} or the node's certificates
 * @param admin   the HTTP port, health threshold and backup to restore
 */
public record ServerConfig(int nodeId, String host, int port, Map<Integer, InetSocketAddress> peers, String clusterId,
                           Path dataDir, Duration tick, int electionTicks, int heartbeatTicks, KvLimits limits,
                           int maxFrameBytes, Duration requestTimeout, Duration idleTimeout, long snapshotEntries,
                           boolean fsync, InetSocketAddress join, ConnectionLimits connections, TlsConfig tls,
                           AdminConfig admin) {
    public ServerConfig {
        peers = Map.copyOf(peers);
        dataDir = dataDir.toAbsolutePath().normalize();
        if (join == null && !peers.containsKey(nodeId)) {
            throw new IllegalArgumentException("node id " + nodeId + " is not in the peer list " + new java.util.TreeMap<>(peers).keySet());
        }
        if (join != null && !peers.isEmpty()) {
            throw new IllegalArgumentException("a node that joins a cluster has no peer list");
        }
    }

    /** A founding member's configuration. */
    public ServerConfig(int nodeId, String host, int port, Map<Integer, InetSocketAddress> peers, String clusterId,
                        Path dataDir, Duration tick, int electionTicks, int heartbeatTicks, KvLimits limits,
                        int maxFrameBytes, Duration requestTimeout, Duration idleTimeout, long snapshotEntries, boolean fsync) {
        this(nodeId, host, port, peers, clusterId, dataDir, tick, electionTicks, heartbeatTicks, limits, maxFrameBytes,
                requestTimeout, idleTimeout, snapshotEntries, fsync, null, ConnectionLimits.DEFAULTS, TlsConfig.PLAINTEXT, AdminConfig.NONE);
    }

    /** The same node, joining the cluster that {@code member} belongs to instead of founding one. */
    public ServerConfig joining(InetSocketAddress member) {
        return new ServerConfig(nodeId, host, port, Map.of(), clusterId, dataDir, tick, electionTicks, heartbeatTicks, limits,
                maxFrameBytes, requestTimeout, idleTimeout, snapshotEntries, fsync, member, connections, tls, admin);
    }

    /** The same node with other connection limits. */
    public ServerConfig with(ConnectionLimits limits) {
        return new ServerConfig(nodeId, host, port, peers, clusterId, dataDir, tick, electionTicks, heartbeatTicks, this.limits,
                maxFrameBytes, requestTimeout, idleTimeout, snapshotEntries, fsync, join, limits, tls, admin);
    }

    /** The same node with TLS. */
    public ServerConfig with(TlsConfig tls) {
        return new ServerConfig(nodeId, host, port, peers, clusterId, dataDir, tick, electionTicks, heartbeatTicks, limits,
                maxFrameBytes, requestTimeout, idleTimeout, snapshotEntries, fsync, join, connections, tls, admin);
    }

    /** The same node with other operator settings. */
    public ServerConfig with(AdminConfig admin) {
        return new ServerConfig(nodeId, host, port, peers, clusterId, dataDir, tick, electionTicks, heartbeatTicks, limits,
                maxFrameBytes, requestTimeout, idleTimeout, snapshotEntries, fsync, join, connections, tls, admin);
    }

    /** This node's address as its peers reach it: {@code --host} and {@code --port}. */
    public String advertised() {
        return HostPort.format(host, port);
    }
}
