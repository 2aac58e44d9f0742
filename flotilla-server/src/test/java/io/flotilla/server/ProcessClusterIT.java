package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.NodeConnection;
import io.flotilla.client.wire.Hello;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes as separate processes, started with bin/flotilla-server exactly as the README does,
 * with fsync on. The leader is killed with SIGKILL; no acknowledged write may be lost.
 */
class ProcessClusterIT {
    @TempDir
    Path data;
    private final Map<Integer, Process> processes = new TreeMap<>();
    private final Map<Integer, Integer> ports = new TreeMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final long clientId = System.nanoTime();
    private long seq;

    @AfterEach
    void stopAll() {
        processes.values().forEach(Process::destroyForcibly);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private String peers() {
        List<String> parts = new ArrayList<>();
        ports.forEach((id, port) -> parts.add(id + "=127.0.0.1:" + port));
        return String.join(",", parts);
    }

    private void start(int id) throws Exception {
        Path script = Path.of("..", "bin", "flotilla-server").toAbsolutePath().normalize();
        ProcessBuilder pb = new ProcessBuilder(script.toString(), "--id", String.valueOf(id), "--port",
                String.valueOf(ports.get(id)), "--peers", peers(), "--data-dir", data.resolve("node-" + id).toString(), "--http-port", "0")
                .redirectErrorStream(true)
                .redirectOutput(data.resolve("node-" + id + ".log").toFile());
        processes.put(id, pb.start());
    }

    private NodeConnection connect(int id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                return NodeConnection.open(group, new InetSocketAddress("127.0.0.1", ports.get(id)),
                        new Hello(1, ""), 4 << 20, 1024, Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("node " + id + " never accepted a connection; its log:\n" + log(id), e);
                }
                Thread.sleep(100);
            }
        }
    }

    private String log(int id) throws Exception {
        File f = data.resolve("node-" + id + ".log").toFile();
        return f.exists() ? Files.readString(f.toPath()) : "(none)";
    }

    /** Writes until acknowledged, retrying with the same session numbers through NO_LEADER and the like. */
    private Response write(NodeConnection c, String key, String value) throws Exception {
        Session session = new Session(clientId, ++seq, seq);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Response r;
        do {
            r = c.send(new Request.Set(session, Bytes.utf8(key), Bytes.utf8(value)), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            if (r.code() == Response.Code.UNKNOWN_OUTCOME) {
                session = session.asRetry(); // the earlier attempt may have been applied
            }
        } while (r.code().retryable() && System.nanoTime() < deadline && pause());
        return r;
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(50);
        return true;
    }

    private int leader(NodeConnection c) throws Exception {
        Response r = c.send(new Request.StatusQuery(), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
        return ((Response.Status) r).status().leaderId();
    }

    @Test
    void aKilledLeaderIsReplacedWithoutLosingAcknowledgedWritesAndRejoinsFromItsData() throws Exception {
        for (int id = 1; id <= 3; id++) {
            ports.put(id, TestPorts.next());
        }
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        NodeConnection c1 = connect(1);
        for (int i = 0; i < 100; i++) {
            assertThat(write(c1, "k" + i, "v" + i)).as("write %d", i).isEqualTo(Response.OK);
        }
        int leader = leader(c1);
        assertThat(leader).isBetween(1, 3);
        processes.remove(leader).destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL

        int survivor = leader % 3 + 1;
        NodeConnection c = connect(survivor);
        assertThat(write(c, "after", "kill")).isEqualTo(Response.OK);
        for (int i = 0; i < 100; i++) {
            assertThat(c.send(new Request.Get(Bytes.utf8("k" + i), false), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS))
                    .isEqualTo(new Response.Value(Bytes.utf8("v" + i)));
        }

        start(leader); // same data directory
        NodeConnection back = connect(leader);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Response stale;
        do {
            stale = back.send(new Request.Get(Bytes.utf8("after"), true), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
        } while (!stale.equals(new Response.Value(Bytes.utf8("kill"))) && System.nanoTime() < deadline && pause());
        assertThat(stale).as("the restarted node caught up").isEqualTo(new Response.Value(Bytes.utf8("kill")));
        assertThat(back.send(new Request.Get(Bytes.utf8("k42"), true), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS))
                .isEqualTo(new Response.Value(Bytes.utf8("v42")));
    }

    @Test
    void sigtermOnTheLeaderHandsLeadershipOverCleanly() throws Exception {
        for (int id = 1; id <= 3; id++) {
            ports.put(id, TestPorts.next());
        }
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        NodeConnection c1 = connect(1);
        assertThat(write(c1, "k", "v")).isEqualTo(Response.OK);
        int leader = leader(c1);
        Process p = processes.remove(leader);
        p.destroy(); // SIGTERM
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("the node exits after SIGTERM").isTrue();
        assertThat(log(leader)).contains("shutting down");
        int survivor = leader % 3 + 1;
        NodeConnection c = connect(survivor);
        assertThat(write(c, "k2", "v2")).isEqualTo(Response.OK);
        int next = leader(c);
        assertThat(next).isNotEqualTo(leader).isNotZero();
        // The handover shows in the new leader's log as an election it started at once.
        assertThat(log(next)).contains("is leader in term");
    }
    @Test
    void aFollowerWhoseDataDirectoryIsGoneRefusesToRejoinAndExits() throws Exception {
        for (int id = 1; id <= 3; id++) {
            ports.put(id, TestPorts.next());
        }
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        NodeConnection c1 = connect(1);
        for (int i = 0; i < 20; i++) {
            assertThat(write(c1, "k" + i, "v" + i)).isEqualTo(Response.OK);
        }
        int follower = leader(c1) % 3 + 1;
        processes.remove(follower).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        deleteRecursively(data.resolve("node-" + follower));

        start(follower);
        Process p = processes.get(follower);

        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("the node without its data exits; its log:\n%s", log(follower)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(log(follower)).contains("has no data, but the cluster already exists")
                .contains("remove member " + follower + " and add a new member");
        NodeConnection c = connect(follower % 3 + 1);
        assertThat(write(c, "still", "serving")).isEqualTo(Response.OK);
    }

    private static void deleteRecursively(Path dir) throws Exception {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        assertThat(dir).doesNotExist();
    }
}
