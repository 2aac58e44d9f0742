package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.HEARTBEAT_TICKS;
import static io.flotilla.core.protocol.NodeHarness.ack;
import static io.flotilla.core.protocol.NodeHarness.append;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.entries;
import static io.flotilla.core.protocol.NodeHarness.heartbeat;
import static io.flotilla.core.protocol.NodeHarness.leader;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static io.flotilla.core.protocol.NodeHarness.withLog;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.LogEntry;
import io.flotilla.core.message.AppendEntries;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** When entries commit (Raft §5.3, §5.4.2, Figures 7 and 8), and how committed entries are handed out. */
class CommitmentTest {

    @Test
    void leaderCommitsAnEntryOnceAMajorityHoldsIt() {
        NodeHarness n = leader(config(1), 1, 2, 3, 4, 5);
        n.propose("x"); // index 3
        n.drain();

        n.deliverAndDrain(ack(2, 1, 2, 3));
        assertThat(n.node.commitIndex()).isEqualTo(2); // the leader and 2: two of five
        Ready ready = n.deliverAndDrain(ack(3, 1, 2, 3));

        assertThat(n.node.commitIndex()).isEqualTo(3);
        assertThat(ready.committed()).extracting(LogEntry::index).containsExactly(3L);
    }

    @Test
    void leaderTellsFollowersItsNewCommitIndex() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.propose("x");
        n.drain();

        Ready ready = n.deliverAndDrain(ack(2, 1, 2, 3));

        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::leaderCommit).containsExactly(3L);
        // Node 3 has not acknowledged 3: it is told to commit only what it is known to hold.
        assertThat(ofType(ready.messages(), AppendEntries.class, 3)).isEmpty();
    }

    @Test
    void followerCommitIndexNeverDecreases() {
        NodeHarness n = withLog(config(2), new int[] {1, 2, 3}, 2, 0, 2, 2);
        n.deliverAndDrain(heartbeat(1, 2, 2, 3, 2, 3));

        n.deliverAndDrain(heartbeat(1, 2, 2, 1, 1, 1)); // a delayed message with an older commit index
        n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2), 1));

        assertThat(n.node.commitIndex()).isEqualTo(3);
    }

    @Test
    void committedEntriesAreHandedOutInOrderExactlyOnce() {
        Network net = Network.of(3, id -> config(id).withBatching(4, 1 << 20, 3));
        net.elect(1);
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 7; i++) {
                net.node(1).propose("r" + round + "c" + i);
            }
            net.stabilize();
            net.run(1);
        }

        long last = net.raft(1).status().lastIndex();
        assertThat(last).isEqualTo(2 + 5 * 7);
        for (int id = 1; id <= 3; id++) {
            NodeHarness h = net.node(id);
            assertThat(h.node.commitIndex()).isEqualTo(last);
            assertThat(h.applied).extracting(LogEntry::index)
                    .as("applied on %d", id)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
            assertThat(h.applied).isEqualTo(net.node(1).log());
        }
    }

    @Test
    void committedEntriesAreHandedOutAtMostMaxApplyEntriesPerReady() {
        RaftConfig config = new RaftConfig(2, 10, 2, 64, 1 << 20, 4096, 3, true, true, 1000);
        NodeHarness n = withLog(config, new int[] {1, 2, 3}, 2, 0);
        n.deliver(append(1, 2, 2, 1, 1, entries(2, 2, 2, 2, 2, 2, 2, 2, 2, 2), 10));

        List<List<Long>> handedOut = new ArrayList<>();
        for (Ready ready : n.drainAll()) {
            handedOut.add(ready.committed().stream().map(LogEntry::index).toList());
        }

        assertThat(handedOut).containsExactly(
                List.of(1L, 2L, 3L), List.of(4L, 5L, 6L), List.of(7L, 8L, 9L), List.of(10L));
        assertThat(n.node.status().appliedIndex()).isEqualTo(10);
    }

    @Test
    void commitIndexNeverDecreasesThroughPartitionsAndNewLeaders() {
        Network net = Network.of(5);
        net.elect(1);
        long[] commit = new long[6];
        int[][] partitions = {{1}, {2}, {1, 3}, {}, {4, 5}, {2, 3}, {}};
        int proposals = 0;
        for (int[] isolated : partitions) {
            net.healAll();
            for (int id : isolated) {
                net.isolate(id);
            }
            for (int tick = 0; tick < 40; tick++) {
                int leader = net.leader();
                if (leader != 0 && tick % 3 == 0) {
                    net.node(leader).propose("p" + proposals++);
                }
                net.run(1);
                for (int id = 1; id <= 5; id++) {
                    long now = net.raft(id).commitIndex();
                    assertThat(now).as("commit of %d", id).isGreaterThanOrEqualTo(commit[id]);
                    commit[id] = now;
                }
            }
        }
        net.healAll();
        net.run(40);
        // Liveness too: everything settles on one log.
        for (int id = 2; id <= 5; id++) {
            assertThat(net.node(id).log()).isEqualTo(net.node(1).log());
        }
        assertThat(commit[1]).isGreaterThan(10);
    }

    // ---- Figure 7: a new leader brings any follower's log to its own -------------------------

    static Stream<Arguments> figure7Followers() {
        return Stream.of(
                Arguments.of("a: missing one entry", new long[] {1, 1, 4, 4, 5, 5, 6, 6}),
                Arguments.of("b: missing many", new long[] {1, 1, 4}),
                Arguments.of("c: one extra of the last term", new long[] {1, 1, 4, 4, 5, 5, 6, 6, 6, 6}),
                Arguments.of("d: extra entries of a later term", new long[] {1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}),
                Arguments.of("e: missing, with extra of an old term", new long[] {1, 1, 4, 4, 4, 4}),
                Arguments.of("f: a divergent leader's terms", new long[] {1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("figure7Followers")
    void figure7FollowerConvergesToTheNewLeadersLog(String name, long[] followerTermsFrom2) {
        // Figure 7's leader log (terms of indexes 1..10): 1 1 1 4 4 5 5 6 6 6; index 1 is the configuration.
        long[] leaderTermsFrom2 = {1, 1, 4, 4, 5, 5, 6, 6, 6};
        int[] voters = {1, 2, 3};
        long followerTerm = LongStream.of(followerTermsFrom2).max().orElseThrow();
        Network net = new Network()
                .add(withLog(config(1), voters, 7, 0, leaderTermsFrom2))
                .add(withLog(config(2), voters, followerTerm, 0, followerTermsFrom2))
                .add(withLog(config(3), voters, 7, 0, leaderTermsFrom2));

        net.elect(1); // term 8, with node 3's vote; its no-op is 11/8

        assertThat(net.raft(1).term()).isEqualTo(8);
        assertThat(net.node(1).logTerms()).containsExactly(1L, 1L, 1L, 4L, 4L, 5L, 5L, 6L, 6L, 6L, 8L);
        assertThat(net.node(2).log()).isEqualTo(net.node(1).log());
        assertThat(net.raft(2).commitIndex()).isEqualTo(11);
    }

    // ---- Figure 8: entries from earlier terms commit only through one of the current term -----

    /**
     * Plays Figure 8 (a) to (c) on five nodes, with index 1 the configuration (so the figure's index
     * N is our N + 1), plain elections and one entry per AppendEntries, and returns the network with
     * S1 leading term 4: its entry 3 (term 2) is on S1, S2 and S3, its no-op 4 (term 4) on S1 only.
     */
    private static Network figure8UpToC() {
        Network net = Network.of(5, id -> config(id).withPreVote(false).withCheckQuorum(false).withBatching(64, 1 << 20, 1));
        net.elect(1); // term 2; the no-op 2/2 commits everywhere

        // (a) S1 replicates 3/2 to S2 only.
        net.isolate(3);
        net.isolate(4);
        net.isolate(5);
        net.propose(1, "x");
        assertThat(net.node(2).logTerms()).containsExactly(1L, 2L, 2L);

        // (b) S1 crashes. S5 is elected in term 3 by S3, S4 and itself, and appends 3/3 only locally.
        net.healAll();
        net.isolate(1);
        net.drop(m -> m.from() == 5 && m instanceof AppendEntries);
        net.elect(5);
        assertThat(net.raft(5).term()).isEqualTo(3);
        assertThat(net.node(5).logTerms()).containsExactly(1L, 2L, 3L);

        // (c) S5 crashes, S1 restarts and is elected in term 4 (its term-3 election fails: S3 and S4
        // voted for S5). Its entry 3/2 reaches S3; its no-op 4/4 reaches nobody: every AppendEntries
        // loses its term-4 entries on the way.
        net.healAll();
        net.isolate(5);
        net.isolate(4);
        net.rewrite(m -> m instanceof AppendEntries ae && ae.from() == 1 ? withoutTerm(ae, 4) : m);
        electByTimeouts(net, 1);
        assertThat(net.raft(1).term()).isEqualTo(4);
        assertThat(net.node(1).logTerms()).containsExactly(1L, 2L, 2L, 4L);
        assertThat(net.node(2).logTerms()).containsExactly(1L, 2L, 2L);
        assertThat(net.node(3).logTerms()).containsExactly(1L, 2L, 2L);
        return net;
    }

    /**
     * Plain elections until {@code id} leads. A node that still believes it leads an older term (it
     * was cut off, not stopped) first sends a heartbeat, which tells it the newer term.
     */
    private static void electByTimeouts(Network net, int id) {
        net.tick(id, HEARTBEAT_TICKS);
        net.stabilize();
        for (int elections = 0; net.raft(id).role() != Role.LEADER; elections++) {
            assertThat(elections).as("elections of S%d", id).isLessThan(10);
            long term = net.raft(id).term();
            net.node(id).tickUntil(n -> n.term() > term);
            net.stabilize();
        }
    }

    private static AppendEntries withoutTerm(AppendEntries ae, long term) {
        List<LogEntry> kept = ae.entries().stream().takeWhile(e -> e.term() != term).toList();
        return new AppendEntries(ae.from(), ae.to(), ae.term(), ae.prevLogIndex(), ae.prevLogTerm(), kept,
                ae.leaderCommit(), ae.round());
    }

    @Test
    void figure8LeaderDoesNotCommitAnEarlierTermsEntryByCountingReplicas() {
        Network net = figure8UpToC();

        // 3/2 is on a majority (S1, S2, S3), but it is not from S1's term: S1 must not commit it...
        assertThat(net.node(1).matchIndex(2)).isEqualTo(3);
        assertThat(net.node(1).matchIndex(3)).isEqualTo(3);
        assertThat(net.raft(1).commitIndex()).isEqualTo(2);
        assertThat(net.node(1).applied).extracting(LogEntry::index).containsExactly(1L, 2L);

        // ...because (d) if S1 crashes now, S5 can still be elected (by S2, S3, S4) and overwrite it.
        net.healAll();
        net.isolate(1);
        electByTimeouts(net, 5);
        net.stabilize();
        for (int id : new int[] {2, 3, 4}) {
            assertThat(net.node(id).logTerms()).as("log of S%d", id).containsExactly(1L, 2L, 3L, 5L);
            assertThat(net.raft(id).commitIndex()).isEqualTo(4);
        }
    }

    @Test
    void figure8EarlierTermsEntryCommitsOnceAnEntryOfTheLeadersTermIsOnAMajority() {
        Network net = figure8UpToC();

        // (e) S1 gets its no-op 4/4 to S2 and S3 before anything else happens.
        net.healAll();
        net.isolate(4);
        net.isolate(5);
        net.tick(1, HEARTBEAT_TICKS);
        net.stabilize();

        assertThat(net.node(3).logTerms()).containsExactly(1L, 2L, 2L, 4L);
        assertThat(net.raft(1).commitIndex()).isEqualTo(4);
        assertThat(net.node(1).applied).extracting(LogEntry::index).containsExactly(1L, 2L, 3L, 4L);
        // And now S5 can no longer win: S2 and S3 hold a log newer than its 3/3.
        net.healAll();
        net.isolate(1);
        net.tick(5, HEARTBEAT_TICKS); // S5, still leading term 3, hears of term 4 and steps down
        net.stabilize();
        long before = net.raft(5).term();
        for (int i = 0; i < 5; i++) {
            long term = net.raft(5).term();
            net.node(5).tickUntil(n -> n.term() > term);
            net.stabilize();
        }
        assertThat(net.raft(5).term()).isGreaterThan(before);
        assertThat(net.raft(5).role()).isNotEqualTo(Role.LEADER);
        assertThat(net.node(3).logTerms()).containsExactly(1L, 2L, 2L, 4L);
    }
}
