package io.flotilla.core.protocol;

import static io.flotilla.core.protocol.NodeHarness.HEARTBEAT_TICKS;
import static io.flotilla.core.protocol.NodeHarness.ack;
import static io.flotilla.core.protocol.NodeHarness.append;
import static io.flotilla.core.protocol.NodeHarness.bootstrap;
import static io.flotilla.core.protocol.NodeHarness.config;
import static io.flotilla.core.protocol.NodeHarness.entries;
import static io.flotilla.core.protocol.NodeHarness.heartbeat;
import static io.flotilla.core.protocol.NodeHarness.leader;
import static io.flotilla.core.protocol.NodeHarness.ofType;
import static io.flotilla.core.protocol.NodeHarness.withLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.LogEntry;
import io.flotilla.core.MemoryStorage;
import io.flotilla.core.NodeHaltedException;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.AppendResponse;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Log replication: AppendEntries (Raft Figure 2, §5.3), with batching, pipelining and fast backtracking. */
class ReplicationTest {
    private static final int[] VOTERS = {1, 2, 3};

    // ---- the follower's side -----------------------------------------------------------------

    @Test
    void appendEntriesIsRejectedWhenTheFollowerLacksPrevLogIndex() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0); // log: 1/1

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 3, 2, entries(4, 2), 0));

        // The hint: the follower's last index at or below 3 with a term at most 2 is 1, in term 1.
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.reject(2, 1, 2, 3, 1, 1, 0));
        assertThat(ready.entries()).isEmpty();
        assertThat(n.logTerms()).containsExactly(1L);
    }

    @Test
    void appendEntriesIsRejectedWhenTheTermAtPrevLogIndexDiffers() {
        NodeHarness n = withLog(config(2), VOTERS, 3, 0, 2, 2); // log: 1/1 2/2 3/2

        Ready ready = n.deliverAndDrain(append(1, 2, 3, 3, 3, entries(4, 3), 0));

        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.reject(2, 1, 3, 3, 3, 2, 0));
        assertThat(ready.entries()).isEmpty();
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L);
    }

    @Test
    void matchingAppendEntriesAppendsTheEntriesAndAcknowledgesTheLastNewIndex() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2, 2), 0));

        assertThat(ready.entries()).isEqualTo(entries(2, 2, 2));
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 2, 3, 0));
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L);
        assertThat(n.node.leader()).isEqualTo(1);
    }

    @Test
    void followerAcknowledgesEntriesOnlyAfterTheyAreDurable() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2), 0));

        assertThat(ready.messages()).isEmpty();
        assertThat(ready.messagesAfterSync()).hasSize(1);
        assertThat(ready.entries()).hasSize(1); // written and synced before messagesAfterSync go out
    }

    @Test
    void conflictingSuffixIsTruncatedAndReplaced() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0, 2, 2, 2); // 1/1 2/2 3/2 4/2

        Ready ready = n.deliverAndDrain(append(1, 2, 3, 2, 2, entries(3, 3), 0));

        assertThat(ready.entries()).isEqualTo(entries(3, 3));
        assertThat(n.logTerms()).containsExactly(1L, 2L, 3L);
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 3, 3, 0));
    }

    @Test
    void entriesTheFollowerAlreadyHasAreNotWrittenAgain() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0, 2, 2);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2, 2), 0));

        assertThat(ready.entries()).isEmpty();
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 2, 3, 0));
    }

    @Test
    void delayedAppendEntriesDoesNotTruncateLaterEntries() {
        // Figure 2 rule 3 deletes only on a conflict: an old, reordered message must not cut the log.
        NodeHarness n = withLog(config(2), VOTERS, 2, 0, 2, 2, 2);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2), 0));

        assertThat(ready.entries()).isEmpty();
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L, 2L);
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 2, 2, 0));
    }

    @Test
    void conflictAtOrBelowTheCommitIndexIsRefused() {
        MemoryStorage storage = new MemoryStorage();
        storage.bootstrap(ClusterConfig.of(1, 2, 3));
        storage.append(entries(2, 2, 2));
        RaftLog log = new RaftLog(storage);
        log.commitTo(3);

        assertThatThrownBy(() -> log.appendFromLeader(1, entries(2, 2, 3)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("committed index 3");
        assertThat(log.lastIndex()).isEqualTo(3);
        assertThat(log.term(3)).isEqualTo(2);
    }

    @Test
    void conflictAboveTheCommitIndexIsReplaced() {
        MemoryStorage storage = new MemoryStorage();
        storage.bootstrap(ClusterConfig.of(1, 2, 3));
        storage.append(entries(2, 2, 2));
        RaftLog log = new RaftLog(storage);
        log.commitTo(2);

        assertThat(log.appendFromLeader(1, entries(2, 2, 3, 3))).isEqualTo(3);
        assertThat(log.unstableEntries()).isEqualTo(entries(3, 3, 3));
        assertThat(log.term(3)).isEqualTo(3);
        assertThat(log.lastIndex()).isEqualTo(4);
    }

    @Test
    void appendEntriesFromBelowTheCommitIndexIsCheckedFromTheCommitIndex() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0, 2, 2);
        n.deliverAndDrain(heartbeat(1, 2, 2, 3, 2, 3)); // commit 3
        assertThat(n.node.commitIndex()).isEqualTo(3);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2, 2, 2), 3));

        assertThat(ready.entries()).isEqualTo(entries(4, 2));
        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 2, 4, 0));
    }

    @Test
    void followerCommitsUpToTheLeadersCommitIndex() {
        NodeHarness n = withLog(config(2), VOTERS, 2, 0);

        Ready ready = n.deliverAndDrain(append(1, 2, 2, 1, 1, entries(2, 2, 2), 2));

        assertThat(n.node.commitIndex()).isEqualTo(2);
        assertThat(ready.committed()).extracting(LogEntry::index).containsExactly(1L, 2L);
    }

    @Test
    void followerCommitIndexIsCappedAtTheLastEntryKnownToMatchTheLeader() {
        // Entries 3 and 4 came from an old leader; this heartbeat vouches only for the log up to 2.
        NodeHarness n = withLog(config(2), VOTERS, 2, 0, 2, 2, 2);

        n.deliverAndDrain(heartbeat(1, 2, 3, 2, 2, 4));

        assertThat(n.node.commitIndex()).isEqualTo(2);
    }

    // ---- the leader's side -------------------------------------------------------------------

    @Test
    void newLeaderProbesEachFollowerWithOneAppendEntriesAtATime() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        Ready won = n.winElection();
        assertThat(ofType(won.messages(), AppendEntries.class, 2)).hasSize(1);

        n.propose("a");
        n.propose("b");
        Ready ready = n.drain();

        assertThat(ready.entries()).hasSize(2);
        assertThat(ofType(ready.messages(), AppendEntries.class)).isEmpty(); // the probes are unanswered
        assertThat(n.progressState(2)).isEqualTo(Progress.State.PROBE);
    }

    @Test
    void successfulProbeSwitchesTheFollowerToReplicate() {
        NodeHarness n = bootstrap(1, 1, 2, 3);
        n.winElection();
        n.propose("a");
        n.drain();

        Ready ready = n.deliverAndDrain(ack(2, 1, 2, 2));

        assertThat(n.progressState(2)).isEqualTo(Progress.State.REPLICATE);
        assertThat(n.matchIndex(2)).isEqualTo(2);
        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::prevLogIndex, ae -> ae.entries().size())
                .containsExactly(tuple(2L, 1));
    }

    @Test
    void proposalsBetweenTwoReadyCallsGoOutInOneAppendEntriesPerFollower() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        for (int i = 0; i < 10; i++) {
            n.propose("c" + i);
        }
        Ready ready = n.drain();

        assertThat(ready.entries()).hasSize(10);
        for (int follower : List.of(2, 3)) {
            List<AppendEntries> sent = ofType(ready.messages(), AppendEntries.class, follower);
            assertThat(sent).hasSize(1);
            assertThat(sent.get(0).prevLogIndex()).isEqualTo(2);
            assertThat(sent.get(0).entries()).isEqualTo(ready.entries());
        }
    }

    @Test
    void batchesAreBoundedByMaxBatchEntries() {
        NodeHarness n = leader(config(1).withBatching(64, 1 << 20, 4), 1, 2, 3);

        for (int i = 0; i < 10; i++) {
            n.propose("c" + i);
        }
        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::prevLogIndex, ae -> ae.entries().size())
                .containsExactly(
                        tuple(2L, 4),
                        tuple(6L, 4),
                        tuple(10L, 2));
    }

    @Test
    void batchesAreBoundedByMaxBatchBytes() {
        // Each entry costs 100 payload bytes + 24: two fit in 300 bytes, three do not.
        NodeHarness n = leader(config(1).withBatching(64, 300, 4096), 1, 2, 3);

        for (int i = 0; i < 5; i++) {
            n.node.propose(Bytes.wrap(new byte[100]));
        }
        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(ae -> ae.entries().size())
                .containsExactly(2, 2, 1);
    }

    @Test
    void entryLargerThanMaxBatchBytesGoesOutAlone() {
        NodeHarness n = leader(config(1).withBatching(64, 300, 4096), 1, 2, 3);

        n.node.propose(Bytes.wrap(new byte[1000]));
        n.propose("small");
        Ready ready = n.drain();

        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(ae -> ae.entries().size())
                .containsExactly(1, 1);
    }

    @Test
    void pipelineHoldsAtMostMaxInflightUnacknowledgedAppendEntries() {
        NodeHarness n = leader(config(1).withBatching(3, 1 << 20, 1), 1, 2, 3);

        for (int i = 0; i < 5; i++) {
            n.propose("c" + i); // indexes 3..7
        }
        Ready first = n.drain();
        Ready afterAck = n.deliverAndDrain(ack(2, 1, 2, 3));

        assertThat(ofType(first.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::lastIndex).containsExactly(3L, 4L, 5L);
        assertThat(ofType(afterAck.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::lastIndex).containsExactly(6L);
        assertThat(ofType(afterAck.messages(), AppendEntries.class, 3)).isEmpty(); // its window is still full
    }

    @Test
    void afterARejectionTheLeaderProbesOneAppendEntriesAtATime() {
        NodeHarness n = leader(config(1).withBatching(64, 1 << 20, 1), 1, 2, 3);
        for (int i = 0; i < 3; i++) {
            n.propose("c" + i); // indexes 3..5, one message each
        }
        n.drain();

        // The message carrying 3 was lost: the follower rejects the one anchored at 3.
        Ready probe = n.deliverAndDrain(AppendResponse.reject(2, 1, 2, 3, 2, 2, 0));
        n.propose("d");
        Ready whileProbing = n.drain();

        assertThat(n.progressState(2)).isEqualTo(Progress.State.PROBE);
        assertThat(ofType(probe.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::prevLogIndex).containsExactly(2L);
        assertThat(ofType(whileProbing.messages(), AppendEntries.class, 2)).isEmpty();
        assertThat(ofType(whileProbing.messages(), AppendEntries.class, 3)).hasSize(1);
    }

    @Test
    void answeredProbeResumesStreaming() {
        NodeHarness n = leader(config(1).withBatching(64, 1 << 20, 1), 1, 2, 3);
        for (int i = 0; i < 3; i++) {
            n.propose("c" + i);
        }
        n.drain();
        n.deliverAndDrain(AppendResponse.reject(2, 1, 2, 3, 2, 2, 0));

        Ready ready = n.deliverAndDrain(ack(2, 1, 2, 3));

        assertThat(n.progressState(2)).isEqualTo(Progress.State.REPLICATE);
        assertThat(ofType(ready.messages(), AppendEntries.class, 2))
                .extracting(AppendEntries::lastIndex).containsExactly(4L, 5L);
    }

    @Test
    void staleRejectionIsIgnored() {
        NodeHarness n = leader(config(1), 1, 2, 3);
        n.propose("a");
        n.drain();
        n.deliverAndDrain(ack(2, 1, 2, 3));

        Ready ready = n.deliverAndDrain(AppendResponse.reject(2, 1, 2, 2, 1, 1, 0)); // about index 2, long matched

        assertThat(n.progressState(2)).isEqualTo(Progress.State.REPLICATE);
        assertThat(n.matchIndex(2)).isEqualTo(3);
        assertThat(ofType(ready.messages(), AppendEntries.class, 2)).isEmpty();
    }

    @Test
    void leaderCountsItselfOnlyOnceItsOwnEntriesAreDurable() {
        NodeHarness n = bootstrap(1, 1); // a single voter: only its own disk counts
        n.tickUntilCampaign();
        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        assertThat(n.node.commitIndex()).isZero(); // its no-op 2/2 is not durable yet

        Ready ready = n.node.ready();
        assertThat(ready.entries()).extracting(LogEntry::index).containsExactly(2L);
        assertThat(ready.committed()).isEmpty();
        n.storage.append(ready.entries());
        n.storage.saveHardState(ready.hardState());
        n.node.advance(ready);

        assertThat(n.node.commitIndex()).isEqualTo(2);
        assertThat(n.drain().committed()).extracting(LogEntry::index).containsExactly(1L, 2L);
    }

    @Test
    void leaderProposalCommitsOnlyAfterAdvance() {
        NodeHarness n = leader(config(1), 1);
        n.propose("x");

        Ready ready = n.node.ready();
        assertThat(ready.committed()).isEmpty();
        assertThat(n.node.commitIndex()).isEqualTo(2);
        n.storage.append(ready.entries());
        n.node.advance(ready);

        assertThat(n.node.commitIndex()).isEqualTo(3);
    }

    @Test
    void leaderSendsAHeartbeatEveryHeartbeatInterval() {
        NodeHarness n = leader(config(1), 1, 2, 3);

        n.tick(HEARTBEAT_TICKS - 1);
        Ready quiet = n.drain();
        n.tick(1);
        Ready ready = n.drain();

        assertThat(quiet.messages()).isEmpty();
        assertThat(ready.messages()).containsExactly(
                new AppendEntries(1, 2, 2, 2, 2, List.of(), 2, 0),
                new AppendEntries(1, 3, 2, 2, 2, List.of(), 2, 0));
    }

    @Test
    void appendEntriesLostInTransitIsSentAgain() {
        Network net = Network.of(3);
        net.elect(1);
        AtomicBoolean lost = new AtomicBoolean();
        net.drop(m -> m instanceof AppendEntries ae && ae.to() == 2 && !ae.entries().isEmpty()
                && lost.compareAndSet(false, true));
        net.propose(1, "x");
        assertThat(net.node(2).log()).hasSize(2); // 1/1 and the no-op; "x" never arrived

        net.healAll();
        net.run(5 * HEARTBEAT_TICKS);

        assertThat(net.node(2).log()).isEqualTo(net.node(1).log());
        assertThat(net.raft(2).commitIndex()).isEqualTo(3);
    }

    @Test
    void heartbeatLostInTransitDoesNotStallAProbingFollower() {
        Network net = Network.of(3);
        net.drop(m -> m instanceof AppendEntries ae && ae.to() == 2); // the first probe is lost
        net.elect(1);
        assertThat(net.node(2).log()).hasSize(1);

        net.healAll();
        net.run(HEARTBEAT_TICKS);

        assertThat(net.node(2).log()).isEqualTo(net.node(1).log());
    }

    // ---- fast backtracking -------------------------------------------------------------------

    @Test
    void fastBacktrackingSkipsTheFollowersStaleTermInOneRoundTrip() {
        // Leader: 1/1 then 50 entries of term 3. Follower: 1/1 then 100 entries of term 2 from a deposed leader.
        long[] leaderLog = terms(3, 50);
        long[] followerLog = terms(2, 100);

        assertThat(rejectionsToRepair(3, leaderLog, 2, followerLog, true)).isEqualTo(1);
        assertThat(rejectionsToRepair(3, leaderLog, 2, followerLog, false)).isEqualTo(50); // one index at a time
    }

    @Test
    void fastBacktrackingSkipsTermsTheLeaderNeverHadInOneRoundTrip() {
        // Leader: 1/1 then 20 entries of term 2. Follower: 1/1, 5 of term 2, then 30 of term 4 (never committed).
        long[] leaderLog = terms(2, 20);
        long[] followerLog = LongStream.concat(LongStream.of(terms(2, 5)), LongStream.of(terms(4, 30))).toArray();

        assertThat(rejectionsToRepair(4, leaderLog, 4, followerLog, true)).isEqualTo(1);
        assertThat(rejectionsToRepair(4, leaderLog, 4, followerLog, false)).isEqualTo(15);
    }

    /**
     * Node 1 (with node 3 holding the same log) is elected and repairs node 2's divergent log; returns
     * the AppendEntries rejections this took. Without hints, every rejection is rewritten in transit to
     * say only "not at this index", as a leader that backs off one index at a time would treat it.
     */
    private static int rejectionsToRepair(long leaderTerm, long[] leaderLog, long followerTerm, long[] followerLog,
                                          boolean hints) {
        Network net = new Network()
                .add(withLog(config(1), VOTERS, leaderTerm, 0, leaderLog))
                .add(withLog(config(2), VOTERS, followerTerm, 0, followerLog))
                .add(withLog(config(3), VOTERS, leaderTerm, 0, leaderLog));
        if (!hints) {
            net.rewrite(m -> m instanceof AppendResponse r && !r.success()
                    ? AppendResponse.reject(r.from(), r.to(), r.term(), r.index(), r.index() - 1, 0, r.round())
                    : m);
        }
        net.elect(1);

        assertThat(net.node(2).log()).isEqualTo(net.node(1).log());
        return (int) net.delivered(AppendResponse.class).stream()
                .filter(r -> r.from() == 2 && !r.success())
                .count();
    }

    private static long[] terms(long term, int count) {
        long[] out = new long[count];
        Arrays.fill(out, term);
        return out;
    }
    // ---- lost or contradicted state ----------------------------------------------------------

    @Test
    void aLeaderContradictingACommittedPrevLogEntryHaltsTheFollowerInsteadOfAcknowledging() {
        NodeHarness n = withLog(config(2), VOTERS, 3, 0, 2, 2); // log: 1/1 2/2 3/2
        n.deliverAndDrain(heartbeat(1, 2, 3, 3, 2, 3));         // commit 3
        assertThat(n.node.commitIndex()).isEqualTo(3);

        assertThatThrownBy(() -> n.deliver(heartbeat(1, 2, 3, 2, 3, 3)))
                .isInstanceOf(NodeHaltedException.class)
                .hasMessageContaining("the leader (node 1, term 3) has term 3 at index 2, but this node committed index 2 in term 2");
    }

    @Test
    void aLeaderContradictingACommittedEntryItResendsHaltsTheFollower() {
        NodeHarness n = withLog(config(2), VOTERS, 3, 0, 2, 2); // log: 1/1 2/2 3/2
        n.deliverAndDrain(heartbeat(1, 2, 3, 3, 2, 3));

        assertThatThrownBy(() -> n.deliver(append(1, 2, 3, 1, 1, entries(2, 2, 3, 3), 3)))
                .isInstanceOf(NodeHaltedException.class)
                .hasMessageContaining("has term 3 at index 3, but this node committed index 3 in term 2");
    }

    @Test
    void entriesBelowTheCommitIndexThatAgreeAreSkippedAsBefore() {
        NodeHarness n = withLog(config(2), VOTERS, 3, 0, 2, 2);
        n.deliverAndDrain(heartbeat(1, 2, 3, 3, 2, 3));

        Ready ready = n.deliverAndDrain(append(1, 2, 3, 1, 1, entries(2, 2, 2, 3), 3));

        assertThat(ready.messagesAfterSync()).containsExactly(AppendResponse.success(2, 1, 3, 4, 0));
        assertThat(n.logTerms()).containsExactly(1L, 2L, 2L, 3L);
    }

    @Test
    void aFollowerThatLostAcknowledgedEntriesIsProbedAgainAndCatchesUpWithoutAnElection() {
        Network net = Network.of(3);
        net.elect(1);
        for (int i = 0; i < 5; i++) {
            net.propose(1, "x" + i);
        }
        long term = net.raft(1).term();
        long last = net.raft(1).status().lastIndex();
        assertThat(net.node(1).matchIndex(2)).isEqualTo(last);
        // Node 2 restarts with only the founding entry (its disk lost what it acknowledged), same term.
        net.add(withLog(config(2), VOTERS, term, 1));

        for (int heartbeats = 0; heartbeats < 3 && net.raft(2).status().lastIndex() < last; heartbeats++) {
            net.tick(1, HEARTBEAT_TICKS);
            net.stabilize();
        }

        assertThat(net.raft(2).status().lastIndex()).isEqualTo(last);
        assertThat(net.raft(2).commitIndex()).isEqualTo(last);
        assertThat(net.leader()).isEqualTo(1);
        assertThat(net.raft(1).term()).isEqualTo(term);
    }

    @Test
    void aRejectionBelowTheMatchIndexIsAnOldAnswerAndChangesNothing() {
        NodeHarness n = leader(config(1), VOTERS);
        n.propose("a");
        n.drain();
        n.acknowledgeAll();
        long match = n.matchIndex(2);

        n.deliverAndDrain(AppendResponse.reject(2, 1, n.node.term(), match - 1, 0, 0, 0));

        assertThat(n.progressState(2)).isEqualTo(Progress.State.REPLICATE);
        assertThat(n.matchIndex(2)).isEqualTo(match);
    }

    @Test
    void anAppendEntriesClaimingToLeadTheLeadersTermIsDroppedNotThrown() {
        NodeHarness n = leader(config(1), VOTERS);
        List<Long> before = n.logTerms();

        Ready ready = n.deliverAndDrain(append(2, 1, n.node.term(), 1, 1, entries(2, n.node.term()), 5));

        assertThat(n.node.role()).isEqualTo(Role.LEADER);
        assertThat(ready.messagesAfterSync()).isEmpty();
        assertThat(n.logTerms()).isEqualTo(before);
        assertThat(n.node.droppedInvalid()).isEqualTo(1);
    }

    @Test
    void anAcknowledgementBeyondTheLeadersLogIsDroppedAndCommitsNothing() {
        NodeHarness n = leader(config(1), VOTERS);
        long commit = n.node.commitIndex();

        n.deliver(ack(2, 1, n.node.term(), 1_000_000));
        n.deliver(ack(3, 1, n.node.term(), 1_000_000));
        n.drain();

        assertThat(n.node.commitIndex()).isEqualTo(commit);
        assertThat(n.node.droppedInvalid()).isEqualTo(2);
    }
}
