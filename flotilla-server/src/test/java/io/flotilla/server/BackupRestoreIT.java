package io.flotilla.server;

import io.flotilla.client.Poll;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.client.BackupFile;
import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore with real processes, as the README does it: three nodes started with
 * bin/flotilla-server (fsync on), a write load, {@code bin/flotilla-client snapshot save} in the middle
 * of it, then a new cluster (new ports, new data directories, another cluster id) whose founders start
 * with {@code --restore}: every write acknowledged before the save started must be there with its
 * value, and the restored cluster must take writes. A damaged backup, and a restart with --restore
 * on a restored node, are refused.
 */
class BackupRestoreIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The write load stops at whichever comes first. */
    private static final int MAX_WRITES = 20_000;
    private static final Duration MAX_LOAD = Duration.ofSeconds(40);

    @TempDir
    Path dir;
    private final Map<String, Process> processes = new TreeMap<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        processes.values().forEach(Process::destroy);
        for (Process p : processes.values()) {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static String bin(String name) {
        return Path.of("..", "bin", name).toAbsolutePath().normalize().toString();
    }

    /** A cluster of three processes: its ports and data directories. */
    private record Cluster(String name, Map<Integer, Integer> ports) {
        String peers() {
            List<String> parts = new ArrayList<>();
            ports.forEach((id, port) -> parts.add(id + "=127.0.0.1:" + port));
            return String.join(",", parts);
        }

        String clients() {
            return String.join(",", ports.values().stream().map(p -> "127.0.0.1:" + p).toList());
        }

        ClientOptions options(Duration deadline) {
            List<InetSocketAddress> nodes = ports.values().stream().map(p -> new InetSocketAddress("127.0.0.1", p)).toList();
            return ClientOptions.defaults().withCluster(nodes).withDeadline(deadline);
        }
    }

    private static Cluster cluster(String name) {
        Map<Integer, Integer> ports = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            ports.put(id, TestPorts.next());
        }
        return new Cluster(name, ports);
    }

    private Path dataDir(Cluster c, int id) {
        return dir.resolve(c.name()).resolve("node-" + id);
    }

    private Path log(Cluster c, int id) {
        return dir.resolve(c.name() + "-node-" + id + ".log");
    }

    private Process start(Cluster c, int id, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(bin("flotilla-server"), "--id", String.valueOf(id), "--port",
                String.valueOf(c.ports().get(id)), "--peers", c.peers(), "--data-dir", dataDir(c, id).toString(),
                "--cluster-id", c.name(), "--snapshot-entries", "1000"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(c, id).toFile()));
        pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xms64m -Xmx256m");
        Process p = pb.start();
        processes.put(c.name() + "-" + id, p);
        return p;
    }

    private String logs(Cluster c) throws IOException {
        StringBuilder out = new StringBuilder();
        for (int id : c.ports().keySet()) {
            Path log = log(c, id);
            out.append("\n--- ").append(c.name()).append(" node ").append(id).append('\n')
                    .append(Files.exists(log) ? Files.readString(log) : "(none)");
        }
        return out.toString();
    }

    private record Run(int exit, String out) {
    }

    private Run run(Duration limit, String... command) throws Exception {
        Path out = Files.createTempFile(dir, "run", ".out");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("FLOTILLA_JAVA_OPTS", "-Xms64m -Xmx256m");
        Process p = pb.start();
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + limit + ": " + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out));
    }

    private interface ClientCall {
        void run(FlotillaClient client);
    }

    /**
     * Runs {@code call} until it succeeds, within 90 s: the first request waits out JVM starts and an
     * election on a loaded machine, and the client's retry budget may run out before (nothing applied).
     */
    private void awaitServing(Cluster c, ClientCall call) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        try (FlotillaClient client = FlotillaClient.create(c.options(Duration.ofSeconds(20)))) {
            while (true) {
                try {
                    call.run(client);
                    return;
                } catch (FlotillaException e) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("cluster " + c.name() + " never served: " + e.getMessage() + logs(c), e);
                    }
                }
            }
        }
    }

    /** Writes that were acknowledged, and when (System.nanoTime), by key. */
    private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();

    private static String value(String key) {
        return "value of " + key;
    }

    /** Set once the load has run long enough after the save. */
    private volatile boolean stopLoad;

    /** Four writers of unique keys until MAX_WRITES, MAX_LOAD or stopLoad; a write that fails is simply not acknowledged. */
    private List<Thread> startLoad(Cluster c, AtomicLong issued, long stopAt) {
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                try (FlotillaClient client = FlotillaClient.create(c.options(Duration.ofSeconds(10)))) {
                    while (System.nanoTime() < stopAt && !stopLoad) {
                        long n = issued.incrementAndGet();
                        if (n > MAX_WRITES) {
                            return;
                        }
                        String key = "w" + writer + "-" + n;
                        try {
                            client.set(key, value(key));
                            acknowledged.put(key, System.nanoTime());
                        } catch (FlotillaException e) {
                            // not acknowledged: it may or may not be in the backup
                        }
                    }
                }
            }, "load-" + w);
            t.start();
            writers.add(t);
        }
        return writers;
    }

    @Test
    void aBackupSavedUnderWriteLoadRestoresEveryAcknowledgedWriteIntoANewCluster() throws Exception {
        Cluster old = cluster("old");
        for (int id = 1; id <= 3; id++) {
            start(old, id);
        }
        awaitServing(old, client -> client.set("first", "write"));

        AtomicLong issued = new AtomicLong();
        long loadEnds = System.nanoTime() + MAX_LOAD.toNanos();
        List<Thread> load = startLoad(old, issued, loadEnds);
        Poll.within(Duration.ofSeconds(30), () -> acknowledged.size() >= 1500);
        assertThat(acknowledged.size()).as("writes acknowledged before the save" + logs(old)).isGreaterThanOrEqualTo(300);

        Set<String> beforeSave = Set.copyOf(acknowledged.keySet());
        long saveStarted = System.nanoTime();
        Path backup = dir.resolve("backup.flot");
        Run save = run(Duration.ofSeconds(120), bin("flotilla-client"), "--cluster", old.clients(), "--timeout", "30s", "-o", "json",
                "snapshot", "save", backup.toString());
        long saveEnded = System.nanoTime();
        Thread.sleep(500); // a little load after the save too (not waiting for anything)
        stopLoad = true;
        long acknowledgedDuringSave = acknowledged.values().stream().filter(t -> t > saveStarted && t < saveEnded).count();
        for (Thread t : load) {
            t.join(TimeUnit.NANOSECONDS.toMillis(loadEnds - System.nanoTime()) + 30_000);
            assertThat(t.isAlive()).as("the load stops by itself").isFalse();
        }
        assertThat(save.exit()).as(save.out() + logs(old)).isZero();
        JsonNode saved = JSON.readTree(save.out().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(saved.get("result").asText()).isEqualTo("ok");
        BackupFile.Header header = BackupFile.verify(backup);
        assertThat(saved.get("index").asLong()).isEqualTo(header.index());
        assertThat(saved.get("term").asLong()).isEqualTo(header.term());
        assertThat(saved.get("checksum").asText()).isEqualTo(header.checksum());
        assertThat(saved.get("bytes").asLong()).isEqualTo(Files.size(backup));
        assertThat(acknowledgedDuringSave).as("the save ran under load").isPositive();

        for (Process p : List.copyOf(processes.values())) {
            p.destroy(); // SIGTERM: the old cluster is gone
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        processes.clear();

        Cluster fresh = cluster("restored");
        for (int id = 1; id <= 3; id++) {
            start(fresh, id, "--restore", backup.toString());
        }
        awaitServing(fresh, client -> assertThat(client.get("first")).contains("write"));
        try (FlotillaClient client = FlotillaClient.create(fresh.options(Duration.ofSeconds(30)))) {
            List<String> missing = new ArrayList<>();
            for (String key : beforeSave) {
                Optional<String> v = client.get(key);
                if (!v.equals(Optional.of(value(key)))) {
                    missing.add(key + "=" + v.orElse("(absent)"));
                }
            }
            assertThat(missing).as("writes acknowledged before the save, missing or wrong after the restore").isEmpty();
            int later = 0;
            for (String key : acknowledged.keySet()) {
                if (!beforeSave.contains(key)) {
                    Optional<String> v = client.get(key);
                    assertThat(v.orElse(value(key))).as("a later write is there or not, never corrupt: %s", key).isEqualTo(value(key));
                    later += v.isPresent() ? 1 : 0;
                }
            }
            client.set("after", "restore");
            assertThat(client.get("after")).contains("restore");
            System.out.printf("BackupRestoreIT: %d writes acknowledged before the save, %d during it, %d in all; %d later ones in the"
                    + " backup; backup index %d, %d bytes%n", beforeSave.size(), acknowledgedDuringSave, acknowledged.size(), later,
                    header.index(), Files.size(backup));
        }
        for (int id = 1; id <= 3; id++) {
            assertThat(Files.readString(log(fresh, id))).contains("node " + id + " restored backup " + backup + ": index " + header.index()
                    + ", term " + header.term() + ", ");
        }

        // A restored node restarted with --restore still given: refused, its data untouched.
        Process node1 = processes.remove("restored-1");
        node1.destroy();
        assertThat(node1.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Run again = run(Duration.ofSeconds(60), bin("flotilla-server"), "--id", "1", "--port", String.valueOf(fresh.ports().get(1)),
                "--peers", fresh.peers(), "--data-dir", dataDir(fresh, 1).toString(), "--cluster-id", "restored",
                "--restore", backup.toString());
        assertThat(again.exit()).as(again.out()).isEqualTo(1);
        assertThat(again.out()).contains("flotilla-server: --restore " + backup + " refused: data directory " + dataDir(fresh, 1)
                + " already holds data");
        start(fresh, 1); // without --restore it rejoins from its data
        awaitServing(fresh, client -> client.set("after", "restart"));
        assertThat(Files.readString(log(fresh, 1))).contains("node 1 of cluster 'restored' serving");
    }

    @Test
    void aDamagedBackupIsRefusedAndNothingIsWritten() throws Exception {
        Cluster c = cluster("damaged");
        Path backup = dir.resolve("damaged.flot");
        byte[] data = new byte[5000];
        new java.util.Random(5).nextBytes(data);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(data);
        BackupFile.Header header = new BackupFile.Header(0, 1, "old", 10, 2, io.flotilla.core.ClusterConfig.of(1, 2, 3).encode(),
                data.length, (int) crc.getValue());
        java.nio.ByteBuffer h = BackupFile.encodeHeader(header);
        byte[] file = new byte[h.remaining() + data.length];
        h.get(file, 0, h.remaining());
        System.arraycopy(data, 0, file, header.bytes(), data.length);
        file[file.length - 100] ^= 0x08; // one flipped bit in the data
        Files.write(backup, file);

        Run refused = run(Duration.ofSeconds(60), bin("flotilla-server"), "--id", "1", "--port", String.valueOf(c.ports().get(1)),
                "--peers", c.peers(), "--data-dir", dataDir(c, 1).toString(), "--restore", backup.toString());
        assertThat(refused.exit()).as(refused.out()).isEqualTo(1);
        assertThat(refused.out().lines().filter(l -> l.startsWith("flotilla-server:")).toList()).as(refused.out())
                .containsExactly("flotilla-server: --restore refused: backup " + backup
                + " is damaged: its data's checksum is " + BackupFile.describeCrc(crc(file, header)) + ", its header says "
                + header.checksum());
        assertThat(dataDir(c, 1)).doesNotExist();

        Run verify = run(Duration.ofSeconds(60), bin("flotilla-client"), "snapshot", "verify", backup.toString());
        assertThat(verify.exit()).isEqualTo(4);
        assertThat(verify.out()).contains("is damaged: its data's checksum");
    }

    private static int crc(byte[] file, BackupFile.Header header) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(file, header.bytes(), (int) header.dataLength());
        return (int) crc.getValue();
    }
}
