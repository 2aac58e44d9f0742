package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClientOptionsTest {
    @Test
    void parsesANodeList() {
        assertThat(ClientOptions.parseCluster(" a.example:5001, 10.0.0.2:6000 ,:7000,8000,[::1]:9000"))
                .containsExactly(InetSocketAddress.createUnresolved("a.example", 5001),
                        InetSocketAddress.createUnresolved("10.0.0.2", 6000),
                        InetSocketAddress.createUnresolved("127.0.0.1", 7000),
                        InetSocketAddress.createUnresolved("127.0.0.1", 8000),
                        InetSocketAddress.createUnresolved("::1", 9000));
        assertThat(HostPort.format(InetSocketAddress.createUnresolved("::1", 9000))).isEqualTo("[::1]:9000");
    }

    @Test
    void refusesBadListsWithTheEntryNamed() {
        assertThatThrownBy(() -> ClientOptions.parseCluster("a:1,b:x")).hasMessageContaining("'b:x' is not host:port");
        assertThatThrownBy(() -> ClientOptions.parseCluster("a:70000")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> ClientOptions.parseCluster(" , ")).hasMessageContaining("no node addresses");
    }

    @Test
    void defaultsToTheLocalClusterAndValidates() {
        ClientOptions d = ClientOptions.of(ClientOptions.LOCAL_CLUSTER);
        assertThat(d.cluster()).hasSize(3);
        assertThat(d.withCluster(java.util.List.of(d.cluster().get(0), d.cluster().get(0))).cluster()).hasSize(1);
        assertThatThrownBy(() -> d.withDeadline(Duration.ZERO)).hasMessageContaining("deadline must be positive");
        assertThatThrownBy(() -> d.withCluster(java.util.List.of())).hasMessageContaining("empty");
        assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO)).hasMessageContaining("maxAttempts");
    }

    @Test
    void backoffGrowsAndIsCapped() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(10), Duration.ofMillis(100));
        assertThat(p.backoff(0)).isZero();
        assertThat(p.backoff(1)).isBetween(Duration.ofMillis(5), Duration.ofMillis(10));
        assertThat(p.backoff(3)).isBetween(Duration.ofMillis(20), Duration.ofMillis(40));
        assertThat(p.backoff(30)).isBetween(Duration.ofMillis(50), Duration.ofMillis(100));
    }
}
