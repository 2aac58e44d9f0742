package io.flotilla.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.Poll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisMovedDataException;
import redis.clients.jedis.params.SetParams;

/** The Redis port of real nodes, spoken to by a real Redis client library (Jedis), over RESP2 and RESP3. */
class RedisClientTest {
    /** Flotilla's compare-and-set, which Jedis does not know by name. */
    private static final ProtocolCommand CAS = () -> "CAS".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private static Jedis jedis(TestCluster cluster, int id, RedisProtocol protocol) {
        return new Jedis(new HostAndPort("127.0.0.1", cluster.respPort(id)),
                DefaultJedisClientConfig.builder().protocol(protocol).socketTimeoutMillis(10_000).build());
    }

    @Test
    void everyCommandThroughAFollowerAndTheLeaderInBothProtocols() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3).withResp().startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader == 1 ? 2 : 1;
            for (RedisProtocol protocol : List.of(RedisProtocol.RESP2, RedisProtocol.RESP3)) {
                String p = protocol.name() + ":";
                try (Jedis f = jedis(cluster, follower, protocol); Jedis l = jedis(cluster, leader, protocol)) {
                    assertThat(f.ping()).isEqualTo("PONG");
                    assertThat(f.echo("hi")).isEqualTo("hi");
                    assertThat(f.set(p + "a", "1")).isEqualTo("OK");
                    assertThat(l.get(p + "a")).as("a write through a follower is read at the leader").isEqualTo("1");
                    assertThat(f.get(p + "missing")).isNull();

                    assertThat(f.set(p + "a", "2", SetParams.setParams().nx())).isNull();
                    assertThat(f.set(p + "b", "1", SetParams.setParams().xx())).isNull();
                    assertThat(f.exists(p + "b")).isFalse();
                    assertThat(f.set(p + "a", "3", SetParams.setParams().xx())).isEqualTo("OK");
                    assertThat(f.setGet(p + "a", "4")).isEqualTo("3");
                    assertThat(f.setGet(p + "new", "x")).isNull();
                    assertThat(f.setnx(p + "a", "5")).isZero();
                    assertThat(f.setnx(p + "c", "5")).isEqualTo(1);
                    assertThatThrownBy(() -> f.set(p + "a", "6", SetParams.setParams().ex(10)))
                            .isInstanceOf(JedisDataException.class).hasMessageContaining("expiry (EX) is not supported");

                    assertThat(f.sendCommand(CAS, p + "a", "4", "7")).isEqualTo(1L);
                    assertThat(f.sendCommand(CAS, p + "a", "4", "8")).isEqualTo(0L);
                    assertThat(f.get(p + "a")).isEqualTo("7");

                    assertThat(f.mset(p + "m1", "x", p + "m2", "y")).isEqualTo("OK");
                    assertThat(f.mget(p + "m1", p + "nope", p + "m2")).containsExactly("x", null, "y");
                    assertThat(f.exists(p + "m1", p + "m2", p + "m1", p + "nope")).isEqualTo(3);
                    assertThat(f.del(p + "m1", p + "m2", p + "nope")).isEqualTo(2);
                    assertThat(f.exists(p + "m1", p + "m2")).isZero();

                    assertThatThrownBy(() -> f.sendCommand(() -> "FLUSHALL".getBytes(StandardCharsets.US_ASCII)))
                            .isInstanceOf(JedisDataException.class).hasMessageStartingWith("ERR unknown command 'FLUSHALL'");
                    assertThatThrownBy(() -> f.sendCommand(CAS, "only-a-key"))
                            .isInstanceOf(JedisDataException.class).hasMessage("ERR wrong number of arguments for 'cas' command");
                    assertThat(f.ping()).as("errors leave the connection open").isEqualTo("PONG");

                    assertThat(f.clientSetname("worker-7")).isEqualTo("OK");
                    assertThat(f.clientGetname()).isEqualTo("worker-7");
                    assertThat(f.clientId()).isPositive();
                    assertThat(f.info("replication")).contains("role:slave", "flotilla_leader_id:" + leader);
                    assertThat(l.info("replication")).contains("role:master", "connected_slaves:2");
                    assertThat(l.dbSize()).isEqualTo(protocol == RedisProtocol.RESP2 ? 3 : 6);
                }
            }
        }
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrderAndAppliedOnce() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3).withResp().startAll()) {
            int follower = cluster.awaitLeader() == 1 ? 2 : 1;
            try (Jedis f = jedis(cluster, follower, RedisProtocol.RESP2)) {
                Pipeline pipeline = f.pipelined();
                List<Response<String>> reads = new ArrayList<>();
                for (int i = 0; i < 2_000; i++) {
                    pipeline.set("k" + (i % 50), Integer.toString(i));
                    reads.add(pipeline.get("k" + (i % 50)));
                }
                pipeline.sync();
                for (int i = 0; i < 2_000; i++) {
                    assertThat(reads.get(i).get()).as("read %d sees the write just before it on the same connection", i)
                            .isEqualTo(Integer.toString(i));
                }
            }
        }
    }

    @Test
    void withRedirectionAFollowerSendsTheClientToTheLeaderAndReadonlyReadsStayLocal() throws Exception {
        TestCluster configured = new TestCluster(dir, 3).withResp();
        configured.respRedirect = true;
        try (TestCluster cluster = configured.startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader == 1 ? 2 : 1;
            try (Jedis l = jedis(cluster, leader, RedisProtocol.RESP2); Jedis f = jedis(cluster, follower, RedisProtocol.RESP2)) {
                assertThat(l.set("foo", "bar")).isEqualTo("OK");
                assertThatThrownBy(() -> f.set("foo", "baz")).isInstanceOfSatisfying(JedisMovedDataException.class, moved -> {
                    assertThat(moved.getTargetNode()).isEqualTo(new HostAndPort("127.0.0.1", cluster.respPort(leader)));
                    assertThat(moved.getSlot()).isEqualTo(12182); // CLUSTER KEYSLOT foo
                });
                assertThatThrownBy(() -> f.get("foo")).isInstanceOf(JedisMovedDataException.class);
                assertThat(f.readonly()).isEqualTo("OK");
                Poll.until("the follower's local read sees the write once it is applied", () -> "bar".equals(f.get("foo")));
                assertThat(l.get("foo")).isEqualTo("bar");
            }
        }
    }

    @Test
    void writesThroughAFollowerSurviveTheLeadersDeathWithoutAnError() throws Exception {
        try (TestCluster cluster = new TestCluster(dir, 3).withResp().startAll()) {
            int leader = cluster.awaitLeader();
            int follower = leader == 1 ? 2 : 1;
            try (Jedis f = jedis(cluster, follower, RedisProtocol.RESP2)) {
                for (int i = 0; i < 200; i++) {
                    if (i == 50) {
                        cluster.halt(leader);
                    }
                    assertThat(f.set("w" + i, Integer.toString(i))).isEqualTo("OK");
                }
                assertThat(cluster.awaitLeader()).isNotEqualTo(leader);
                for (int i = 0; i < 200; i++) {
                    assertThat(f.get("w" + i)).isEqualTo(Integer.toString(i));
                }
            }
        }
    }
}
