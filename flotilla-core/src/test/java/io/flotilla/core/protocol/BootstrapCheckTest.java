package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.HEARTBEAT_TICKS;
import static io.flotilla.core.protocol.NodeHarness.append;
import static io.flotilla.core.protocol.NodeHarness.blank;
import static io.flotilla.core.protocol.NodeHarness.entries;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static io.flotilla.core.protocol.NodeHarness.preVote;
import static io.flotilla.core.protocol.NodeHarness.vote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.message.BootstrapProbe;
import io.flotilla.core.message.BootstrapProbeResponse;
import org.junit.jupiter.api.Test;

/**
 * A member that lost its state must never vote or acknowledge as the member it was (Raft assumes a
 * voter never forgets its term, vote or log). A node with no state founds the cluster only once a
 * majority of the other founders answered that it does not exist yet.
 */
class BootstrapCheckTest {
    @Test
    void aNodeWithNoStateAsksTheOtherFoundersBeforeAnythingElse() {
        NodeHarness n = blank(2, 1, 2, 3);

        n.tick(1);
        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), BootstrapProbe.class)).containsExactly(new BootstrapProbe(2, 1, 0), new BootstrapProbe(2, 3, 0));
        assertThat(ready.entries()).isEmpty();
        assertThat(n.node.bootstrapping()).isTrue();
    }

    @Test
    void unansweredFoundersAreAskedAgainEveryHeartbeat() {
        NodeHarness n = blank(2, 1, 2, 3);
        n.tick(1);
        n.drain();
        n.deliver(new BootstrapProbeResponse(1, 2, 0, 0));

        n.tick(HEARTBEAT_TICKS);

        assertThat(ofType(n.drain().messages(), BootstrapProbe.class)).containsExactly(new BootstrapProbe(2, 3, 0));
    }

    @Test
    void whileAskingItNeitherVotesNorAcknowledgesNorCampaigns() {
        NodeHarness n = blank(2, 1, 2, 3);

        n.deliver(vote(3, 2, 5, 1, 1));
        n.deliver(preVote(3, 2, 5, 1, 1));
        n.deliver(append(1, 2, 4, 0, 0, entries(1, 1), 0));
        n.tick(100);
        Ready ready = n.drain();

        assertThat(ready.messagesAfterSync()).isEmpty();
        assertThat(ready.messages()).allMatch(m -> m instanceof BootstrapProbe);
        assertThat(n.node.term()).isZero();
        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.storage.lastIndex()).isZero();
    }

    @Test
    void aMajorityOfTheOtherFoundersAnsweringFreshLetsItFoundTheCluster() {
        NodeHarness n = blank(1, 1, 2, 3, 4, 5);
        n.deliver(new BootstrapProbeResponse(2, 1, 0, 0));  // not started yet either
        n.deliver(new BootstrapProbeResponse(3, 1, 1, 1));  // founded, no election yet
        assertThat(n.node.bootstrapping()).isTrue();

        n.deliver(new BootstrapProbeResponse(5, 1, 1, 1));
        Ready ready = n.drain();

        assertThat(n.node.bootstrapping()).isFalse();
        assertThat(ready.entries()).singleElement().satisfies(e -> {
            assertThat(e.index()).isEqualTo(1);
            assertThat(e.term()).isEqualTo(1);
            assertThat(e.type()).isEqualTo(EntryType.CONFIG);
        });
        assertThat(ready.hardState()).isEqualTo(new HardState(1, 0));
        assertThat(n.node.members()).isEqualTo(NodeHarness.members(1, 2, 3, 4, 5));
        n.tickUntilCampaign(); // and then it takes part
    }

    @Test
    void anAnswerFromAClusterThatHadAnElectionHaltsTheNode() {
        NodeHarness n = blank(2, 1, 2, 3);
        n.deliver(new BootstrapProbeResponse(3, 2, 0, 0));

        assertThatThrownBy(() -> n.deliver(new BootstrapProbeResponse(1, 2, 4, 1)))
                .isInstanceOf(NodeHaltedException.class)
                .hasMessageContaining("node 2 has no data, but the cluster already exists (node 1 is at term 4")
                .hasMessageContaining("remove member 2 and add a new member");
    }

    @Test
    void anAnswerWithALogBeyondTheFoundingEntryHaltsTheNode() {
        NodeHarness n = blank(2, 1, 2, 3);

        assertThatThrownBy(() -> n.deliver(new BootstrapProbeResponse(3, 2, 1, 7)))
                .isInstanceOf(NodeHaltedException.class)
                .hasMessageContaining("node 3 is at term 1 with 7 log entries");
    }

    @Test
    void answersFromNonFoundersDoNotCount() {
        NodeHarness n = blank(2, 1, 2, 3);

        n.deliver(new BootstrapProbeResponse(7, 2, 0, 0));
        n.deliver(new BootstrapProbeResponse(8, 2, 0, 0));

        assertThat(n.node.bootstrapping()).isTrue();
    }

    @Test
    void aSingleFounderFoundsAtOnce() {
        NodeHarness n = blank(1, 1);

        assertThat(n.node.bootstrapping()).isFalse();
        assertThat(n.drain().entries()).hasSize(1);
    }

    @Test
    void everyNodeAnswersProbesWithItsTermAndLastIndexWithoutChangingState() {
        NodeHarness leader = NodeHarness.leader(NodeHarness.config(1), 1, 2, 3);
        long term = leader.node.term();

        Ready ready = leader.deliverAndDrain(new BootstrapProbe(2, 1, 0));

        assertThat(ready.messagesAfterSync()).containsExactly(new BootstrapProbeResponse(1, 2, term, leader.node.status().lastIndex()));
        assertThat(leader.node.role()).isEqualTo(Role.LEADER);
        assertThat(leader.node.term()).isEqualTo(term);
    }

    @Test
    void aNodeWithStateIgnoresTheFoundersList() {
        NodeHarness n = NodeHarness.bootstrap(2, 1, 2, 3);

        assertThat(n.node.bootstrapping()).isFalse();
    }
}
