package io.flotilla.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.ClientOptions;
import io.flotilla.client.FlotillaClient;
import io.flotilla.client.FlotillaException;
import io.flotilla.client.Poll;
import io.flotilla.client.RequestRejectedException;
import io.flotilla.core.Bytes;
import io.flotilla.server.TestCluster;
import io.flotilla.server.TestPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FlotillaClient against real nodes (they live here, in flotilla-server's tests, because
 * flotilla-server depends on flotilla-client: the client's own tests cannot start a server).
 */
class ClientAgainstClusterTest {
    @TempDir
    Path data;
    private TestCluster cluster;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        cluster = new TestCluster(data, 3).startAll();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        cluster.close();
    }

    private FlotillaClient client(List<InetSocketAddress> nodes) {
        FlotillaClient c = FlotillaClient.create(ClientOptions.of(cluster.clusterAddresses()).withCluster(nodes)
                .withDeadline(Duration.ofSeconds(20)).withAttemptTimeout(Duration.ofSeconds(5)));
        closeables.add(c);
        return c;
    }

    @Test
    void findsTheLeaderFromEveryStartingNode() {
        int leader = cluster.awaitLeader();
        List<InetSocketAddress> all = new ArrayList<>(cluster.addresses.values());
        for (int first = 0; first < all.size(); first++) {
            List<InetSocketAddress> rotated = new ArrayList<>(all.subList(first, all.size()));
            rotated.addAll(all.subList(0, first));
            FlotillaClient client = client(rotated);
            client.set("from-" + first, "v" + first);
            assertThat(client.get("from-" + first)).contains("v" + first);
            assertThat(client.leader()).as("the leader, from a list starting at %s", rotated.get(0)).contains(cluster.addresses.get(leader));
        }
    }

    /**
     * A request that met an election may have been relayed by a follower (which waits for the new
     * leader); the client then checks its route as it goes, so within a few requests it talks to the
     * leader directly.
     */
    private void assertRoutesToTheLeader(FlotillaClient client) {
        InetSocketAddress leader = cluster.addresses.get(cluster.awaitLeader());
        for (int i = 0; i < 200 && !client.leader().equals(Optional.of(leader)); i++) {
            client.get("any");
        }
        assertThat(client.leader()).as("the client's leader after up to 200 requests").contains(leader);
    }

    @Test
    void findsTheLeaderPastADeadNodeInTheList() {
        List<InetSocketAddress> nodes = new ArrayList<>();
        nodes.add(InetSocketAddress.createUnresolved("127.0.0.1", TestPorts.next()));
        nodes.addAll(cluster.addresses.values());
        FlotillaClient client = client(nodes);
        client.set("a", "1");
        assertThat(client.get("a")).contains("1");
        assertRoutesToTheLeader(client);
    }

    @Test
    void followsTheLeaderWhenItStops() {
        FlotillaClient client = client(List.copyOf(cluster.addresses.values()));
        client.set("before", "1");
        assertRoutesToTheLeader(client);
        int oldLeader = cluster.awaitLeader();

        cluster.stop(oldLeader);
        client.set("after", "2"); // retried through the election
        int newLeader = cluster.awaitLeader();
        assertThat(newLeader).isNotEqualTo(oldLeader);
        assertThat(client.get("before")).contains("1");
        assertThat(client.get("after")).contains("2");
        assertRoutesToTheLeader(client);
    }

    @ParameterizedTest(name = "proxy closes after the loss: {0}")
    @ValueSource(booleans = {true, false})
    void aWriteWhoseAnswerWasLostIsRetriedAndAppliedOnce(boolean closeAfterLoss) throws Exception {
        int leader = cluster.awaitLeader();
        LossyProxy proxy = new LossyProxy(cluster.addresses.get(leader), closeAfterLoss);
        closeables.add(proxy);
        // The client knows the leader only through the proxy; the followers are the other path.
        List<InetSocketAddress> nodes = new ArrayList<>(ClientOptions.parseCluster(proxy.address()));
        cluster.addresses.values().stream().filter(a -> !a.equals(cluster.addresses.get(leader))).forEach(nodes::add);
        FlotillaClient client = client(nodes);
        // Discovery may settle for a follower that answered first; reads move the client to the proxy.
        InetSocketAddress viaProxy = nodes.get(0);
        // Bounded by time, not by a count of reads, which ends sooner the faster the nodes answer (CI once ran out of 200).
        Poll.within(Duration.ofSeconds(10), () -> {
            client.get("any");
            return client.leader().equals(Optional.of(viaProxy));
        });
        assertThat(client.leader()).as("the client's route after reading for up to 10 s").contains(viaProxy);

        // CAS from "absent": had the cluster applied it twice, the second would have found the key and failed.
        assertThat(client.cas("once", null, "v1")).isTrue();
        assertThat(proxy.answersLost.get()).as("the proxy swallowed an answer").isEqualTo(1);
        assertThat(client.get("once")).contains("v1");

        // A counter-like check as well: each increment is a CAS from the value read, so a double application shows.
        for (int i = 0; i < 5; i++) {
            String current = client.get("counter").orElse(null);
            String next = String.valueOf(current == null ? 1 : Integer.parseInt(current) + 1);
            assertThat(client.cas("counter", current, next)).isTrue();
        }
        assertThat(client.get("counter")).contains("5");
    }

    @Test
    void manyRequestsInFlightAreAllApplied() {
        FlotillaClient client = client(List.copyOf(cluster.addresses.values()));
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            writes.add(client.setAsync(Bytes.utf8("k" + i), Bytes.utf8("v" + i)));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        for (int i = 0; i < 1000; i += 111) {
            assertThat(client.get("k" + i)).contains("v" + i);
        }
        assertThat(client.get(Bytes.utf8("missing"))).isEqualTo(Optional.empty());
    }

    @Test
    void anOversizedValueIsRefusedBeforeSendingAndNotCalledMaybeApplied() {
        FlotillaClient client = client(List.copyOf(cluster.addresses.values()));
        client.set("warm", "up"); // connected: the client has the nodes' limits
        Bytes fiveMegabytes = Bytes.wrap(new byte[5 << 20]);
        assertThatThrownBy(() -> client.set(Bytes.utf8("big"), fiveMegabytes))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessage("set \"big\" was refused before sending: the value is 5242880 bytes;"
                        + " this cluster accepts at most 1048576 (--max-value-bytes)")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse());
        assertThat(client.get("big")).isEmpty();
    }
}
