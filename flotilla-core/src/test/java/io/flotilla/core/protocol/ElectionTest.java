package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.ELECTION_TICKS;
import static io.flotilla.core.protocol.NodeHarness.allMessages;
import static io.flotilla.core.protocol.NodeHarness.bootstrap;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.grant;
import static io.flotilla.core.protocol.NodeHarness.heartbeat;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static io.flotilla.core.protocol.NodeHarness.reject;
import static io.flotilla.core.protocol.NodeHarness.vote;
import static io.flotilla.core.protocol.NodeHarness.withLog;
import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.Bytes;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import io.flotilla.core.message.Message;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.message.VoteResponse;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Leader election: Raft Figure 2 (RequestVote, Rules for Servers) and §5.2, §5.4.1. */
class ElectionTest {
    private static final RaftConfig NO_PRE_VOTE = config(1).withPreVote(false);

    @Test
    void followerTimesOutWithinOneToTwoElectionTimeouts() {
        Set<Integer> timeouts = new TreeSet<>();
        for (long seed = 0; seed < 200; seed++) {
            NodeHarness n = bootstrap(config(1), seed, 1, 2, 3);
            int ticks = n.tickUntilCampaign();
            assertThat(ticks).as("seed %d", seed).isBetween(ELECTION_TICKS, 2 * ELECTION_TICKS - 1);
            timeouts.add(ticks);
        }
        // Randomised, so that split votes do not repeat forever: every value of the range occurs.
        assertThat(timeouts).hasSize(ELECTION_TICKS);
    }

    @Test
    void electionTimeoutIsRedrawnForEachElectionAndDoublesWhileElectionsFindNoLeader() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        Set<Integer> timeouts = new TreeSet<>();
        for (int i = 0; i < 30; i++) {
            long term = n.node.term();
            int ticks = n.tickUntil(node -> node.term() > term); // nobody answers: election after election
            n.drain();
            // A node waits one timeout before its first election and one for its outcome; each further
            // fruitless election doubles the wait, up to 8 times.
            int base = ELECTION_TICKS << Math.min(Math.max(i - 1, 0), 3);
            assertThat(ticks).as("election %d", i + 1).isBetween(base, 2 * base - 1);
            if (i >= 4) {
                timeouts.add(ticks);
            }
        }
        assertThat(n.node.term()).isEqualTo(31);
        assertThat(timeouts).hasSizeGreaterThan(3);

        n.deliverAndDrain(heartbeat(3, 1, 31, 0, 0, 0)); // a leader: the next timeout is the usual one again
        long term = n.node.term();
        assertThat(n.tickUntil(node -> node.term() > term)).isBetween(ELECTION_TICKS, 2 * ELECTION_TICKS - 1);
    }

    @Test
    void followerThatHearsTheLeaderDoesNotTimeOut() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        for (int i = 0; i < 10 * ELECTION_TICKS; i++) {
            n.tick(1);
            n.deliver(heartbeat(2, 1, 2, 1, 1, 0));
            n.drain();
        }
        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.term()).isEqualTo(2);
        assertThat(n.node.leader()).isEqualTo(2);
    }

    @Test
    void electionIncrementsTermAndVotesForSelf() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        n.tickUntilCampaign();

        Ready ready = n.drain();

        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 1));
        assertThat(ready.messagesAfterSync()).containsExactly(
                new RequestVote(1, 2, 2, 1, 1, false, false),
                new RequestVote(1, 3, 2, 1, 1, false, false));
    }

    @Test
    void requestVoteIsSentOnlyAfterTheVoteForSelfIsDurable() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        n.tickUntilCampaign();

        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), RequestVote.class)).isEmpty();
        assertThat(ofType(ready.messagesAfterSync(), RequestVote.class)).hasSize(2);
        assertThat(ready.hardState().votedFor()).isEqualTo(1);
    }

    @Test
    void voteIsGrantedAtMostOncePerTerm() {
        NodeHarness n = bootstrap(1, 1, 2, 3);

        Ready first = n.deliverAndDrain(vote(2, 1, 2, 1, 1));
        Ready second = n.deliverAndDrain(vote(3, 1, 2, 1, 1));

        assertThat(first.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 2, true, false));
        assertThat(first.hardState()).isEqualTo(new HardState(2, 2));
        assertThat(second.messagesAfterSync()).containsExactly(new VoteResponse(1, 3, 2, false, false));
        assertThat(n.storage.hardState()).isEqualTo(new HardState(2, 2));
    }

    @Test
    void repeatedRequestFromTheSameCandidateIsGrantedAgain() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.deliverAndDrain(vote(2, 1, 2, 1, 1));

        Ready again = n.deliverAndDrain(vote(2, 1, 2, 1, 1));

        assertThat(again.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 2, true, false));
    }

    @Test
    void voteResponseIsSentOnlyAfterTheVoteIsDurable() {
        NodeHarness n = bootstrap(1, 1, 2, 3);

        Ready ready = n.deliverAndDrain(vote(2, 1, 2, 1, 1));

        assertThat(ready.messages()).isEmpty();
        assertThat(ready.messagesAfterSync()).hasSize(1);
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 2));
    }

    @Test
    void voteIsDeniedToCandidateWhoseLastTermIsOlder() {
        // Our log: 1/1 2/2 3/3. The candidate's is longer but ends in term 2.
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 2, 3);

        Ready ready = n.deliverAndDrain(vote(2, 1, 4, 10, 2));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 4, false, false));
        assertThat(n.storage.hardState()).isEqualTo(new HardState(4, 0));
    }

    @Test
    void voteIsDeniedToCandidateWithSameLastTermButShorterLog() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 3, 3);

        Ready ready = n.deliverAndDrain(vote(2, 1, 4, 2, 3));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 4, false, false));
    }

    @Test
    void voteIsGrantedToCandidateWithNewerLastTermEvenIfShorter() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 2, 2, 2, 2);

        Ready ready = n.deliverAndDrain(vote(2, 1, 4, 2, 3));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 4, true, false));
    }

    @Test
    void voteIsGrantedToCandidateWithEqualLog() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 3, 3);

        Ready ready = n.deliverAndDrain(vote(2, 1, 4, 3, 3));

        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 4, true, false));
        assertThat(ready.hardState()).isEqualTo(new HardState(4, 2));
    }

    static Stream<Arguments> messagesWithTermFive() {
        return Stream.of(
                Arguments.of("AppendEntries", heartbeat(3, 1, 5, 1, 1, 0), 3),
                Arguments.of("AppendResponse", AppendResponse.reject(3, 1, 5, 2, 0, 0, 0), 0),
                Arguments.of("VoteResponse", reject(3, 1, 5), 0),
                Arguments.of("pre-vote VoteResponse", new VoteResponse(3, 1, 5, false, true), 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messagesWithTermFive")
    void higherTermInAnyMessageMakesTheNodeAFollowerAndClearsItsVote(String kind, Message m, int leader) {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        n.winElection(); // leads in term 2, having voted for itself
        assertThat(n.storage.hardState()).isEqualTo(new HardState(2, 1));

        Ready ready = n.deliverAndDrain(m);

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.leader()).isEqualTo(leader);
        assertThat(ready.hardState()).isEqualTo(new HardState(5, 0));
    }

    @Test
    void higherTermVoteRequestMakesCandidateAFollowerThatMayVote() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        n.tickUntilCampaign();
        n.drain();

        Ready ready = n.deliverAndDrain(vote(2, 1, 5, 1, 1));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(ready.hardState()).isEqualTo(new HardState(5, 2));
        assertThat(ready.messagesAfterSync()).containsExactly(new VoteResponse(1, 2, 5, true, false));
    }

    @Test
    void staleTermAppendEntriesIsRejectedWithTheCurrentTerm() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 2);

        Ready ready = n.deliverAndDrain(heartbeat(2, 1, 2, 2, 2, 2));

        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.reject(1, 2, 3, 2, 0, 0, 0));
        assertThat(n.node.leader()).isEqualTo(RaftNode.NONE);
        assertThat(n.node.commitIndex()).isZero();
        assertThat(n.node.term()).isEqualTo(3);
    }

    @Test
    void staleTermVoteRequestIsIgnored() {
        NodeHarness n = withLog(config(1), new int[] {1, 2, 3}, 3, 0, 2);

        Ready ready = n.deliverAndDrain(vote(2, 1, 2, 5, 2));

        assertThat(allMessages(ready)).isEmpty();
        assertThat(n.storage.hardState()).isEqualTo(new HardState(3, 0));
    }

    @Test
    void staleTermVoteGrantsDoNotCount() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3, 4, 5);
        n.tickUntilCampaign(); // term 2
        n.drain();
        n.deliver(grant(2, 1, 2));
        n.drain();
        n.tickUntil(node -> node.term() == 3); // split vote: a new election in term 3
        n.drain();

        n.deliver(grant(3, 1, 2));
        n.deliver(grant(4, 1, 2));
        n.deliver(grant(5, 1, 2));
        n.drain();

        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        assertThat(n.node.term()).isEqualTo(3);
    }

    @Test
    void candidateWithVotesFromAMajorityBecomesLeader() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3, 4, 5);
        n.tickUntilCampaign();
        n.drain();

        n.deliverAndDrain(grant(2, 1, 2));
        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        n.deliverAndDrain(grant(3, 1, 2));

        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        assertThat(n.node.leader()).isEqualTo(1);
        assertThat(n.node.term()).isEqualTo(2);
    }

    @Test
    void duplicateVoteFromTheSameVoterCountsOnce() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3, 4, 5);
        n.tickUntilCampaign();
        n.drain();

        n.deliver(grant(2, 1, 2));
        n.deliver(grant(2, 1, 2));
        n.deliver(grant(2, 1, 2));
        n.drain();

        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
    }

    @Test
    void candidateWithRejectionsFromAMajorityBecomesFollower() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3, 4, 5);
        n.tickUntilCampaign();
        n.drain();

        n.deliver(reject(2, 1, 2));
        n.deliver(reject(3, 1, 2));
        n.drain();
        assertThat(n.node.role()).isEqualTo(Role.CANDIDATE);
        n.deliverAndDrain(reject(4, 1, 2));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.term()).isEqualTo(2);
        assertThat(n.storage.hardState()).isEqualTo(new HardState(2, 1));
    }

    @Test
    void candidateThatHearsALeaderOfItsTermBecomesItsFollower() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);
        n.tickUntilCampaign();
        n.drain();

        Ready ready = n.deliverAndDrain(heartbeat(3, 1, 2, 1, 1, 0));

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.leader()).isEqualTo(3);
        assertThat(ready.messages()).containsExactly(AppendResponse.success(1, 3, 2, 1, 0)); // its term is durable: at once
    }

    @Test
    void newLeaderAppendsANoopInItsTermAndSendsIt() {
        NodeHarness n = bootstrap(NO_PRE_VOTE, 1, 2, 3);

        Ready ready = n.winElection();

        LogEntry noop = new LogEntry(2, 2, EntryType.NOOP, Bytes.EMPTY);
        assertThat(ready.entries()).containsExactly(noop);
        assertThat(ofType(ready.messages(), AppendEntries.class)).containsExactly(
                new AppendEntries(1, 2, 2, 1, 1, List.of(noop), 0, 0),
                new AppendEntries(1, 3, 2, 1, 1, List.of(noop), 0, 0));
        assertThat(ready.role()).isEqualTo(new Ready.SoftState(Role.LEADER, 1, 2));
    }

    @Test
    void singleVoterElectsItselfAtItsFirstTimeout() {
        NodeHarness n = bootstrap(1, 1);

        int ticks = n.tickUntilCampaign();
        Ready ready = n.drain();

        assertThat(ticks).isBetween(ELECTION_TICKS, 2 * ELECTION_TICKS - 1);
        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        assertThat(ready.hardState()).isEqualTo(new HardState(2, 1));
        assertThat(allMessages(ready)).isEmpty();
    }

    @Test
    void grantingAVoteResetsTheElectionTimer() {
        // Term 2, no vote cast and no leader known; a twin with the same seed tells us the timeout.
        NodeHarness n = withLog(NO_PRE_VOTE, new int[] {1, 2, 3}, 2, 0);
        int timeout = withLog(NO_PRE_VOTE, new int[] {1, 2, 3}, 2, 0).tickUntilCampaign();
        n.tick(timeout - 1);

        n.deliverAndDrain(vote(2, 1, 2, 1, 1));
        n.tick(ELECTION_TICKS - 1);

        assertThat(n.node.role()).isEqualTo(Role.FOLLOWER);
        assertThat(n.node.term()).isEqualTo(2);
    }
}
