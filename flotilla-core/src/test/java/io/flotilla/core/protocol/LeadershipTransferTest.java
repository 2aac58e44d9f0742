package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ELECTION_TICKS;
import static io.flotilla.core.protocol.NodeHarness.ack;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.follower;
import static io.flotilla.core.protocol.NodeHarness.leader;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.HardState;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.TimeoutNow;
import org.junit.jupiter.api.Test;

/** Leadership transfer (Raft dissertation §3.10). */
class LeadershipTransferTest {

    @Test
    void transferToAnUpToDateFollowerSendsTimeoutNowAtOnce() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        assertThat(n.node.transferLeadership(2)).isTrue();
        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), TimeoutNow.class)).containsExactly(new TimeoutNow(1, 2, 2));
    }

    @Test
    void transferToALaggingFollowerSendsTimeoutNowOnceItHasCaughtUp() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.propose("x"); // 3
        n.drain();
        n.deliverAndDrain(ack(3, 1, 2, 3));

        n.node.transferLeadership(2);
        Ready waiting = n.drain();
        Ready caughtUp = n.deliverAndDrain(ack(2, 1, 2, 3));

        assertThat(ofType(waiting.messages(), TimeoutNow.class)).isEmpty();
        assertThat(ofType(caughtUp.messages(), TimeoutNow.class)).containsExactly(new TimeoutNow(1, 2, 2));
    }

    @Test
    void proposalsAreRefusedDuringATransfer() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.node.transferLeadership(2);

        assertThat(n.propose("x")).isEqualTo(new ProposeOutcome.Transferring(2));
        assertThat(n.drain().entries()).isEmpty();
    }

    @Test
    void transferTargetCampaignsAtOnceWithoutAPreVote() {
        NodeHarness n = follower(config(2), 1, 2, 1, 2, 3);

        Ready ready = n.deliverAndDrain(new TimeoutNow(1, 2, 2));

        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        assertThat(ready.hardState()).isEqualTo(new HardState(3, 2));
        assertThat(ready.messagesAfterSync()).containsExactly(
                new RequestVote(2, 1, 3, 1, 1, false, true),
                new RequestVote(2, 3, 3, 1, 1, false, true));
    }

    @Test
    void staleTimeoutNowIsIgnored() {
        NodeHarness n = follower(config(2), 1, 3, 1, 2, 3);

        Ready ready = n.deliverAndDrain(new TimeoutNow(1, 2, 2));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.term()).isEqualTo(3);
        assertThat(ready.messagesAfterSync()).isEmpty();
    }

    @Test
    void transferTargetWinsAlthoughTheOtherFollowersHearTheOldLeader() {
        Network net = Network.of(3);
        net.elect(1);
        net.propose(1, "x");
        net.run(3); // the followers hear the leader: a plain election would be refused by their lease

        assertThat(net.raft(1).transferLeadership(3)).isTrue();
        net.stabilize();

        assertThat(net.leader()).isEqualTo(3);
        assertThat(net.raft(3).term()).isEqualTo(3);
        assertThat(net.raft(1).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.raft(1).leader()).isEqualTo(3);
        assertThat(net.raft(2).leader()).isEqualTo(3);
        assertThat(net.node(1).propose("y")).isEqualTo(new ProposeOutcome.NotLeader(3));
    }

    @Test
    void transferToALaggingFollowerCompletesOnceItCatchesUp() {
        Network net = Network.of(3);
        net.elect(1);
        net.isolate(2);
        net.propose(1, "x"); // committed by 1 and 3; 2 misses it

        net.raft(1).transferLeadership(2);
        net.stabilize();
        assertThat(net.leader()).isEqualTo(1);
        net.heal(2);
        net.run(2 * NodeHarness.HEARTBEAT_TICKS);

        assertThat(net.leader()).isEqualTo(2);
        assertThat(net.node(2).log()).isEqualTo(net.node(1).log());
    }

    @Test
    void transferAbortsAfterAnElectionTimeout() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.propose("x"); // the target never acknowledges it
        n.drain();
        n.node.transferLeadership(2);

        n.tick(ELECTION_TICKS - 1);
        assertThat(n.propose("y")).isEqualTo(new ProposeOutcome.Transferring(2));
        n.tick(1);

        assertThat(n.propose("y")).isEqualTo(new ProposeOutcome.Accepted(4, 2));
        assertThat(n.node.role()).isEqualTo(Role.LEADER);
    }

    @Test
    void transferToSelfIsRefused() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        assertThat(n.node.transferLeadership(1)).isFalse();
        assertThat(n.propose("x")).isInstanceOf(ProposeOutcome.Accepted.class);
    }

    @Test
    void transferToANonMemberIsRefused() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        assertThat(n.node.transferLeadership(4)).isFalse();
        assertThat(ofType(n.drain().messages(), TimeoutNow.class)).isEmpty();
    }

    @Test
    void transferOnAFollowerIsRefused() {
        NodeHarness n = follower(config(2), 1, 2, 1, 2, 3);

        assertThat(n.node.transferLeadership(3)).isFalse();
        assertThat(n.drain().messages()).isEmpty();
    }
}
