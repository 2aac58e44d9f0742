package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ELECTION_TICKS;
import static io.flotilla.core.protocol.NodeHarness.ack;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.follower;
import static io.flotilla.core.protocol.NodeHarness.leader;
import static io.flotilla.core.protocol.NodeHarness.vote;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.HardState;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import org.junit.jupiter.api.Test;

/**
 * CheckQuorum (Raft dissertation §6.2) and the leader lease it gives followers (§9.6, §4.2.3): a
 * leader that loses touch with a quorum steps down, and a follower that hears a leader does not
 * help anyone depose it.
 */
class CheckQuorumTest {

    @Test
    void leaderThatHearsNoQuorumForAWholeElectionTimeoutStepsDown() {
        NodeHarness n = leader(config(1), 1, 2, 3); // elected at tick 0, both followers answered
        n.tick(ELECTION_TICKS); // the first check: the followers were heard

        n.tick(ELECTION_TICKS - 1);
        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        n.tick(1); // a whole election timeout without hearing anyone

        Ready ready = n.drain();
        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.leader()).isEqualTo(RaftNode.NONE);
        assertThat(ready.role()).isEqualTo(new Ready.SoftState(Role.FOLLOWER, RaftNode.NONE, 2));
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 1)); // stepping down is no new term
    }

    @Test
    void newLeaderCountsItsVotersAsHeardForItsFirstElectionTimeout() {
        // A design choice: the votes count as contact, so a leader that then hears nothing at all
        // steps down at the end of its second election timeout, not its first.
        NodeHarness n = NodeHarness.bootstrap(1, 1, 2, 3);
        n.winElection();

        n.tick(2 * ELECTION_TICKS - 1);
        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        n.tick(1);
        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
    }

    @Test
    void leaderThatHearsAQuorumStaysLeader() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        for (int i = 0; i < 10 * ELECTION_TICKS; i++) {
            n.tick(1);
            if (i % 5 == 0) {
                n.deliver(ack(2, 1, 2, 2)); // only node 2 answers: with the leader itself, a quorum
            }
            n.drain();
        }

        assertThat(n.node.role()).isEqualTo(Role.LEADER);
    }

    @Test
    void leaderThatHearsOnlyAMinorityStepsDown() {
        NodeHarness n = leader(config(1), 1, 2, 3, 4, 5);

        int ticks = 0;
        while (n.node.role() == Role.LEADER && ticks < 10 * ELECTION_TICKS) {
            n.tick(1);
            n.deliver(ack(2, 1, 2, 2)); // 2 of 5 with the leader: not a quorum
            n.drain();
            ticks++;
        }

        assertThat(ticks).isEqualTo(2 * ELECTION_TICKS);
    }

    @Test
    void withoutCheckQuorumALeaderNeverStepsDownOnItsOwn() {
        NodeHarness n = leader(config(1).withCheckQuorum(false), 1, 2, 3);

        n.tick(20 * ELECTION_TICKS);

        assertThat(n.node.role()).isEqualTo(Role.LEADER);
    }

    @Test
    void followerThatHearsALeaderRejectsAHigherTermVoteRequest() {
        NodeHarness n = follower(config(1), 2, 2, 1, 2, 3);

        Ready ready = n.deliverAndDrain(vote(3, 1, 3, 1, 1));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 2, false, false));
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 0));
        assertThat(n.node.leader()).isEqualTo(2);
    }

    @Test
    void followerThatHearsALeaderHonoursAVoteRequestForALeadershipTransfer() {
        NodeHarness n = follower(config(1), 2, 2, 1, 2, 3);

        Ready ready = n.deliverAndDrain(new RequestVote(3, 1, 3, 1, 1, false, true));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 3, true, false));
        assertThat(ready.hardState()).isEqualTo(new HardState(3, 3));
    }

    @Test
    void followerThatHasNotHeardTheLeaderForAnElectionTimeoutGrantsVotes() {
        NodeHarness n = follower(config(1), 2, 2, 1, 2, 3);
        n.tick(ELECTION_TICKS);

        Ready ready = n.deliverAndDrain(vote(3, 1, 3, 1, 1));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 3, true, false));
    }

    @Test
    void withoutCheckQuorumAFollowerThatHearsALeaderStillVotes() {
        NodeHarness n = follower(config(1).withCheckQuorum(false), 2, 2, 1, 2, 3);

        Ready ready = n.deliverAndDrain(vote(3, 1, 3, 1, 1));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 3, true, false));
    }

    @Test
    void leaderInTouchWithAQuorumIgnoresAHigherTermVoteRequest() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        Ready ready = n.deliverAndDrain(vote(3, 1, 9, 99, 8));

        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        assertThat(n.node.term()).isEqualTo(2);
        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 2, false, false));
    }

    @Test
    void leaderCutOffFromTheMajorityStepsDownAndTheMajorityElectsAnother() {
        Network net = Network.of(3);
        net.elect(1);
        net.isolate(1);

        net.run(3 * ELECTION_TICKS);

        assertThat(net.raft(1).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.raft(1).term()).isEqualTo(2);
        assertThat(net.leader()).isIn(2, 3);
    }
}
