package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ELECTION_TICKS;
import static io.flotilla.core.protocol.NodeHarness.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.ClusterConfig;
import io.flotilla.core.Member;
import io.flotilla.core.MembershipChange;
import io.flotilla.core.MembershipChange.AddLearner;
import io.flotilla.core.MembershipChange.Promote;
import io.flotilla.core.MembershipChange.Remove;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import org.junit.jupiter.api.Test;

/** Membership changes (Raft dissertation chapter 4: single-server changes, and learners). */
class MembershipTest {

    private static Network threeWithJoiner(RaftConfig joinerConfig) {
        Network net = Network.of(3);
        net.add(NodeHarness.joining(joinerConfig));
        net.elect(1);
        return net;
    }

    private static ProposeOutcome change(Network net, int leader, MembershipChange change) {
        ProposeOutcome outcome = net.raft(leader).changeMembership(change);
        net.stabilize();
        return outcome;
    }

    @Test
    void aLearnerReceivesTheLogButNeverCountsForCommit() {
        Network net = threeWithJoiner(config(4));

        assertThat(change(net, 1, new AddLearner(4, "", false))).isInstanceOf(ProposeOutcome.Accepted.class);
        net.propose(1, "x");

        assertThat(net.raft(4).members().member(4)).contains(new Member(4, "", Member.Kind.LEARNER));
        assertThat(net.node(4).log()).isEqualTo(net.node(1).log());
        long committed = net.raft(1).commitIndex();
        net.isolate(2);
        net.isolate(3);
        net.propose(1, "y");
        assertThat(net.raft(1).commitIndex()).as("leader + learner are not a quorum of {1,2,3}").isEqualTo(committed);
    }

    @Test
    void aLearnerNeverCampaigns() {
        Network net = threeWithJoiner(config(4));
        change(net, 1, new AddLearner(4, "", false));
        net.isolate(4);

        net.node(4).tick(10 * ELECTION_TICKS);

        assertThat(net.raft(4).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.raft(4).term()).isEqualTo(net.raft(1).term());
    }

    @Test
    void aLearnerIsPromotedOnlyOnceCaughtUp() {
        // No lag allowed, so one missing entry is too many.
        Network net = Network.of(3, id -> config(id).withCatchUpEntries(0));
        net.add(NodeHarness.joining(config(4)));
        net.elect(1);
        change(net, 1, new AddLearner(4, "", false));
        net.isolate(4);
        net.propose(1, "w");

        ProposeOutcome behind = net.raft(1).changeMembership(new Promote(4));
        net.heal(4);
        net.run(NodeHarness.HEARTBEAT_TICKS);
        ProposeOutcome caughtUp = change(net, 1, new Promote(4));

        assertThat(behind).isEqualTo(new ProposeOutcome.Refused(
                "node 4 has not caught up: it is 1 entries behind the leader (at most 0 allowed)"));
        assertThat(caughtUp).isInstanceOf(ProposeOutcome.Accepted.class);
        assertThat(net.raft(2).members().voters()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void aJoiningLearnerIsPromotedByTheLeaderOnceCaughtUp() {
        Network net = threeWithJoiner(config(4));

        change(net, 1, new AddLearner(4, "", true));
        assertThat(net.raft(1).members().member(4).orElseThrow().kind()).isEqualTo(Member.Kind.JOINING);
        net.run(NodeHarness.HEARTBEAT_TICKS);

        for (int id = 1; id <= 4; id++) {
            assertThat(net.raft(id).members().voters()).as("node %d", id).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void oneChangeAtATime() {
        Network net = threeWithJoiner(config(4));
        net.isolate(2);
        net.isolate(3);

        ProposeOutcome first = change(net, 1, new AddLearner(4, "", false));
        ProposeOutcome second = change(net, 1, new AddLearner(5, "", false));

        assertThat(first).isInstanceOf(ProposeOutcome.Accepted.class);
        assertThat(second).isEqualTo(new ProposeOutcome.Refused("a membership change is in progress (index "
                + ((ProposeOutcome.Accepted) first).index() + " is not committed yet); retry once it is", true));
    }

    @Test
    void aNodeWaitingToBeAddedNeverVotesNorLearnsATermFromACandidate() {
        NodeHarness blank = NodeHarness.joining(config(3)); // perhaps node 3 of {1,2,3}, with its disk lost

        Ready pre = blank.deliverAndDrain(NodeHarness.preVote(2, 3, 5, 1, 1));
        Ready real = blank.deliverAndDrain(NodeHarness.vote(2, 3, 5, 1, 1));

        assertThat(NodeHarness.allMessages(pre)).isEmpty();
        assertThat(NodeHarness.allMessages(real)).isEmpty();
        assertThat(blank.node.term()).isZero();
        assertThat(blank.storage.hardState().votedFor()).isZero();
    }

    @Test
    void aNewLeaderChangesNothingBeforeItCommitsAnEntryOfItsTerm() {
        Network net = Network.of(3);
        net.drop(m -> m instanceof AppendResponse);
        net.campaign(1);

        assertThat(net.raft(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.raft(1).changeMembership(new Remove(3))).isEqualTo(new ProposeOutcome.Refused(
                "the leader has not committed an entry of its term yet; retry shortly", true));
    }

    @Test
    void aChangeThatWouldLeaveNoReachableQuorumIsRefused() {
        Network net = Network.of(3);
        net.elect(1);
        net.isolate(3);
        net.run(ELECTION_TICKS); // 3 is silent for an election timeout; 2 answers

        assertThat(change(net, 1, new Remove(2))).isEqualTo(new ProposeOutcome.Refused(
                "after the change only 1 of its 2 voters would be reachable, fewer than a quorum of 2; bring voters back first"));
        assertThat(change(net, 1, new Remove(3))).isInstanceOf(ProposeOutcome.Accepted.class);
        assertThat(net.raft(2).members().voters()).containsExactly(1, 2);
    }

    @Test
    void aRemovedFollowerLearnsItAndStopsTakingPart() {
        Network net = Network.of(3);
        net.elect(1);

        change(net, 1, new Remove(3));
        net.run(3 * NodeHarness.HEARTBEAT_TICKS); // the leader tells it in three heartbeats, then stops

        assertThat(net.raft(3).removed()).isTrue();
        assertThat(net.raft(3).status().removed()).isTrue();
        assertThat(net.raft(1).status().peers()).containsOnlyKeys(2);
        net.isolate(1);
        net.node(3).tick(10 * ELECTION_TICKS);
        assertThat(net.raft(3).role()).as("a removed node never campaigns").isEqualTo(Role.FOLLOWER);
    }

    @Test
    void aRemovedFollowerThatMissesTheFirstNoticeOfItsRemovalStillLearnsIt() {
        Network net = Network.of(3);
        net.elect(1);
        // The first message that would tell node 3 that its removal is committed is lost.
        long at = net.raft(1).status().lastIndex() + 1;
        int[] lost = {0};
        net.drop(m -> m.to() == 3 && m instanceof AppendEntries a && a.leaderCommit() >= at && lost[0]++ == 0);
        change(net, 1, new Remove(3));
        net.run(3 * NodeHarness.HEARTBEAT_TICKS);

        assertThat(lost[0]).as("a notice was lost").isGreaterThan(0);
        assertThat(net.raft(3).removed()).as("the notice after the lost one reached it").isTrue();
        assertThat(net.raft(1).status().peers()).containsOnlyKeys(2);
    }

    @Test
    void aLeaderThatRemovesItselfHandsOverOnceTheChangeCommits() {
        Network net = Network.of(3);
        net.elect(1);
        long term = net.raft(1).term();

        change(net, 1, new Remove(1));

        assertThat(net.raft(1).removed()).isTrue();
        assertThat(net.raft(1).role()).isEqualTo(Role.FOLLOWER);
        int next = net.leader();
        assertThat(next).as("elected at once through TimeoutNow, without waiting out a timeout").isIn(2, 3);
        assertThat(net.raft(next).term()).isEqualTo(term + 1);
        assertThat(net.raft(next).members().voters()).containsExactly(2, 3);
        net.propose(next, "after");
        assertThat(net.raft(next).commitIndex()).isEqualTo(net.raft(next).status().lastIndex());
    }

    @Test
    void aConfigurationIsUsedWhenAppendedAndDroppedWhenANewLeaderCutsIt() {
        Network net = Network.of(5);
        net.elect(1);
        ClusterConfig before = net.raft(2).members();
        net.drop(m -> m instanceof AppendEntries && m.to() > 2);

        change(net, 1, new Remove(5));
        assertThat(net.raft(2).members().voters()).as("used before it commits").containsExactly(1, 2, 3, 4);
        net.healAll();
        net.isolate(1);
        net.isolate(2);
        net.run(3 * ELECTION_TICKS); // 3, 4 and 5 stop hearing the leader and elect one of them
        int next = net.leader();
        assertThat(next).isIn(3, 4, 5);
        net.propose(next, "cuts index of the change");
        net.healAll();
        net.run(NodeHarness.HEARTBEAT_TICKS);

        assertThat(net.raft(2).members()).isEqualTo(before);
        assertThat(net.raft(1).members()).isEqualTo(before);
    }

    @Test
    void configurationsSurviveARestart() {
        Network net = threeWithJoiner(config(4));
        change(net, 1, new AddLearner(4, "h:4", false));

        RaftNode restarted = net.node(2).restarted().node;

        assertThat(restarted.members()).isEqualTo(net.raft(1).members());
        assertThat(restarted.members().member(4)).contains(new Member(4, "h:4", Member.Kind.LEARNER));
    }

    @Test
    void aBlankNodeUnderAVotersIdHaltsInsteadOfActingAsThatVoter() {
        Network net = Network.of(3);
        net.elect(1);
        net.propose(1, "x");
        net.add(NodeHarness.joining(config(3))); // node 3 lost its disk and was started to join

        assertThatThrownBy(() -> net.run(NodeHarness.HEARTBEAT_TICKS))
                .isInstanceOf(NodeHaltedException.class)
                .hasMessageStartingWith("node 3 started with no data to join a cluster, but the cluster's configuration"
                        + " already has node 3 as a voter");
    }

    @Test
    void aRemovedIdCannotComeBack() {
        Network net = Network.of(3);
        net.elect(1);
        change(net, 1, new Remove(3));

        assertThat(change(net, 1, new AddLearner(3, "", false))).isEqualTo(new ProposeOutcome.Refused(
                "node 3 was removed from this cluster, and an id is never used twice; add the new node under a new id"));
    }
}
