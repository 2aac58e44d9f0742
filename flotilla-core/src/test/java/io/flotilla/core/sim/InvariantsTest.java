package io.flotilla.core.sim;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.Bytes;
import io.flotilla.core.ClusterConfig;
import io.flotilla.core.EntryType;
import io.flotilla.core.HardState;
import io.flotilla.core.LogEntry;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.SnapshotSink;
import io.flotilla.core.message.AppendEntries;
import io.flotilla.core.message.RequestVote;
import io.flotilla.core.protocol.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each invariant check, fed a corrupted history, must object; fed a sound one, must not. */
class InvariantsTest {
    private final Invariants invariants = new Invariants(3);

    @Test
    void aCommittedEntryMustBeOnEnoughVotersThatEveryQuorumHoldsOne() {
        ClusterConfig four = ClusterConfig.of(1, 2, 3, 4); // quorum 3: any 3 of 4 must include a holder

        assertThatCode(() -> Invariants.checkHeldByQuorum(four, 9, 2, 1, voter -> voter <= 2)).doesNotThrowAnyException();
        assertThatThrownBy(() -> Invariants.checkHeldByQuorum(four, 9, 2, 1, voter -> voter == 1))
                .isInstanceOf(InvariantViolation.class)
                .hasMessageContaining("entry 9 (term 2) is durable on 1 voters")
                .hasMessageContaining("at least 2 of them must hold it");
        assertThatThrownBy(() -> Invariants.checkHeldByQuorum(ClusterConfig.of(1, 2, 3), 9, 2, 1, voter -> voter == 1))
                .isInstanceOf(InvariantViolation.class);
    }

    @Test
    void twoLeadersInOneTermBreakElectionSafety() {
        SimStorage log = storage(1, 1);
        invariants.observe(1, Role.LEADER, 2, 0, 0, log);
        invariants.observe(2, Role.FOLLOWER, 2, 0, 0, log);

        assertThatThrownBy(() -> invariants.observe(2, Role.LEADER, 2, 0, 0, log))
                .isInstanceOf(InvariantViolation.class).hasMessageContaining("Election Safety");
    }

    @Test
    void aLeaderOfALaterTermMayNotReappear() {
        SimStorage log = storage(1, 1);
        invariants.observe(1, Role.LEADER, 2, 0, 0, log);

        assertThatCode(() -> invariants.observe(2, Role.LEADER, 3, 0, 0, log)).doesNotThrowAnyException();
        assertThatThrownBy(() -> invariants.observe(3, Role.LEADER, 2, 0, 0, log))
                .hasMessageContaining("Election Safety");
    }

    @Test
    void sameIndexAndTermWithDifferentPrefixesBreaksLogMatching() {
        SimStorage a = storage(1, 1);
        SimStorage b = storage(1, 1);
        a.observeAppends((e, previous, chain) -> invariants.appended(1, e, previous, chain));
        b.observeAppends((e, previous, chain) -> invariants.appended(2, e, previous, chain));
        a.append(List.of(entry(2, 2, "x"), entry(3, 3, "y")));

        assertThatThrownBy(() -> b.append(List.of(entry(2, 2, "DIFFERENT"), entry(3, 3, "y"))))
                .isInstanceOf(InvariantViolation.class).hasMessageContaining("Log Matching");
    }

    @Test
    void identicalLogsSatisfyLogMatching() {
        SimStorage a = storage(1, 1);
        SimStorage b = storage(1, 1);
        a.observeAppends((e, previous, chain) -> invariants.appended(1, e, previous, chain));
        b.observeAppends((e, previous, chain) -> invariants.appended(2, e, previous, chain));
        a.append(List.of(entry(2, 2, "x"), entry(3, 3, "y")));

        assertThatCode(() -> b.append(List.of(entry(2, 2, "x"), entry(3, 3, "y")))).doesNotThrowAnyException();
    }

    @Test
    void leaderMissingACommittedEntryBreaksLeaderCompleteness() {
        SimStorage full = storage(1, 1, 2);
        SimStorage shortLog = storage(1, 1);
        invariants.observe(1, Role.FOLLOWER, 2, 3, 0, full); // entry 3 committed, known in term 2

        assertThatThrownBy(() -> invariants.observe(2, Role.LEADER, 3, 0, 0, shortLog))
                .hasMessageContaining("Leader Completeness");
    }

    @Test
    void leaderWithADifferentCommittedEntryBreaksLeaderCompleteness() {
        SimStorage committed = storage(1, 1, 2);
        SimStorage other = new SimStorage();
        other.append(List.of(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 2, "other")));
        invariants.observe(1, Role.FOLLOWER, 2, 3, 0, committed);

        assertThatThrownBy(() -> invariants.observe(2, Role.LEADER, 3, 0, 0, other))
                .hasMessageContaining("Leader Completeness");
    }

    @Test
    void leaderOfTheSameTermNeedNotHoldWhatItsFollowerSawCommittedLater() {
        SimStorage log = storage(1, 1, 2);
        invariants.observe(1, Role.FOLLOWER, 2, 2, 0, log);

        assertThatCode(() -> invariants.observe(2, Role.LEADER, 2, 0, 0, storage(1, 1)))
                .doesNotThrowAnyException();
    }

    @Test
    void committingDifferentEntriesAtOneIndexBreaksStateMachineSafety() {
        SimStorage a = storage(1, 1, 2);
        SimStorage b = new SimStorage();
        b.append(List.of(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 3, "z")));
        invariants.observe(1, Role.FOLLOWER, 2, 3, 0, a);

        assertThatThrownBy(() -> invariants.observe(2, Role.FOLLOWER, 3, 3, 0, b))
                .hasMessageContaining("State Machine Safety");
    }

    @Test
    void applyingDifferentCommandsAtOneIndexBreaksStateMachineSafety() {
        invariants.applied(1, 2, Bytes.utf8("b"), "ok", storage(1, 1));
        SimStorage other = new SimStorage();
        other.append(List.of(entry(1, 1, "a"), entry(2, 2, "y")));

        assertThatThrownBy(() -> invariants.applied(2, 2, Bytes.utf8("y"), "ok", other))
                .hasMessageContaining("State Machine Safety");
    }

    @Test
    void applyingACommandTheLogDoesNotHoldIsCaught() {
        assertThatThrownBy(() -> invariants.applied(1, 2, Bytes.utf8("not b"), "ok", storage(1, 1)))
                .hasMessageContaining("Apply from log");
    }

    @Test
    void differentResultsOfOneCommandBreakDeterminism() {
        invariants.applied(1, 2, Bytes.utf8("b"), "ok", storage(1, 1));

        assertThatThrownBy(() -> invariants.applied(2, 2, Bytes.utf8("b"), "mismatch", storage(1, 1)))
                .hasMessageContaining("Deterministic apply");
    }

    @Test
    void aLeaderThatRewritesItsLogBreaksLeaderAppendOnly() {
        SimStorage log = storage(1, 2, 2);
        invariants.observe(1, Role.LEADER, 2, 0, 0, log);
        log.append(List.of(entry(4, 2, "d"))); // appending is fine
        invariants.observe(1, Role.LEADER, 2, 0, 0, log);

        log.append(List.of(entry(3, 2, "rewritten")));

        assertThatThrownBy(() -> invariants.observe(1, Role.LEADER, 2, 0, 0, log))
                .hasMessageContaining("Leader Append-Only");
    }

    @Test
    void commitGoingBackWithinAnIncarnationIsCaughtButNotAcrossARestart() {
        SimStorage log = storage(1, 1, 2);
        invariants.observe(1, Role.FOLLOWER, 2, 3, 0, log);

        assertThatThrownBy(() -> invariants.observe(1, Role.FOLLOWER, 2, 2, 0, log))
                .hasMessageContaining("Commit monotonic");
        invariants.restarted(1, 2);
        assertThatCode(() -> invariants.observe(1, Role.FOLLOWER, 2, 0, 0, log)).doesNotThrowAnyException();
    }

    @Test
    void termGoingBackIsCaught() {
        SimStorage log = storage(1);
        invariants.observe(1, Role.FOLLOWER, 5, 0, 0, log);

        assertThatThrownBy(() -> invariants.observe(1, Role.FOLLOWER, 4, 0, 0, log))
                .hasMessageContaining("Term monotonic");
    }

    @Test
    void sendingATermBeforeItIsDurableIsCaught() {
        AppendEntries heartbeat = new AppendEntries(1, 2, 7, 0, 0, List.of(), 0, 0);

        assertThatThrownBy(() -> invariants.sent(1, heartbeat, 6)).hasMessageContaining("Durable term");
        assertThatCode(() -> invariants.sent(1, new RequestVote(1, 2, 7, 0, 0, true, false), 6))
                .as("a pre-vote asks about a term nobody is in yet").doesNotThrowAnyException();
    }

    @Test
    void restartingBelowATermAlreadyToldIsCaught() {
        invariants.sent(1, new AppendEntries(1, 2, 7, 0, 0, List.of(), 0, 0), 7);

        assertThatThrownBy(() -> invariants.restarted(1, 6)).hasMessageContaining("Durable term");
    }

    // ---- snapshots ----------------------------------------------------------------------------

    private static final ClusterConfig VOTERS = ClusterConfig.of(1, 2, 3);

    /** A replica whose state is the list of commands it applied. */
    private static Invariants withReplica() {
        List<String> applied = new ArrayList<>();
        return new Invariants(3, new Invariants.Replica() {
            @Override
            public void apply(long index, Bytes command) {
                applied.add(new String(command.unsafeArray(), java.nio.charset.StandardCharsets.UTF_8));
            }

            @Override
            public Bytes state() {
                return Bytes.utf8(String.join(",", applied));
            }
        });
    }

    /** Like {@link #storage}, but every entry is reported to {@code checks} as written by {@code node}. */
    private static SimStorage observed(Invariants checks, int node, long... terms) {
        SimStorage s = new SimStorage();
        s.observeAppends((e, previous, chain) -> checks.appended(node, e, previous, chain));
        s.saveHardState(new HardState(terms.length == 0 ? 0 : terms[terms.length - 1], 0));
        for (int i = 0; i < terms.length; i++) {
            s.append(List.of(entry(i + 1, terms[i], String.valueOf((char) ('a' + i)))));
        }
        s.sync();
        return s;
    }

    private static void commitSnapshot(SimStorage s, SnapshotMeta meta) {
        try (SnapshotSink sink = s.beginSnapshot(meta)) {
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aSnapshotOfAnEntryNoLogHeldIsCaught() {
        observed(invariants, 1, 1, 1, 2);

        assertThatThrownBy(() -> invariants.snapshotCommitted(2, new SnapshotMeta(3, 3, VOTERS), Bytes.EMPTY))
                .isInstanceOf(InvariantViolation.class).hasMessageContaining("Snapshot from history");
        assertThatThrownBy(() -> invariants.snapshotCommitted(2, new SnapshotMeta(9, 2, VOTERS), Bytes.EMPTY))
                .hasMessageContaining("Snapshot from history");
    }

    @Test
    void aSnapshotThatContradictsTheCommittedLogIsCaught() {
        SimStorage committed = observed(invariants, 1, 1, 1, 2);
        invariants.observe(1, Role.FOLLOWER, 2, 3, 0, committed);
        SimStorage other = new SimStorage();
        other.observeAppends((e, previous, chain) -> invariants.appended(2, e, previous, chain));
        other.append(List.of(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 3, "z")));

        assertThatThrownBy(() -> invariants.snapshotCommitted(2, new SnapshotMeta(3, 3, VOTERS), Bytes.EMPTY))
                .hasMessageContaining("Snapshot agrees with commits");
    }

    @Test
    void aSnapshotMustHoldTheStateOfAReplicaThatAppliedTheLogUpToItsIndex() {
        Invariants checks = withReplica();
        observed(checks, 1, 1, 1, 2);

        assertThatCode(() -> checks.snapshotCommitted(1, new SnapshotMeta(2, 1, VOTERS), Bytes.utf8("a,b")))
                .doesNotThrowAnyException();
        assertThatCode(() -> checks.snapshotCommitted(2, new SnapshotMeta(3, 2, VOTERS), Bytes.utf8("a,b,c")))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> checks.snapshotCommitted(3, new SnapshotMeta(3, 2, VOTERS), Bytes.utf8("a,b")))
                .hasMessageContaining("Snapshot state");
        assertThatThrownBy(() -> checks.snapshotCommitted(3, new SnapshotMeta(1, 1, VOTERS), Bytes.utf8("a,b")))
                .as("an earlier index: the replica remembers the state there").hasMessageContaining("Snapshot state");
    }

    @Test
    void snapshotsOnTwoHistoriesAreCaughtEvenBeforeEitherIsSeenCommitted() {
        Invariants checks = withReplica();
        observed(checks, 1, 1, 1, 2);
        SimStorage other = new SimStorage();
        other.observeAppends((e, previous, chain) -> checks.appended(2, e, previous, chain));
        other.append(List.of(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 3, "z"), entry(4, 3, "w")));
        checks.snapshotCommitted(1, new SnapshotMeta(3, 2, VOTERS), Bytes.utf8("a,b,c"));

        assertThatThrownBy(() -> checks.snapshotCommitted(2, new SnapshotMeta(4, 3, VOTERS), Bytes.utf8("a,b,z,w")))
                .hasMessageContaining("Snapshot agrees with commits");
    }

    @Test
    void restoringAnOlderStateThanWasAppliedIsCaught() {
        SimStorage log = observed(invariants, 1, 1, 1);
        invariants.applied(1, 2, Bytes.utf8("b"), "ok", log);

        assertThatThrownBy(() -> invariants.restored(1, new SnapshotMeta(1, 1, VOTERS), Bytes.EMPTY))
                .hasMessageContaining("Restore order");
        assertThatCode(() -> invariants.restored(2, new SnapshotMeta(1, 1, VOTERS), Bytes.EMPTY)).doesNotThrowAnyException();
    }

    @Test
    void committedEntriesAreCheckedFromALogThatStartsAtASnapshot() {
        SimStorage committed = observed(invariants, 1, 1, 1, 2, 2);
        invariants.observe(1, Role.FOLLOWER, 2, 4, 0, committed);
        SimStorage restored = new SimStorage();
        restored.chainsFrom(invariants::chainOf);
        commitSnapshot(restored, new SnapshotMeta(3, 2, VOTERS));
        restored.resetToSnapshot(new SnapshotMeta(3, 2, VOTERS));
        restored.append(List.of(entry(4, 2, "d")));

        assertThatCode(() -> invariants.observe(2, Role.LEADER, 3, 4, 3, restored)).doesNotThrowAnyException();

        SimStorage wrong = new SimStorage();
        wrong.chainsFrom(invariants::chainOf);
        commitSnapshot(wrong, new SnapshotMeta(3, 2, VOTERS));
        wrong.resetToSnapshot(new SnapshotMeta(3, 2, VOTERS));
        wrong.append(List.of(entry(4, 2, "not d")));
        assertThatThrownBy(() -> invariants.observe(3, Role.FOLLOWER, 3, 4, 3, wrong)).hasMessageContaining("State Machine Safety");
    }

    /** A log with one entry per given term, each with its index as payload. */
    private static SimStorage storage(long... terms) {
        SimStorage s = new SimStorage();
        s.saveHardState(new HardState(terms.length == 0 ? 0 : terms[terms.length - 1], 0));
        for (int i = 0; i < terms.length; i++) {
            s.append(List.of(entry(i + 1, terms[i], String.valueOf((char) ('a' + i)))));
        }
        s.sync();
        return s;
    }

    private static LogEntry entry(long index, long term, String data) {
        return new LogEntry(index, term, EntryType.NORMAL, Bytes.utf8(data));
    }
}
