package io.flotilla.server.resp;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.client.wire.NodeStatus;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.core.Bytes;
import io.flotilla.server.net.ConnectionLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.FixedRedisMessagePool;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A Redis connection's pipeline in an EmbeddedChannel, with a request handler the test completes by hand. */
class RespConnectionTest {
    /** Requests as the node's handler received them, with the answers the test gives them. */
    private final List<Request> requests = new ArrayList<>();
    private final List<CompletableFuture<Response>> answers = new ArrayList<>();
    private final NodeStatus status = new NodeStatus(1, "LEADER", 3, 1, 10, 10, 10, new TreeMap<>(), false);

    private EmbeddedChannel channel(ConnectionLimits limits, int maxCommandBytes) {
        RespNode node = new RespNode((request, forwarded) -> {
            CompletableFuture<Response> answer = new CompletableFuture<>();
            requests.add(request);
            answers.add(answer);
            return answer;
        }, () -> status, id -> Optional.empty(), 2000, false, Duration.ofSeconds(5));
        RespEncoder encoder = new RespEncoder();
        RespPort.Events events = new RespPort(node, limits, maxCommandBytes, null).new Events();
        return new EmbeddedChannel(encoder, new RedisDecoder(64 << 10, FixedRedisMessagePool.INSTANCE, true),
                new RespCommandBounds(maxCommandBytes), new RedisBulkStringAggregator(), new RedisArrayAggregator(1024, 1),
                new RespConnection(new RespCommands(node), node, encoder, limits, events));
    }

    private EmbeddedChannel channel() {
        return channel(ConnectionLimits.DEFAULTS, 1 << 20);
    }

    private static void send(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.UTF_8));
        ch.runPendingTasks();
    }

    /** Everything the connection wrote so far, as text. */
    private static String written(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            out.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return out.toString();
    }

    private static String command(String... args) {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return b.toString();
    }

    @Test
    void pipelinedAnswersComeInTheOrderOfTheCommandsWhateverOrderTheyCompleteIn() {
        EmbeddedChannel ch = channel();
        send(ch, command("GET", "a") + command("GET", "b") + command("PING") + command("GET", "c"));
        assertThat(requests).hasSize(3);
        answers.get(2).complete(new Response.Value(Bytes.utf8("C")));
        answers.get(1).complete(Response.NOT_FOUND);
        assertThat(written(ch)).as("the first answer is not ready, so none is written").isEmpty();
        answers.get(0).complete(new Response.Value(Bytes.utf8("A")));
        assertThat(written(ch)).isEqualTo("$1\r\nA\r\n$-1\r\n+PONG\r\n$1\r\nC\r\n");
    }

    @Test
    void helloThreeAnswersInResp3FromItsOwnReplyOnButNotBeforeIt() {
        EmbeddedChannel ch = channel();
        send(ch, command("GET", "a") + command("HELLO", "3") + command("GET", "b"));
        answers.get(1).complete(Response.NOT_FOUND);
        answers.get(0).complete(Response.NOT_FOUND);
        String out = written(ch);
        assertThat(out).startsWith("$-1\r\n%7\r\n$6\r\nserver\r\n$8\r\nflotilla\r\n").endsWith("_\r\n")
                .contains("$5\r\nproto\r\n:3\r\n", "$4\r\nrole\r\n$6\r\nmaster\r\n");
    }

    @Test
    void anUnsupportedProtocolVersionIsRefusedAndTheConnectionStaysInResp2() {
        EmbeddedChannel ch = channel();
        send(ch, command("HELLO", "4") + command("GET", "a"));
        answers.get(0).complete(Response.NOT_FOUND);
        assertThat(written(ch)).isEqualTo("-NOPROTO unsupported protocol version\r\n$-1\r\n");
    }

    @Test
    void unknownCommandsAndWrongAritiesAreErrorsThatLeaveTheConnectionOpen() {
        EmbeddedChannel ch = channel();
        send(ch, command("FLUSHALL", "ASYNC") + command("GET") + "PING\r\n");
        assertThat(written(ch)).isEqualTo("-ERR unknown command 'FLUSHALL', with args beginning with: 'ASYNC'\r\n"
                + "-ERR wrong number of arguments for 'get' command\r\n+PONG\r\n");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void writesCarryTheConnectionsSessionWithSequenceNumbersInOrder() {
        EmbeddedChannel ch = channel();
        send(ch, command("SET", "k", "1") + command("SET", "k", "2") + command("DEL", "k"));
        assertThat(requests).hasSize(3);
        long client = ((Request.Set) requests.get(0)).session().clientId();
        assertThat(requests).extracting(r -> ((Object) r) instanceof Request.Set s ? s.session().seq() : ((Request.Delete) r).session().seq())
                .containsExactly(1L, 2L, 3L);
        assertThat(((Request.Delete) requests.get(2)).session().clientId()).isEqualTo(client);
        // As a duplicate is answered from the session: an outcome equal to OK, not the constant itself.
        answers.forEach(a -> a.complete(new Response.Outcome(Response.Code.OK)));
        assertThat(written(ch)).isEqualTo("+OK\r\n+OK\r\n:1\r\n");
    }

    @Test
    void aReadAfterAWriteStartsOnceTheWriteIsAnsweredAndAWriteAfterAReadLikewise() {
        EmbeddedChannel ch = channel();
        send(ch, command("SET", "k", "1") + command("SET", "j", "1") + command("GET", "k") + command("MGET", "k", "j")
                + command("DEL", "k"));
        assertThat(requests).as("the two writes run together; the reads wait").hasSize(2);
        answers.get(0).complete(Response.OK);
        ch.runPendingTasks();
        assertThat(requests).hasSize(2);
        answers.get(1).complete(Response.OK);
        ch.runPendingTasks();
        assertThat(requests).as("then the reads of GET and MGET (one read of both keys)").hasSize(4).last()
                .isEqualTo(new Request.GetMany(List.of(Bytes.utf8("k"), Bytes.utf8("j")), false));
        answers.get(2).complete(Response.NOT_FOUND);
        answers.get(3).complete(new Response.Values(List.of(Optional.empty(), Optional.empty())));
        ch.runPendingTasks();
        assertThat(requests).as("then the delete").hasSize(5).last().isInstanceOf(Request.Delete.class);
        answers.get(4).complete(Response.NOT_FOUND);
        assertThat(written(ch)).isEqualTo("+OK\r\n+OK\r\n$-1\r\n*2\r\n$-1\r\n$-1\r\n:0\r\n");
    }

    @Test
    void msetIsOneWriteAndDelOfManyKeysIsOneWriteThatCounts() {
        EmbeddedChannel ch = channel();
        send(ch, command("MSET", "a", "1", "b", "2", "a", "3") + command("DEL", "a", "b", "c") + command("DEL", "x", "y")
                + command("MSET", "a"));
        assertThat(requests).hasSize(3);
        assertThat(requests.get(0)).isInstanceOfSatisfying(Request.SetMany.class, m -> assertThat(m.entries()).containsExactly(
                new Request.KeyValue(Bytes.utf8("a"), Bytes.utf8("1")), new Request.KeyValue(Bytes.utf8("b"), Bytes.utf8("2")),
                new Request.KeyValue(Bytes.utf8("a"), Bytes.utf8("3"))));
        assertThat(requests.get(1)).isInstanceOfSatisfying(Request.DeleteMany.class, d -> assertThat(d.keys()).hasSize(3));
        answers.get(0).complete(Response.OK);
        answers.get(1).complete(new Response.Count(2));
        answers.get(2).complete(Response.OK); // a retry answered from the session: the count is gone
        assertThat(written(ch)).isEqualTo("+OK\r\n:2\r\n-ERR the keys were deleted by an earlier attempt of this command, whose "
                + "answer was lost in a leader change; how many existed is not known\r\n-ERR wrong number of arguments for 'mset' command\r\n");
    }

    @Test
    void setNxIsACompareAndSetAgainstAbsence() {
        EmbeddedChannel ch = channel();
        send(ch, command("SET", "k", "v", "NX") + command("SETNX", "k", "w"));
        assertThat(requests).allSatisfy(r -> assertThat(r).isInstanceOfSatisfying(Request.Cas.class,
                cas -> assertThat(cas.expected()).isEmpty()));
        answers.get(0).complete(Response.OK);
        answers.get(1).complete(Response.CAS_MISMATCH);
        assertThat(written(ch)).isEqualTo("+OK\r\n:0\r\n");
    }

    @Test
    void expiryOptionsAreRefusedWithoutWriting() {
        EmbeddedChannel ch = channel();
        send(ch, command("SET", "k", "v", "EX", "10"));
        assertThat(requests).isEmpty();
        assertThat(written(ch)).startsWith("-ERR expiry (EX) is not supported");
    }

    @Test
    void readingStopsWhileMaxInFlightCommandsWaitAndResumesAtHalf() {
        EmbeddedChannel ch = channel(new ConnectionLimits(10, 10, Duration.ofMinutes(1), 4, 1 << 20), 1 << 20);
        send(ch, command("GET", "a").repeat(4));
        assertThat(ch.config().isAutoRead()).isFalse();
        answers.get(0).complete(Response.NOT_FOUND);
        ch.runPendingTasks();
        assertThat(ch.config().isAutoRead()).as("3 in flight, over half of 4").isFalse();
        answers.get(1).complete(Response.NOT_FOUND);
        ch.runPendingTasks();
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void aCommandOverTheByteBoundIsAProtocolErrorThatClosesTheConnection() {
        EmbeddedChannel ch = channel(ConnectionLimits.DEFAULTS, 100);
        send(ch, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\nxx");
        assertThat(written(ch)).startsWith("-ERR Protocol error: invalid bulk length");
        assertThat(ch.isActive()).isFalse();
        assertThat(requests).isEmpty();
    }

    @Test
    void somethingOtherThanACommandIsAProtocolError() {
        EmbeddedChannel ch = channel();
        send(ch, ":12\r\n");
        assertThat(written(ch)).startsWith("-ERR Protocol error: expected a command");
        assertThat(ch.isActive()).isFalse();
    }

    @Test
    void quitAnswersOkAfterEarlierCommandsAndCloses() {
        EmbeddedChannel ch = channel();
        send(ch, command("GET", "a") + command("QUIT") + command("GET", "b"));
        assertThat(requests).as("nothing after QUIT is read").hasSize(1);
        answers.get(0).complete(new Response.Value(Bytes.utf8("x")));
        assertThat(written(ch)).isEqualTo("$1\r\nx\r\n+OK\r\n");
        assertThat(ch.isActive()).isFalse();
    }

    @Test
    void aFailureThatIsCertainlyNotAppliedIsTryAgainAndTheRestAreErr() {
        assertThat(RespCommands.failure(new Response.Failure(Response.Code.NO_LEADER, "no leader")))
                .isEqualTo(new RespReply.Error("TRYAGAIN", "no leader"));
        assertThat(RespCommands.failure(new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "may or may not")))
                .isEqualTo(new RespReply.Error("ERR", "may or may not"));
        assertThat(RespCommands.failure(new Response.Failure(Response.Code.INVALID, "too big")))
                .isEqualTo(new RespReply.Error("ERR", "too big"));
    }

    @Test
    void slotsAreRedisClustersIncludingHashTags() {
        // Values from the Redis Cluster specification's CRC16 test vector and redis-cli's CLUSTER KEYSLOT.
        assertThat(RespNode.slot(Bytes.utf8("123456789"))).isEqualTo(0x31C3 % 16384);
        assertThat(RespNode.slot(Bytes.utf8("foo"))).isEqualTo(12182);
        assertThat(RespNode.slot(Bytes.utf8("{user1000}.following"))).isEqualTo(RespNode.slot(Bytes.utf8("user1000")));
    }
}
