package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ack;
import static io.flotilla.core.protocol.NodeHarness.allMessages;
import static io.flotilla.core.protocol.NodeHarness.bootstrap;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.follower;
import static io.flotilla.core.protocol.NodeHarness.heartbeat;
import static io.flotilla.core.protocol.NodeHarness.leader;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static io.flotilla.core.protocol.NodeHarness.withLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Linearizable reads with ReadIndex (Raft dissertation §6.4): the leader records its commit index,
 * confirms it still leads with a heartbeat round that starts after the read arrived, and only then
 * lets the read be served.
 */
class ReadIndexTest {

    /** A follower's answer to an AppendEntries of heartbeat round {@code round}. */
    private static AppendResponse answer(int from, long term, long index, long round) {
        return AppendResponse.success(from, 1, term, index, round);
    }

    @Test
    void readOnAFollowerFailsAtOnceNamingTheLeader() {
        NodeHarness n = follower(config(2), 1, 2, 1, 2, 3);

        n.node.read(7);
        Ready ready = n.drain();

        assertThat(ready.reads()).containsExactly(new ReadOutcome.NotLeader(7, 1));
        assertThat(allMessages(ready)).isEmpty();
    }

    @Test
    void readOnANodeThatKnowsNoLeaderFailsNamingNone() {
        NodeHarness n = bootstrap(2, 1, 2, 3);

        n.node.read(7);

        assertThat(n.drain().reads()).containsExactly(new ReadOutcome.NotLeader(7, RaftNode.NONE));
    }

    @Test
    void leaderDefersReadsUntilItHasCommittedAnEntryOfItsTerm() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.winElection(); // its no-op 2/2 is not committed yet: its commit index may lag the cluster's
        n.node.read(1);
        Ready waiting = n.drain();
        assertThat(waiting.reads()).isEmpty();
        assertThat(waiting.messages()).isEmpty(); // no round yet: the read index is not known

        Ready committed = n.deliverAndDrain(ack(2, 1, 2, 2)); // the no-op commits: the round starts
        List<AppendEntries> round = ofType(committed.messages(), AppendEntries.class);
        assertThat(committed.reads()).isEmpty();
        assertThat(round).extracting(AppendEntries::to, AppendEntries::round)
                .containsExactly(tuple(2, 1L), tuple(3, 1L));

        Ready confirmed = n.deliverAndDrain(answer(3, 2, 2, 1));
        assertThat(confirmed.reads()).containsExactly(new ReadOutcome.Ready(1, 2));
    }

    @Test
    void readCompletesOnlyOnceAQuorumAnswersItsHeartbeatRound() {
        NodeHarness n = leader(config(1), 1, 2, 3, 4, 5);

        n.node.read(1);
        Ready ready = n.drain();
        assertThat(ofType(ready.messages(), AppendEntries.class))
                .hasSize(4).allSatisfy(ae -> assertThat(ae.round()).isEqualTo(1));

        assertThat(n.deliverAndDrain(answer(2, 2, 2, 1)).reads()).isEmpty(); // 2 of 5 with the leader
        assertThat(n.deliverAndDrain(answer(3, 2, 2, 1)).reads()).containsExactly(new ReadOutcome.Ready(1, 2));
    }

    @Test
    void answersToARoundStartedBeforeTheReadDoNotConfirmIt() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.node.read(1);
        n.drain(); // round 1
        n.node.read(2);
        n.drain(); // round 2: read 2 arrived after round 1 went out

        Ready late = n.deliverAndDrain(answer(2, 2, 2, 1));
        Ready current = n.deliverAndDrain(answer(3, 2, 2, 2));

        assertThat(late.reads()).containsExactly(new ReadOutcome.Ready(1, 2));
        assertThat(current.reads()).containsExactly(new ReadOutcome.Ready(2, 2));
    }

    @Test
    void readsBetweenTwoReadyCallsShareOneHeartbeatRound() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        for (long id = 1; id <= 5; id++) {
            n.node.read(id);
        }
        Ready ready = n.drain();
        Ready confirmed = n.deliverAndDrain(answer(2, 2, 2, 1));

        assertThat(ofType(ready.messages(), AppendEntries.class))
                .extracting(AppendEntries::to, AppendEntries::round)
                .containsExactly(tuple(2, 1L), tuple(3, 1L));
        assertThat(confirmed.reads()).extracting(ReadOutcome::id).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void answerToAHeartbeatOfAnEarlierTermDoesNotConfirmARead() {
        // Node 1 led term 2 and sent heartbeat round 7 to node 2, which was delayed. Now node 1 leads term 4.
        NodeHarness leader = withLog(config(1), new int[] {1, 2, 3}, 3, 0);
        leader.winElection();
        leader.acknowledgeAll();
        leader.node.read(1);
        leader.drain(); // round 1 of term 4
        // Node 2, already in term 4, gets the old heartbeat and answers it with its term.
        NodeHarness follower = withLog(config(2), new int[] {1, 2, 3}, 4, 1);
        Ready answer = follower.deliverAndDrain(new AppendEntries(1, 2, 2, 1, 1, List.of(), 0, 7));
        AppendResponse stale = ofType(answer.messagesAfterSync(), AppendResponse.class).get(0);
        assertThat(stale.term()).isEqualTo(4);

        // It was written before the read arrived, so it proves nothing about leadership after it.
        Ready ready = leader.deliverAndDrain(stale);

        assertThat(ready.reads()).isEmpty();
        assertThat(leader.deliverAndDrain(answer(2, 4, 2, 1)).reads()).containsExactly(new ReadOutcome.Ready(1, 2));
    }

    @Test
    void readIndexIsTheCommitIndexWhenTheReadArrives() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.propose("x");
        n.drain();
        n.deliverAndDrain(ack(2, 1, 2, 3)); // commit 3
        n.propose("y"); // 4, not committed
        n.node.read(1);
        n.drain();

        Ready confirmed = n.deliverAndDrain(answer(3, 2, 2, 1));

        assertThat(confirmed.reads()).containsExactly(new ReadOutcome.Ready(1, 3));
    }

    @Test
    void readsPendingWhenTheLeaderStepsDownFailNamingTheNewLeader() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.node.read(1);
        n.node.read(2);
        n.drain();

        Ready ready = n.deliverAndDrain(heartbeat(3, 1, 3, 2, 2, 2));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(ready.reads()).containsExactly(new ReadOutcome.NotLeader(1, 3), new ReadOutcome.NotLeader(2, 3));
    }

    @Test
    void readsWaitingForTheFirstCommitFailWhenTheLeaderStepsDown() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.winElection();
        n.node.read(1);
        n.drain();

        Ready ready = n.deliverAndDrain(AppendResponse.reject(2, 1, 5, 1, 0, 0, 0)); // news of term 5

        assertThat(ready.reads()).containsExactly(new ReadOutcome.NotLeader(1, RaftNode.NONE));
    }

    @Test
    void readsPendingWhenTheLeaderLosesItsQuorumFail() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.node.read(1);
        n.drain();

        n.tick(2 * NodeHarness.ELECTION_TICKS); // nobody answers: CheckQuorum steps it down

        assertThat(n.drain().reads()).containsExactly(new ReadOutcome.NotLeader(1, RaftNode.NONE));
    }

    @Test
    void singleVoterAnswersAReadAtOnce() {
        NodeHarness n = leader(config(1), 1);

        n.node.read(9);
        Ready ready = n.drain();

        assertThat(ready.reads()).containsExactly(new ReadOutcome.Ready(9, 2));
        assertThat(allMessages(ready)).isEmpty();
    }

    @Test
    void readInAClusterIsConfirmedWithTheCommitIndex() {
        Network net = Network.of(3);
        net.elect(1);
        net.propose(1, "x");

        net.raft(1).read(42);
        net.stabilize();

        assertThat(net.node(1).reads).containsExactly(new ReadOutcome.Ready(42, 3));
        assertThat(net.node(1).applied).extracting(e -> e.index()).contains(3L);
    }
}
