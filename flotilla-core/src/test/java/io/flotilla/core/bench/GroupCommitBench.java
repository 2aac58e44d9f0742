package io.flotilla.core.bench;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Codec;
import io.flotilla.core.LocalNetwork;
import io.flotilla.core.RaftRuntime;
import io.flotilla.core.StateMachine;
import io.flotilla.core.protocol.RaftConfig;
import io.flotilla.core.protocol.Role;
import io.flotilla.core.storage.DurableStorage;
import io.flotilla.core.storage.Identity;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Group commit, measured (a benchmark, not a test): a three-node cluster in this JVM on durable
 * storage with fsync on, driven by N proposers that each wait for their previous proposal; prints
 * entries/s, the leader's fsyncs/s and entries per fsync for N = 1, 16, 64, 256.
 *
 * <p>Run: {@code mvn -pl flotilla-core test-compile}, then {@code java -cp flotilla-core/target/classes:flotilla-core/target/test-classes:<slf4j-api jar> io.flotilla.core.bench.GroupCommitBench [seconds]}.
 */
public final class GroupCommitBench {
    /** Counts applied commands; 16-byte key + 128-byte value sized payloads. */
    static final class Counter implements StateMachine<Bytes, String, Long> {
        long applied;

        @Override
        public Long apply(long index, Bytes command) {
            return ++applied;
        }

        @Override
        public Long query(String query) {
            return applied;
        }

        @Override
        public Snapshot snapshot() {
            long value = applied;
            return out -> new DataOutputStream(out).writeLong(value);
        }

        @Override
        public void restore(InputStream in) throws java.io.IOException {
            applied = new DataInputStream(in).readLong();
        }
    }

    static final Codec<Bytes> RAW = new Codec<>() {
        @Override
        public Bytes encode(Bytes value) {
            return value;
        }

        @Override
        public Bytes decode(Bytes bytes) {
            return bytes;
        }
    };

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        for (int proposers : new int[] {1, 16, 64, 256}) {
            run(proposers, seconds);
        }
    }

    static void run(int proposers, int seconds) throws Exception {
        Path dir = Files.createTempDirectory("group-commit");
        LocalNetwork network = new LocalNetwork();
        ClusterConfig cluster = ClusterConfig.of(1, 2, 3);
        List<DurableStorage> storages = new ArrayList<>();
        List<RaftRuntime<Bytes, String, Long>> nodes = new ArrayList<>();
        for (int id : cluster.voters()) {
            DurableStorage storage = DurableStorage.open(dir.resolve("n" + id), new Identity("bench", id), DurableStorage.Options.defaults());
            storage.bootstrap(cluster);
            storages.add(storage);
            nodes.add(RaftRuntime.start(new RaftRuntime.Options(RaftConfig.defaults(id), Duration.ofMillis(10), 65536, id),
                    new Counter(), RAW, storage, network.transport(id)));
        }
        RaftRuntime<Bytes, String, Long> leader = null;
        DurableStorage leaderStorage = null;
        while (leader == null) {
            Thread.sleep(20);
            for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).status().role() == Role.LEADER) {
                    leader = nodes.get(i);
                    leaderStorage = storages.get(i);
                }
            }
        }
        Bytes payload = Bytes.wrap(new byte[144]);
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long syncsBefore = leaderStorage.syncCount();
        long start = System.nanoTime();
        List<CompletableFuture<Void>> loops = new ArrayList<>();
        for (int p = 0; p < proposers; p++) {
            loops.add(loop(leader, payload, done, end));
        }
        CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get(seconds + 30L, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long syncs = leaderStorage.syncCount() - syncsBefore;
        System.out.printf("proposers %3d: %8.0f entries/s, %6.0f leader fsyncs/s, %6.1f entries per fsync%n",
                proposers, done.get() / elapsed, syncs / elapsed, (double) done.get() / Math.max(1, syncs));
        nodes.forEach(RaftRuntime::close);
        storages.forEach(DurableStorage::close);
    }

    /** One proposer: the next proposal goes when the previous one is applied, until the deadline. */
    private static CompletableFuture<Void> loop(RaftRuntime<Bytes, String, Long> leader, Bytes payload, AtomicLong done, long end) {
        if (System.nanoTime() >= end) {
            return CompletableFuture.completedFuture(null);
        }
        return leader.propose(payload).thenCompose(r -> {
            done.incrementAndGet();
            return loop(leader, payload, done, end);
        });
    }
}
