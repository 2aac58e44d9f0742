package io.flotilla.server;

import io.flotilla.server.kv.KvLimits;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Everything a node needs to start, validated where it is built ({@link ServerCommand}).
 *
 * @param peers every member of the cluster by id, this node included
 * @param dataDir made absolute and normalized here, so logs and messages say where the data is
 */
public record ServerConfig(int nodeId, String host, int port, Map<Integer, InetSocketAddress> peers, String clusterId,
                           Path dataDir, Duration tick, int electionTicks, int heartbeatTicks, KvLimits limits,
                           int maxFrameBytes, Duration requestTimeout, Duration idleTimeout, long snapshotEntries,
                           boolean fsync) {
    public ServerConfig {
        peers = Map.copyOf(peers);
        dataDir = dataDir.toAbsolutePath().normalize();
        if (!peers.containsKey(nodeId)) {
            throw new IllegalArgumentException("node id " + nodeId + " is not in the peer list " + new java.util.TreeMap<>(peers).keySet());
        }
    }
}
