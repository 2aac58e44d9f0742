package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.NodeConnection;
import io.flotilla.client.Poll;
import io.flotilla.client.wire.Request;
import io.flotilla.core.Bytes;
import io.flotilla.core.protocol.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node whose storage fails stops for good and exits non-zero, instead of keeping its port open as a zombie leader. */
class FailStopTest {
    @TempDir
    Path data;

    @Test
    void aStorageFailureOnTheNodeThreadExitsWithinASecondAndStopsServing() throws Exception {
        try (TestCluster cluster = new TestCluster(data, 1)) {
            CompletableFuture<Integer> exited = new CompletableFuture<>();
            FlotillaServer node = FlotillaServer.start(cluster.config(1), exited::complete);
            cluster.nodes.put(1, node);
            assertThat(cluster.awaitLeader()).isEqualTo(1);
            NodeConnection client = cluster.connect(1);
            cluster.set(client, "k", "v");

            long started = System.nanoTime();
            node.storage().close(); // the next write on the node's thread throws, as after a failed fsync
            client.send(new Request.Set(cluster.nextSession(), Bytes.utf8("k"), Bytes.utf8("w")), Duration.ofSeconds(5));

            assertThat(exited.get(5, TimeUnit.SECONDS)).isEqualTo(FlotillaServer.EXIT_NODE_FAILED);
            assertThat(System.nanoTime() - started).isLessThan(TimeUnit.SECONDS.toNanos(1));
            assertThat(node.raft().failure()).isDone();
            assertThat(node.raft().status().role()).isNotEqualTo(Role.LEADER);
            Poll.until("the port closed", () -> {
                try {
                    cluster.connect(1).close();
                    return false;
                } catch (Exception refused) {
                    return true;
                }
            });
            assertThatThrownBy(() -> cluster.connect(1)).isInstanceOf(Exception.class);
        }
    }
}
