package io.flotilla.client.it;

import io.flotilla.core.RaftRuntime;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import io.flotilla.server.FlotillaServer;
import io.flotilla.server.ServerConfig;
import io.flotilla.server.TestPorts;
import io.flotilla.server.kv.KvLimits;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Real Flotilla nodes in this JVM, on free ports, with their data in a temporary directory; the
 * values are those {@code bin/flotilla-server --no-fsync} would use.
 */
final class LocalCluster implements AutoCloseable {
    private final Map<Integer, InetSocketAddress> peers = new TreeMap<>();
    private final Map<Integer, FlotillaServer> running = new TreeMap<>();

    LocalCluster(int size, Path dataRoot) throws IOException {
        for (int id = 1; id <= size; id++) {
            peers.put(id, InetSocketAddress.createUnresolved("127.0.0.1", TestPorts.next()));
        }
        try {
            for (int id : peers.keySet()) {
                running.put(id, FlotillaServer.start(new ServerConfig(id, "127.0.0.1", peers.get(id).getPort(), peers, "flotilla",
                        dataRoot.resolve("node-" + id), Duration.ofMillis(RaftRuntime.Options.DEFAULT_TICK_MILLIS),
                        RaftConfig.DEFAULT_ELECTION_TICKS, RaftConfig.DEFAULT_HEARTBEAT_TICKS, KvLimits.DEFAULTS, 4 << 20,
                        Duration.ofSeconds(5), Duration.ofSeconds(10), 100_000, false)));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }


    /** Every node's address, "host:port,..." in id order. */
    String addresses() {
        return peers.values().stream().map(a -> "127.0.0.1:" + a.getPort()).collect(Collectors.joining(","));
    }

    List<InetSocketAddress> addressList() {
        return new ArrayList<>(peers.values());
    }

    InetSocketAddress address(int id) {
        return peers.get(id);
    }

    /** The id of the running node that leads now, if one does. */
    Optional<Integer> currentLeader() {
        return running.entrySet().stream()
                .filter(e -> e.getValue().raft().status().role() == Role.LEADER)
                .map(Map.Entry::getKey).findFirst();
    }

    /** Waits (bounded) until a running node leads; answers its id. */
    int awaitLeader() {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            Optional<Integer> leader = currentLeader();
            if (leader.isPresent()) {
                return leader.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no leader elected within 20 s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }

    void stop(int id) {
        FlotillaServer node = running.remove(id);
        if (node != null) {
            node.close();
        }
    }

    @Override
    public void close() {
        running.values().forEach(FlotillaServer::close);
        running.clear();
    }
}
