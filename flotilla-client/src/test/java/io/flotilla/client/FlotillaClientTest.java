package io.flotilla.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.FakeCluster.Answer;
import io.flotilla.client.wire.Membership;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FlotillaClientTest {
    private final FakeCluster cluster = new FakeCluster(3);
    private final List<FlotillaClient> clients = new ArrayList<>();

    @AfterEach
    void tearDown() {
        clients.forEach(FlotillaClient::close);
        cluster.close();
    }

    private FlotillaClient client(ClientOptions options) {
        FlotillaClient c = FlotillaClient.create(options);
        clients.add(c);
        return c;
    }

    private ClientOptions options() {
        return ClientOptions.of(cluster.addresses()).withDeadline(Duration.ofSeconds(20)).withAttemptTimeout(Duration.ofSeconds(10));
    }

    private static List<Session> sessionsOf(List<Request> requests) {
        return requests.stream().filter(Request.Write.class::isInstance).map(r -> ((Request.Write) r).session()).toList();
    }

    @Test
    void setGetDeleteAndCasWorkWithStringsAndBytes() {
        FlotillaClient client = client(options());
        client.set("colour", "blue");
        assertThat(client.get("colour")).contains("blue");
        assertThat(client.get("colour", ReadConsistency.STALE)).contains("blue");
        assertThat(client.cas("colour", "red", "green")).isFalse();
        assertThat(client.cas("colour", "blue", "green")).isTrue();
        assertThat(client.cas("shape", null, "round")).isTrue();
        assertThat(client.cas("shape", null, "square")).isFalse();
        assertThat(client.delete("colour")).isTrue();
        assertThat(client.delete("colour")).isFalse();
        assertThat(client.get("colour")).isEmpty();

        Bytes key = Bytes.wrap(new byte[] {0, 1, 2});
        client.set(key, Bytes.wrap(new byte[] {(byte) 0xff}));
        assertThat(client.get(key)).contains(Bytes.wrap(new byte[] {(byte) 0xff}));
        assertThat(client.cas(key, Optional.of(Bytes.wrap(new byte[] {(byte) 0xff})), Bytes.EMPTY)).isTrue();
        assertThat(client.get(key)).contains(Bytes.EMPTY);
    }

    @Test
    void membershipRequestsAreNotSentToANodeOfAnOlderProtocol() {
        FlotillaClient client = client(options()); // the fake nodes answer a version 3 hello in version 2
        assertThatThrownBy(client::members).isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining("speaks protocol version 2, which has no membership requests")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse());
        assertThat(cluster.node(1).dataRequests()).isEmpty();
    }

    @Test
    void aRetriedChangeThatWasRefusedCountsAsDoneIfTheMembershipShowsIt() {
        Membership m = new Membership(1, List.of(new Membership.MemberInfo(1, "h:1", Member.Kind.VOTER, 5, 0),
                new Membership.MemberInfo(4, "h:4", Member.Kind.JOINING, 0, 5)), List.of(3));
        assertThat(FlotillaClient.isMade(new MembershipChange.AddLearner(4, "h:4", true), m)).isTrue();
        assertThat(FlotillaClient.isMade(new MembershipChange.AddLearner(4, "h:5", true), m)).as("another address").isFalse();
        assertThat(FlotillaClient.isMade(new MembershipChange.Promote(4), m)).isFalse();
        assertThat(FlotillaClient.isMade(new MembershipChange.Promote(1), m)).isTrue();
        assertThat(FlotillaClient.isMade(new MembershipChange.Remove(3), m)).isTrue();
        assertThat(FlotillaClient.isMade(new MembershipChange.Remove(4), m)).isFalse();
    }

    @Test
    void findsTheLeaderWhicheverNodeIsListedFirst() {
        cluster.setLeader(2);
        List<InetSocketAddress> all = cluster.addressList();
        for (int first = 0; first < all.size(); first++) {
            List<InetSocketAddress> rotated = new ArrayList<>(all.subList(first, all.size()));
            rotated.addAll(all.subList(0, first));
            FlotillaClient client = client(options().withCluster(rotated));
            client.set("k" + first, "v");
            assertThat(client.leader()).as("leader seen from a list starting at node %d", first + 1)
                    .contains(cluster.node(2).address());
        }
        // Every write went to the leader itself, none through a follower.
        assertThat(cluster.node(2).dataRequests()).hasSize(3);
        assertThat(cluster.node(1).dataRequests()).isEmpty();
        assertThat(cluster.node(3).dataRequests()).isEmpty();
    }

    @Test
    void findsTheLeaderPastADeadNodeInTheList() throws Exception {
        List<InetSocketAddress> withDead = new ArrayList<>();
        withDead.add(InetSocketAddress.createUnresolved("127.0.0.1", FakeCluster.deadPort()));
        withDead.addAll(cluster.addressList());
        cluster.setLeader(3);
        FlotillaClient client = client(options().withCluster(withDead));
        client.set("a", "1");
        assertThat(client.get("a")).contains("1");
        assertThat(client.leader()).contains(cluster.node(3).address());
    }

    @Test
    void goesThroughAFollowerWhenTheLeaderIsNotInTheList() {
        // Only followers listed: they relay to the leader, whose address the client never learns.
        FlotillaClient client = client(options().withCluster(List.of(cluster.node(2).address(), cluster.node(3).address()))
                .withLeaderCheckInterval(Duration.ofMillis(1)));
        for (int i = 0; i < 20; i++) {
            client.set("k" + i, "v");
        }
        assertThat(client.leader()).isEmpty();
        assertThat(cluster.node(2).dataRequests()).hasSize(20); // no write failed over or was retried
        assertThat(cluster.totalApplied()).isEqualTo(20);
    }

    @Test
    void followsARedirectWhenTheLeaderMoves() {
        cluster.followersForward = false;
        FlotillaClient client = client(options());
        client.set("a", "1");
        assertThat(client.leader()).contains(cluster.node(1).address());

        cluster.setLeader(3); // node 1 now answers NOT_LEADER, naming node 3
        client.set("a", "2");
        assertThat(client.leader()).contains(cluster.node(3).address());
        assertThat(cluster.value("a")).contains(Bytes.utf8("2"));
        assertThat(cluster.node(1).dataRequests()).hasSize(2); // the second one was redirected
    }

    @Test
    void noticesALeaderThatSteppedDownQuietly() {
        // Followers forward, so requests to the old leader keep working; the periodic check moves the client.
        FlotillaClient client = client(options().withLeaderCheckInterval(Duration.ofMillis(20)));
        client.set("a", "1");
        cluster.setLeader(2);
        Poll.until(Duration.ofSeconds(5), "client moves to node 2", () -> {
            client.set("a", "x");
            return client.leader().equals(Optional.of(cluster.node(2).address()));
        });
    }

    @Test
    void waitsOutAnElection() {
        cluster.setLeader(0);
        FlotillaClient client = client(options());
        CompletableFuture<Void> write = client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"));
        Poll.until(Duration.ofSeconds(5), "NO_LEADER answered at least twice",
                () -> cluster.nodes.stream().mapToInt(n -> n.dataRequests().size()).sum() >= 2);
        cluster.setLeader(2);
        write.join();
        assertThat(cluster.value("a")).contains(Bytes.utf8("1"));
        // Every attempt carried the same session numbers, and the write was applied once.
        List<Session> sessions = cluster.nodes.stream().flatMap(n -> sessionsOf(n.dataRequests()).stream()).distinct().toList();
        assertThat(sessions).hasSize(1);
        assertThat(cluster.timesApplied(sessions.get(0).clientId(), sessions.get(0).seq())).isEqualTo(1);
    }

    @Test
    void pollsThroughAnElectionLongerThanItsRetryBudget() {
        cluster.setLeader(0);
        FlotillaClient client = client(options().withRetry(new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(50))));
        CompletableFuture<Void> write = client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"));
        // NO_LEADER is certainly not applied: polling through it does not use up the 3 attempts.
        Poll.until(Duration.ofSeconds(5), "NO_LEADER answered 10 times",
                () -> cluster.nodes.stream().mapToInt(n -> n.dataRequests().size()).sum() >= 10);
        assertThat(write).isNotDone();
        cluster.setLeader(2);
        write.join();
        assertThat(cluster.value("a")).contains(Bytes.utf8("1"));
    }

    @Test
    void aWriteWhoseAnswerWasLostIsRetriedWithTheSameNumbersAndAppliedOnce() {
        AtomicInteger lost = new AtomicInteger();
        cluster.node(1).interceptor = r -> r instanceof Request.Write && lost.getAndIncrement() == 0 ? Answer.APPLY_THEN_CLOSE : null;
        FlotillaClient client = client(options());

        // CAS from absent: a second application would find the key present and answer CAS_MISMATCH.
        assertThat(client.cas("once", null, "v1")).isTrue();

        List<Session> sent = sessionsOf(cluster.node(1).dataRequests());
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0).retry()).isFalse();
        assertThat(sent.get(1)).as("same numbers, flagged as a retry").isEqualTo(sent.get(0).asRetry());
        assertThat(cluster.timesApplied(sent.get(0).clientId(), sent.get(0).seq())).isEqualTo(1);
        assertThat(cluster.value("once")).contains(Bytes.utf8("v1"));
    }

    @Test
    void anUnknownOutcomeIsRetriedWithTheSameNumbers() {
        AtomicInteger calls = new AtomicInteger();
        cluster.node(1).interceptor = r -> r instanceof Request.Write && calls.getAndIncrement() == 0
                ? Answer.respond(new Response.Failure(Response.Code.UNKNOWN_OUTCOME, "gave up waiting")) : null;
        FlotillaClient client = client(options());
        client.set("a", "1");
        List<Session> sent = sessionsOf(cluster.node(1).dataRequests());
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1)).isEqualTo(sent.get(0).asRetry());
    }

    @Test
    void givesUpAtTheDeadlineAndSaysTheWriteMayHaveBeenApplied() {
        cluster.nodes.forEach(n -> n.interceptor = r -> r instanceof Request.Write ? Answer.DROP : null);
        FlotillaClient client = client(options().withDeadline(Duration.ofMillis(600)).withAttemptTimeout(Duration.ofMillis(200)));
        long start = System.nanoTime();
        assertThatThrownBy(() -> client.set("a", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("set \"a\" failed")
                .hasMessageContaining("deadline of 600 ms")
                .hasMessageContaining("no answer within")
                .hasMessageContaining("MAY HAVE BEEN APPLIED")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isTrue());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }

    @Test
    void anUnreachableClusterFailsSayingWhatWasTriedAndThatNothingWasApplied() throws Exception {
        String dead = "127.0.0.1:" + FakeCluster.deadPort() + ",127.0.0.1:" + FakeCluster.deadPort();
        FlotillaClient client = client(ClientOptions.of(dead).withDeadline(Duration.ofSeconds(1)));
        assertThatThrownBy(() -> client.set("a", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining(dead.split(",")[0] + " (connection refused)")
                .hasMessageContaining(dead.split(",")[1] + " (connection refused)")
                .hasMessageContaining("The write was not applied")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse());
        assertThatThrownBy(() -> client.get("a"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageNotContaining("applied");
    }

    @Test
    void theRetryBudgetBoundsTheAttempts() {
        cluster.nodes.forEach(n -> n.interceptor = r -> r instanceof Request.StatusQuery ? null
                : FakeCluster.Answer.respond(new Response.Failure(Response.Code.UNAVAILABLE, "overloaded")));
        FlotillaClient client = client(options().withRetry(new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5)))
                .withDeadline(Duration.ofSeconds(30)));
        assertThatThrownBy(() -> client.get("a"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("retry budget of 3 attempts")
                .hasMessageContaining("overloaded");
        assertThat(cluster.nodes.stream().mapToInt(n -> n.dataRequests().size()).sum()).isEqualTo(3);
    }

    @Test
    void anInvalidRequestIsNotRetried() {
        FlotillaClient client = client(options());
        assertThatThrownBy(() -> client.set("", "x"))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining("the key is empty")
                .satisfies(e -> assertThat(((RequestRejectedException) e).code()).isEqualTo(Response.Code.INVALID));
        assertThat(cluster.node(1).dataRequests()).hasSize(1);
        // The refused write never created the session, so the next write must not claim acknowledgements.
        client.set("a", "1");
        assertThat(cluster.value("a")).contains(Bytes.utf8("1"));
    }

    @Test
    void anExpiredSessionIsReplacedWhenNoAttemptCouldHaveBeenApplied() {
        FlotillaClient client = client(options());
        client.set("a", "1");
        long firstId = client.session().clientId();
        AtomicInteger calls = new AtomicInteger();
        cluster.node(1).interceptor = r -> r instanceof Request.Write && calls.getAndIncrement() == 0
                ? Answer.respond(new Response.Failure(Response.Code.SESSION_EXPIRED, "session expired")) : null;
        client.set("a", "2");
        List<Session> sent = sessionsOf(cluster.node(1).dataRequests());
        Session retried = sent.get(sent.size() - 1);
        assertThat(retried.clientId()).isNotEqualTo(firstId);
        assertThat(retried.seq()).isEqualTo(1);
        assertThat(retried.ackedBelow()).isEqualTo(1);
        assertThat(cluster.value("a")).contains(Bytes.utf8("2"));
    }

    @Test
    void manyRequestsShareOneConnection() {
        FlotillaClient client = client(options());
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            writes.add(client.setAsync(Bytes.utf8("k" + i), Bytes.utf8("v" + i)));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        assertThat(cluster.value("k499")).contains(Bytes.utf8("v499"));
        assertThat(cluster.node(1).connections.get()).isEqualTo(1);
        assertThat(cluster.totalApplied()).isEqualTo(500);
        // Every answer was delivered: the next write acknowledges all 500.
        assertThat(client.session().ackedBelow()).isEqualTo(501);
    }

    @Test
    void tooManyCallsInProgressFailAtOnceUnsent() {
        cluster.node(1).interceptor = r -> r instanceof Request.Write ? Answer.DROP : null;
        FlotillaClient client = client(options().withMaxInFlight(2));
        client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"));
        client.setAsync(Bytes.utf8("b"), Bytes.utf8("1"));
        assertThatThrownBy(() -> client.set("c", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("2 calls are already in progress")
                .hasMessageContaining("not applied");
    }

    @Test
    void closingFailsTheCallsInProgress() {
        cluster.node(1).interceptor = r -> r instanceof Request.Write ? Answer.DROP : null;
        FlotillaClient client = client(options());
        CompletableFuture<Void> pending = client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"));
        Poll.until(Duration.ofSeconds(5), "the write reaches the node", () -> !cluster.node(1).dataRequests().isEmpty());
        client.close();
        assertThatThrownBy(() -> pending.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ClusterUnavailableException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> client.get("a")).isInstanceOf(ClusterUnavailableException.class).hasMessageContaining("closed");
    }

    @Test
    void aBlockingCallFromACallbackIsRefusedInsteadOfHanging() {
        FlotillaClient client = client(options());
        CompletableFuture<Optional<String>> nested = client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"))
                .thenApply(done -> client.get("a"));
        assertThatThrownBy(nested::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("*Async");
    }

    @Test
    void statusReportsEveryNodeAndTheUnreachableOnes() throws Exception {
        List<InetSocketAddress> nodes = new ArrayList<>(cluster.addressList());
        InetSocketAddress dead = InetSocketAddress.createUnresolved("127.0.0.1", FakeCluster.deadPort());
        nodes.add(dead);
        cluster.setLeader(2);
        ClusterStatus status = client(options().withCluster(nodes)).status();
        assertThat(status.nodes()).hasSize(4);
        assertThat(status.leader().orElseThrow().address()).isEqualTo(cluster.node(2).address());
        assertThat(status.leaderId()).isEqualTo(2);
        assertThat(status.unreachable()).singleElement().satisfies(n -> {
            assertThat(n.address()).isEqualTo(dead);
            assertThat(n.error()).isEqualTo("connection refused");
        });
    }

    // ---- oversized requests (issue 9, item 4) -------------------------------------------------------

    @Test
    void anOversizedValueIsRefusedBeforeSendingNamingTheLimit() {
        FlotillaClient client = client(options());
        Bytes fiveMegabytes = Bytes.wrap(new byte[5 << 20]);
        assertThatThrownBy(() -> client.set(Bytes.utf8("big"), fiveMegabytes))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining("the value is 5242880 bytes; this cluster accepts at most 1048576 (--max-value-bytes)")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse())
                .satisfies(e -> assertThat(((RequestRejectedException) e).code()).isEqualTo(Response.Code.INVALID));
        assertThat(cluster.nodes.stream().mapToInt(n -> n.dataRequests().size()).sum()).as("requests sent").isZero();
        client.set("small", "fine"); // the connection and the session are still usable
        assertThat(cluster.value("small")).contains(Bytes.utf8("fine"));
    }

    @Test
    void aRequestLongerThanTheFrameLimitIsRefusedBeforeSending() {
        cluster.limits = new io.flotilla.client.wire.Hello.Limits(4096, 1 << 20, 1 << 16);
        FlotillaClient client = client(options());
        assertThatThrownBy(() -> client.cas(Bytes.utf8("k"), Optional.of(Bytes.wrap(new byte[40_000])), Bytes.wrap(new byte[40_000])))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessageMatching("cas .* was refused before sending: the request is \\d+ bytes; this cluster accepts at most 65536 \\(--max-frame-bytes\\)")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse());
    }

    // ---- not applied only when certain (issue 9, item 3) ---------------------------------------------

    @Test
    void aConnectionLostAfterTheWriteWasSentLeavesItsOutcomeUnknown() {
        cluster.nodes.forEach(n -> n.interceptor = r -> r instanceof Request.Write ? Answer.APPLY_THEN_CLOSE : null);
        FlotillaClient client = client(options().withRetry(new RetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(5))));
        assertThatThrownBy(() -> client.set("a", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("MAY HAVE BEEN APPLIED")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isTrue());
        assertThat(cluster.value("a")).contains(Bytes.utf8("1"));
    }

    @Test
    void anAttemptThatTimedOutWhileConnectingNeverSendsItsWriteLater() {
        // Node 2, the only node listed, redirects to node 1, whose first connection answers its hello late:
        // the attempt to node 1 times out first, and the call gives up saying the write was not applied.
        cluster.followersForward = false;
        cluster.node(1).nextHelloDelayMillis.set(600);
        FlotillaClient client = client(options().withCluster(List.of(cluster.node(2).address()))
                .withAttemptTimeout(Duration.ofMillis(300)).withRetry(new RetryPolicy(2, Duration.ZERO, Duration.ZERO)));
        assertThatThrownBy(() -> client.set("a", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageContaining("The write was not applied")
                .satisfies(e -> assertThat(((FlotillaException) e).mayHaveBeenApplied()).isFalse());
        // Once the connection opens, nothing may follow on it that makes "not applied" false. Two status
        // queries in a row: the second is sent after the connection opened, so behind anything sent then.
        Poll.until(Duration.ofSeconds(5), "node 1 answers the hello", () -> cluster.node(1).hellosAnswered.get() == 1);
        client.status();
        client.status();
        assertThat(cluster.node(1).received).filteredOn(r -> r instanceof Request.StatusQuery).isNotEmpty();
        assertThat(cluster.node(1).dataRequests()).as("writes that reached node 1").isEmpty();
        assertThat(cluster.value("a")).isEmpty();
    }

    // ---- discovery through elections (issue 9, item 12) ----------------------------------------------

    @Test
    void aCallAimedAtAFrozenLeaderTriesAnotherNodeWithinItsDeadline() {
        FlotillaClient client = client(ClientOptions.of(cluster.addresses()).withDeadline(Duration.ofSeconds(2)));
        client.set("a", "1");
        assertThat(client.leader()).contains(cluster.node(1).address());
        // Node 1 pauses (its connection stays open, nothing is answered) and node 2 takes over.
        cluster.node(1).interceptor = r -> Answer.DROP;
        cluster.setLeader(2);
        client.set("b", "2"); // within the 2 s deadline (it throws otherwise), so after one 1 s attempt timeout at most
        assertThat(cluster.value("b")).contains(Bytes.utf8("2"));
        assertThat(client.leader()).contains(cluster.node(2).address());
    }

    @Test
    void duringAnElectionTheNodesThatAnswerArePolledWithoutWaitingForAFrozenOne() throws Exception {
        cluster.setLeader(0);
        cluster.node(1).frozen = true; // accepts connections, answers nothing, not even the hello
        FlotillaClient client = client(options().withAttemptTimeout(Duration.ofSeconds(5)));
        CompletableFuture<Void> write = client.setAsync(Bytes.utf8("a"), Bytes.utf8("1"));
        // Waiting for node 1 would cost seconds per poll; asking nodes 2 and 3 again costs milliseconds.
        Poll.until(Duration.ofSeconds(2), "nodes 2 and 3 polled 5 times",
                () -> cluster.node(2).dataRequests().size() + cluster.node(3).dataRequests().size() >= 5);
        assertThat(write).isNotDone();
        cluster.setLeader(3);
        write.get(1, TimeUnit.SECONDS); // found within a poll or two of the election's end
        assertThat(cluster.value("a")).contains(Bytes.utf8("1"));
    }

    @Test
    void anElectionLongerThanTheDeadlineIsReportedAsPollsWithEachNodesLastAnswer() {
        cluster.setLeader(0);
        cluster.node(3).frozen = true;
        FlotillaClient client = client(options().withDeadline(Duration.ofMillis(700)).withAttemptTimeout(Duration.ofSeconds(5)));
        assertThatThrownBy(() -> client.set("a", "1"))
                .isInstanceOf(ClusterUnavailableException.class)
                .hasMessageMatching("set \"a\" failed: no leader after \\d+ polls in \\d+ ms \\(its deadline of 700 ms.*")
                .hasMessageContaining(HostPort.format(cluster.node(1).address()) + ": ")
                .hasMessageContaining(HostPort.format(cluster.node(2).address()) + ": ")
                .hasMessageContaining(HostPort.format(cluster.node(3).address()) + ": no answer")
                .hasMessageNotContaining("0 attempts")
                // The last poll may be cut short by the deadline after it was sent (a loaded machine): its
                // outcome is then unknown, and the message must say which.
                .satisfies(e -> assertThat(e.getMessage()).endsWith(((FlotillaException) e).mayHaveBeenApplied()
                        ? "The write MAY HAVE BEEN APPLIED: an attempt reached the cluster and its answer was lost"
                        : "The write was not applied"));
    }
}
