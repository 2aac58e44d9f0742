package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ELECTION_TICKS;
import static io.flotilla.core.protocol.NodeHarness.bootstrap;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.follower;
import static io.flotilla.core.protocol.NodeHarness.preGrant;
import static io.flotilla.core.protocol.NodeHarness.preVote;
import static io.flotilla.core.protocol.NodeHarness.vote;
import static io.flotilla.core.protocol.NodeHarness.withLog;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.HardState;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import org.junit.jupiter.api.Test;

/** Pre-vote (Raft dissertation §9.6): a node asks whether it could win before it raises its term. */
class PreVoteTest {

    @Test
    void preVoteAsksForTheNextTermWithoutChangingOwnTermOrVote() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.tickUntilCampaign();

        Ready ready = n.drain();

        assertThat(n.node.role()).isEqualTo(Role.PRE_CANDIDATE);
        assertThat(n.node.term()).isEqualTo(1);
        assertThat(ready.hardState()).isEqualTo(new HardState(1, 0));
        assertThat(ready.messagesAfterSync()).containsExactly(
                new RequestVote(1, 2, 2, 1, 1, true, false),
                new RequestVote(1, 3, 2, 1, 1, true, false));
    }

    @Test
    void preVotesFromAMajorityStartTheRealElection() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.tickUntilCampaign();
        n.drain();

        Ready ready = n.deliverAndDrain(preGrant(2, 1, 2));

        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 1));
        assertThat(ready.messagesAfterSync()).containsExactly(
                new RequestVote(1, 2, 2, 1, 1, false, false),
                new RequestVote(1, 3, 2, 1, 1, false, false));
    }

    @Test
    void preCandidateRejectedByAMajorityReturnsToFollowerInTheSameTerm() {
        NodeHarness n = bootstrap(1, 1, 2, 3, 4, 5);
        n.tickUntilCampaign();
        n.drain();

        n.deliver(new VoteResponse(2, 1, 1, false, true));
        n.deliver(new VoteResponse(3, 1, 1, false, true));
        n.drain();
        assertThat(n.node.role()).isEqualTo(Role.PRE_CANDIDATE);
        Ready ready = n.deliverAndDrain(new VoteResponse(4, 1, 1, false, true));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(ready.hardState()).isEqualTo(new HardState(1, 0));
    }

    @Test
    void grantingAPreVoteChangesNeitherTermNorVote() {
        NodeHarness n = bootstrap(1, 1, 2, 3);

        Ready ready = n.deliverAndDrain(preVote(2, 1, 2, 1, 1));

        // Granted in the term asked about, so the pre-candidate does not take it for news of a higher term.
        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 2, true, true));
        assertThat(ready.hardState()).isEqualTo(new HardState(1, 0));
        assertThat(n.node.term()).isEqualTo(1);
        // The real vote in term 2 is still free.
        Ready real = n.deliverAndDrain(vote(3, 1, 2, 1, 1));
        assertThat(real.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 2, true, false));
    }

    @Test
    void preVoteIsDeniedToCandidateWithLessUpToDateLog() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 2, 3);

        Ready older = n.deliverAndDrain(preVote(2, 1, 4, 9, 2));
        Ready shorter = n.deliverAndDrain(preVote(2, 1, 4, 2, 3));

        assertThat(older.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 3, false, true));
        assertThat(shorter.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 3, false, true));
        assertThat(n.node.term()).isEqualTo(3);
    }

    @Test
    void preVoteIsDeniedWhileTheLeaderIsHeard() {
        NodeHarness n = follower(config(1), 2, 2, 1, 2, 3);

        Ready ready = n.deliverAndDrain(preVote(3, 1, 3, 1, 1));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 2, false, true));
        assertThat(n.node.leader()).isEqualTo(2);
        assertThat(n.node.term()).isEqualTo(2);
    }

    @Test
    void staleTermPreVoteIsDeniedWithTheCurrentTerm() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 5, 0);

        Ready ready = n.deliverAndDrain(preVote(2, 1, 3, 1, 1));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 5, false, true));
    }

    @Test
    void preVoteIsGrantedOnceTheLeaderIsGone() {
        Network net = Network.of(3);
        net.elect(1);
        net.isolate(1);

        int ticks = 0;
        while (net.leader() == 1 || net.raft(net.leader()).term() == 2) {
            net.run(1);
            ticks++;
            assertThat(ticks).isLessThan(10 * ELECTION_TICKS);
        }

        int leader = net.leader();
        assertThat(leader).isIn(2, 3);
        // One pre-vote round, granted by the other survivor, then one real election: term 2 -> 3.
        assertThat(net.raft(leader).term()).isEqualTo(3);
        assertThat(net.raft(5 - leader).leader()).isEqualTo(leader);
    }

    @Test
    void partitionedNodeThatRejoinsDoesNotRaiseItsTermOrDeposeTheLeader() {
        Network net = Network.of(3);
        net.elect(1);
        net.isolate(3);
        net.run(10 * ELECTION_TICKS); // 3 times out again and again, alone

        assertThat(net.raft(3).term()).isEqualTo(2);
        assertThat(net.raft(3).role()).isEqualTo(Role.PRE_CANDIDATE);

        net.heal(3);
        net.delivered.clear();
        net.node(3).tickUntil(RaftNode::hasReady); // its next pre-vote, now reaching 1 and 2
        net.stabilize();

        assertThat(net.delivered(VoteResponse.class)).containsExactly(
                new VoteResponse(1, 3, 2, false, true),
                new VoteResponse(2, 3, 2, false, true));
        assertThat(net.leader()).isEqualTo(1);
        for (int id = 1; id <= 3; id++) {
            assertThat(net.raft(id).term()).as("term of %d", id).isEqualTo(2);
        }
        net.run(ELECTION_TICKS);
        assertThat(net.raft(3).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.raft(3).leader()).isEqualTo(1);
        assertThat(net.leader()).isEqualTo(1);
    }

    @Test
    void withoutPreVoteARejoiningNodeDeposesTheLeader() {
        // The contrast that motivates pre-vote: the same partition, with plain Raft elections.
        Network net = Network.of(3, id -> config(id).withPreVote(false).withCheckQuorum(false));
        net.elect(1);
        net.isolate(3);
        net.run(10 * ELECTION_TICKS);
        long isolatedTerm = net.raft(3).term();
        assertThat(isolatedTerm).isGreaterThan(5);

        net.heal(3);
        net.run(2);

        assertThat(net.raft(1).term()).isGreaterThanOrEqualTo(isolatedTerm);
        assertThat(net.raft(1).role()).isNotEqualTo(Role.LEADER);
    }
}
