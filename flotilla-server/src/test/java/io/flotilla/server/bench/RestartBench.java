package io.flotilla.server.bench;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.storage.DurableStorage;
import io.flotilla.core.storage.Identity;
import io.flotilla.server.FlotillaServer;
import io.flotilla.server.ServerConfig;
import io.flotilla.server.kv.KvCodec;
import io.flotilla.server.kv.KvCommand;
import io.flotilla.server.kv.KvLimits;
import io.flotilla.server.kv.KvStateMachine;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Restart to serving (a benchmark, not a test): three data directories holding a snapshot of
 * {@code keys} keys with 128-byte values and a log tail of {@code tail} entries after it; the three
 * nodes start in this JVM, and the figure is the time until each has restored, replayed its tail,
 * and the cluster answers a linearizable read.
 *
 * <p>Run after {@code ./mvnw -DskipTests package}: {@code java -cp "flotilla-server/target/test-classes:flotilla-server/target/flotilla-server.jar:flotilla-server/target/lib/*" io.flotilla.server.bench.RestartBench [keys] [tail]}.
 */
public final class RestartBench {
    public static void main(String[] args) throws Exception {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int tail = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        Path root = Files.createTempDirectory("restart-bench");
        Map<Integer, InetSocketAddress> peers = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            try (ServerSocket s = new ServerSocket(0)) {
                peers.put(id, new InetSocketAddress("127.0.0.1", s.getLocalPort()));
            }
        }
        ClusterConfig cluster = ClusterConfig.ofVoters(addresses(peers));
        KvStateMachine state = new KvStateMachine();
        long client = 7;
        for (int i = 0; i < keys; i++) {
            state.apply(i + 2, new KvCommand.Write(1, new Request.Set(new Session(client, i + 1, i + 1), key(i), value(i))));
        }
        SnapshotMeta meta = new SnapshotMeta(keys + 1L, 1, cluster);
        KvCodec codec = new KvCodec();
        long prepared = System.nanoTime();
        for (int id : peers.keySet()) {
            try (DurableStorage storage = DurableStorage.open(root.resolve("node-" + id), new Identity("flotilla", id),
                    DurableStorage.Options.defaults())) {
                storage.bootstrap(cluster);
                try (SnapshotSink sink = storage.beginSnapshot(meta)) {
                    state.snapshot().writeTo(sink.out()); // a captured snapshot is written once
                    sink.commit();
                }
                storage.resetToSnapshot(meta);
                List<LogEntry> batch = new ArrayList<>();
                for (int i = 0; i < tail; i++) {
                    long seq = keys + i + 1L;
                    Bytes command = codec.encode(new KvCommand.Write(1, new Request.Set(new Session(client, seq, seq), key(i), value(i + 1))));
                    batch.add(new LogEntry(meta.index() + 1 + i, 1, EntryType.NORMAL, command));
                    if (batch.size() == 4096 || i == tail - 1) {
                        storage.append(batch);
                        batch.clear();
                    }
                }
                storage.saveHardState(new HardState(1, 0));
                storage.sync();
            }
        }
        System.out.printf("prepared 3 data directories: snapshot of %d keys at index %d + %d-entry tail (%.1f s)%n",
                keys, meta.index(), tail, (System.nanoTime() - prepared) / 1e9);
        long last = meta.index() + tail;
        long start = System.nanoTime();
        List<FlotillaServer> nodes = new ArrayList<>();
        for (int id : peers.keySet()) {
            nodes.add(FlotillaServer.start(new ServerConfig(id, "127.0.0.1", peers.get(id).getPort(), peers, "flotilla",
                    root.resolve("node-" + id), Duration.ofMillis(RaftRuntime.Options.DEFAULT_TICK_MILLIS),
                    RaftConfig.DEFAULT_ELECTION_TICKS, RaftConfig.DEFAULT_HEARTBEAT_TICKS, KvLimits.DEFAULTS, 4 << 20,
                    Duration.ofSeconds(5), Duration.ofSeconds(10), 100_000, true)));
        }
        System.out.printf("three nodes opened storage and restored the snapshot: %.2f s%n", (System.nanoTime() - start) / 1e9);
        FlotillaServer leader = null;
        while (leader == null || leader.raft().status().appliedIndex() < last) {
            Thread.sleep(5);
            leader = nodes.stream().filter(n -> n.raft().status().role() == Role.LEADER).findFirst().orElse(null);
        }
        Response read = leader.raft().read(new Request.Get(key(0), false)).get();
        System.out.printf("leader elected, tail applied, linearizable read answered (%s): %.2f s after start%n",
                read.code(), (System.nanoTime() - start) / 1e9);
        nodes.forEach(FlotillaServer::close);
    }

    /** The founders as the server writes them: id to "host:port". */
    private static Map<Integer, String> addresses(Map<Integer, InetSocketAddress> peers) {
        Map<Integer, String> out = new TreeMap<>();
        peers.forEach((id, a) -> out.put(id, a.getHostString() + ":" + a.getPort()));
        return out;
    }

    private static Bytes key(int i) {
        return Bytes.utf8(String.format("%016d", i));
    }

    private static Bytes value(int i) {
        byte[] v = new byte[128];
        v[0] = (byte) i;
        v[1] = (byte) (i >> 8);
        return Bytes.wrap(v);
    }
}
