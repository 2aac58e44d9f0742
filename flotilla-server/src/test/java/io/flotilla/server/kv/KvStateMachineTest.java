package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.Bytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvStateMachineTest {
    private static final KvLimits LIMITS = new KvLimits(16, 64, 1000, 3, 5, 1000);
    private final KvStateMachine kv = machine(LIMITS);
    private long index;

    /** A store whose sessions start under {@code limits}' session limits (as if the log had set them). */
    private static KvStateMachine machine(KvLimits limits) {
        return new KvStateMachine(limits.sessions());
    }

    private static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    private Response write(long time, Request.Write write) {
        return kv.apply(++index, new KvCommand.Write(time, write));
    }

    private static Session session(long client, long seq) {
        return new Session(client, seq, 1);
    }

    private Response get(String key) {
        return kv.query(new Request.Get(b(key), false));
    }

    @Test
    void setGetDeleteAndCasFollowTheirContracts() {
        assertThat(get("k")).isEqualTo(Response.NOT_FOUND);
        assertThat(write(1, new Request.Set(new Session(1, 1, 1), b("k"), b("v1")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("v1")));
        assertThat(write(1, new Request.Cas(new Session(1, 2, 2), b("k"), Optional.of(b("other")), b("v2")))).isEqualTo(Response.CAS_MISMATCH);
        assertThat(write(1, new Request.Cas(new Session(1, 3, 3), b("k"), Optional.empty(), b("v2")))).isEqualTo(Response.CAS_MISMATCH);
        assertThat(write(1, new Request.Cas(new Session(1, 4, 4), b("k"), Optional.of(b("v1")), b("v2")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("v2")));
        assertThat(write(1, new Request.Delete(new Session(1, 5, 5), b("k")))).isEqualTo(Response.OK);
        assertThat(write(1, new Request.Delete(new Session(1, 6, 6), b("k")))).isEqualTo(Response.NOT_FOUND);
        assertThat(write(1, new Request.Cas(new Session(1, 7, 7), b("k"), Optional.empty(), b("new")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("new")));
    }

    @Test
    void manyKeysAreSetDeletedAndReadTogether() {
        assertThat(write(1, new Request.SetMany(session(1, 1), List.of(new Request.KeyValue(b("a"), b("1")),
                new Request.KeyValue(b("b"), b("2")), new Request.KeyValue(b("a"), b("3")))))).isEqualTo(Response.OK);
        assertThat(kv.query(new Request.GetMany(List.of(b("a"), b("b"), b("c")), false)))
                .as("a key named twice takes its last value").isEqualTo(new Response.Values(List.of(Optional.of(b("3")),
                        Optional.of(b("2")), Optional.empty())));
        assertThat(write(1, new Request.DeleteMany(session(1, 2), List.of(b("a"), b("c"), b("b"))))).isEqualTo(new Response.Count(2));
        assertThat(write(1, new Request.DeleteMany(session(1, 3), List.of(b("a"), b("b"))))).isEqualTo(Response.NOT_FOUND);
        assertThat(write(1, new Request.DeleteMany(session(1, 2).asRetry(), List.of(b("a")))))
                .as("a retry is answered from the session, which kept only that keys existed").isEqualTo(Response.OK);
    }

    @Test
    void aRetriedWriteIsAnsweredFromTheSessionAndNotAppliedTwice() {
        write(1, new Request.Set(session(7, 1), b("k"), b("a")));
        assertThat(write(1, new Request.Cas(session(7, 2), b("k"), Optional.of(b("a")), b("b")))).isEqualTo(Response.OK);
        write(1, new Request.Set(session(8, 1), b("k"), b("a"))); // another client resets it
        // The retry of seq 2 must not apply again (it would succeed, since the value is "a" again).
        assertThat(write(1, new Request.Cas(session(7, 2), b("k"), Optional.of(b("a")), b("b")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("a")));
    }

    @Test
    void acknowledgedOutcomesAreForgottenAndTheirRetriesRefused() {
        write(1, new Request.Set(session(7, 1), b("k"), b("a")));
        write(1, new Request.Set(new Session(7, 2, 2), b("k"), b("b")));
        Response stale = write(1, new Request.Set(new Session(7, 1, 1), b("k"), b("a")));
        assertThat(stale.code()).isEqualTo(Response.Code.INVALID);
        assertThat(get("k")).isEqualTo(new Response.Value(b("b")));
    }

    @Test
    void aRetryAfterTheSessionExpiredInLogTimeIsRefusedNotReapplied() {
        write(1_000, new Request.Set(session(7, 1), b("k"), b("a")));
        write(1_000, new Request.Cas(session(7, 2), b("k"), Optional.of(b("a")), b("b")));
        // Another client's write stamped 2001 ms moves log time past client 7's timeout (1000 ms).
        write(2_001, new Request.Set(session(8, 1), b("k"), b("a")));
        Response r = write(2_001, new Request.Cas(session(7, 2).asRetry(), b("k"), Optional.of(b("a")), b("b")));
        assertThat(r.code()).isEqualTo(Response.Code.SESSION_EXPIRED);
        assertThat(get("k")).isEqualTo(new Response.Value(b("a")));
    }

    @Test
    void aFirstAttemptReopensAnExpiredSessionButOlderRetriesStayRefused() {
        write(1_000, new Request.Set(session(7, 1), b("k"), b("a")));
        write(2_001, new Request.Set(session(8, 1), b("x"), b("y")));
        assertThat(write(2_001, new Request.Set(new Session(7, 3, 2), b("k"), b("c")))).isEqualTo(Response.OK);
        assertThat(write(2_001, new Request.Set(new Session(7, 2, 2).asRetry(), b("k"), b("b"))).code())
                .isEqualTo(Response.Code.SESSION_EXPIRED);
        assertThat(get("k")).isEqualTo(new Response.Value(b("c")));
    }

    @Test
    void writesOfOneSessionMayReachTheLogInAnyOrder() {
        // Seq 2 opened the session; the retry of seq 1 (its first attempt timed out) comes later.
        assertThat(write(1, new Request.Set(new Session(7, 2, 1), b("b"), b("2")))).isEqualTo(Response.OK);
        assertThat(write(1, new Request.Set(session(7, 1).asRetry(), b("a"), b("1")))).isEqualTo(Response.OK);
        assertThat(get("a")).isEqualTo(new Response.Value(b("1")));
    }

    @Test
    void aRetryOfAFirstWriteThatNeverReachedTheLogIsApplied() {
        assertThat(write(1, new Request.Set(session(7, 1).asRetry(), b("k"), b("v")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("v")));
    }

    @Test
    void forgottenSessionsSurviveASnapshot() throws IOException {
        write(1_000, new Request.Set(session(7, 1), b("k"), b("a")));
        write(2_001, new Request.Set(session(8, 1), b("x"), b("y"))); // client 7 expires
        KvStateMachine restored = machine(LIMITS);
        restored.restore(new ByteArrayInputStream(snapshot(kv)));
        assertThat(restored.apply(10, new KvCommand.Write(2_001, new Request.Set(session(7, 1).asRetry(), b("k"), b("b")))).code())
                .isEqualTo(Response.Code.SESSION_EXPIRED);
    }

    @Test
    void writesRefusedBeforeTheLogDoNotStopTheSessionFromStarting() {
        // Seq 1 was refused by a limit check and never reached the log; seq 2 acknowledges it.
        assertThat(write(1, new Request.Set(new Session(7, 2, 2), b("k"), b("v")))).isEqualTo(Response.OK);
    }

    @Test
    void logTimeNeverGoesBackEvenIfALeaderClockDoes() {
        write(5_000, new Request.Set(session(7, 1), b("k"), b("a")));
        write(3_000, new Request.Set(session(8, 1), b("x"), b("y"))); // a new leader with a slower clock
        write(6_001, new Request.Set(session(9, 1), b("z"), b("z")));
        assertThat(write(6_001, new Request.Set(session(7, 1).asRetry(), b("k"), b("b"))).code())
                .isEqualTo(Response.Code.SESSION_EXPIRED);
    }

    @Test
    void theLeastRecentlyUsedSessionIsDroppedBeyondTheLimit() {
        for (long client = 1; client <= 4; client++) {
            write(1, new Request.Set(session(client, 1), b("k" + client), b("v")));
        }
        assertThat(write(1, new Request.Set(session(1, 1).asRetry(), b("k"), b("v"))).code()).isEqualTo(Response.Code.SESSION_EXPIRED);
        assertThat(write(1, new Request.Set(session(4, 1).asRetry(), b("k"), b("v"))).code()).isEqualTo(Response.Code.OK);
    }

    @Test
    void snapshotsAreByteIdenticalForEqualStatesAndRestoreEverything() throws IOException {
        KvStateMachine other = machine(LIMITS);
        long i = 0;
        for (String key : new String[] {"b", "a", "c"}) {
            write(1, new Request.Set(session(1, ++i), b(key), b("v" + key)));
        }
        i = 0;
        long j = 0;
        for (String key : new String[] {"c", "b", "a"}) {
            other.apply(++j, new KvCommand.Write(1, new Request.Set(session(1, ++i), b(key), b("v" + key))));
        }
        // Same map, same sessions, different insertion order: the same bytes.
        assertThat(snapshot(kv)).isEqualTo(snapshot(other));

        KvStateMachine restored = machine(LIMITS);
        restored.restore(new ByteArrayInputStream(snapshot(kv)));
        assertThat(restored.query(new Request.Get(b("a"), false))).isEqualTo(new Response.Value(b("va")));
        assertThat(restored.size()).isEqualTo(3);
        // The sessions came along: a retry of seq 3 is answered, not applied.
        assertThat(restored.apply(10, new KvCommand.Write(1, new Request.Set(session(1, 3), b("c"), b("changed"))))).isEqualTo(Response.OK);
        assertThat(restored.query(new Request.Get(b("c"), false))).isEqualTo(new Response.Value(b("vc")));
    }

    @Test
    void aCorruptSnapshotIsRefusedWithoutAHugeAllocation() throws IOException {
        byte[] snap = snapshot(kv);
        byte[] bad = java.util.Arrays.copyOf(snap, snap.length + 8);
        // Claim 2^31-1 keys then a key of 2 GiB (after the version, log time and session limits).
        java.nio.ByteBuffer.wrap(bad).putInt(32, Integer.MAX_VALUE).putInt(36, Integer.MAX_VALUE);
        assertThatThrownBy(() -> machine(LIMITS).restore(new ByteArrayInputStream(bad)))
                .isInstanceOf(IOException.class).hasMessageContaining("ends inside a 2147483647-byte string");
    }

    /** Key and value limits are each node's own flags: a follower with smaller ones still installs the leader's snapshot. */
    @Test
    void aSnapshotWithValuesOverThisNodesOwnLimitsIsRestored() throws IOException {
        KvStateMachine leader = machine(new KvLimits(64, 256, 1000, 3, 5, 1000));
        leader.apply(1, new KvCommand.Write(1, new Request.Set(session(1, 1), b("k".repeat(40)), Bytes.wrap(new byte[200]))));

        KvStateMachine follower = machine(LIMITS); // keys up to 16 bytes, values up to 64
        follower.restore(new ByteArrayInputStream(snapshot(leader)));

        assertThat(follower.query(new Request.Get(b("k".repeat(40)), false))).isEqualTo(new Response.Value(Bytes.wrap(new byte[200])));
    }

    @Test
    void limitsRefuseOversizedKeysAndValuesWithReadableMessages() {
        assertThat(LIMITS.check(new Request.Set(session(1, 1), b("k".repeat(17)), b("v"))))
                .hasValueSatisfying(r -> assertThat(((Response.Failure) r).message()).contains("key is 17 bytes; the limit is 16"));
        assertThat(LIMITS.check(new Request.Set(session(1, 1), b("k"), Bytes.wrap(new byte[65]))))
                .hasValueSatisfying(r -> assertThat(r.code()).isEqualTo(Response.Code.INVALID));
        assertThat(LIMITS.check(new Request.Get(Bytes.EMPTY, false))).isPresent();
        assertThat(LIMITS.check(new Request.Set(session(1, 1), b("k"), b("v")))).isEmpty();
    }

    // Session limits: per-session cap, global budget, limits through the log, snapshot and replay.

    private Response set(long client, long seq, long ackedBelow, String key) {
        return write(1, new Request.Set(new Session(client, seq, ackedBelow), b(key), b("v" + seq)));
    }

    @Test
    void aSessionAtItsCapIsRefusedRatherThanTrimmedAndDuplicatesAreStillAnswered() {
        for (long seq = 1; seq <= 5; seq++) {
            assertThat(set(7, seq, 1, "k" + seq)).isEqualTo(Response.OK);
        }
        Response refused = set(7, 6, 1, "k6");
        assertThat(refused.code()).isEqualTo(Response.Code.UNAVAILABLE);
        assertThat(((Response.Failure) refused).message())
                .isEqualTo("session 7 holds 5 unacknowledged write outcomes, the most one session may hold (--max-session-outcomes);"
                        + " write 6 was not applied: retry it once earlier writes are answered");
        assertThat(get("k6")).isEqualTo(Response.NOT_FOUND);
        assertThat(kv.sessionOutcomes(7)).isEqualTo(5);
        assertThat(kv.outcomeCount()).isEqualTo(5);
        // The oldest outcome was kept: a retry of write 1 is answered from the table, not applied again.
        write(1, new Request.Set(session(8, 1), b("k1"), b("other")));
        assertThat(write(1, new Request.Set(session(7, 1).asRetry(), b("k1"), b("v1")))).isEqualTo(Response.OK);
        assertThat(get("k1")).isEqualTo(new Response.Value(b("other")));
    }

    @Test
    void acknowledgingFreesRoomAndTheRefusedWriteThenApplies() {
        for (long seq = 1; seq <= 5; seq++) {
            set(7, seq, 1, "k" + seq);
        }
        assertThat(set(7, 6, 1, "k6").code()).isEqualTo(Response.Code.UNAVAILABLE);
        // The retry carries a newer acknowledgement (writes 1 and 2 were answered meanwhile).
        assertThat(set(7, 6, 3, "k6")).isEqualTo(Response.OK);
        assertThat(kv.sessionOutcomes(7)).isEqualTo(4);
        assertThat(kv.outcomeCount()).isEqualTo(4);
        assertThat(get("k6")).isEqualTo(new Response.Value(b("v6")));
    }

    @Test
    void aClientThatNeverAcknowledgesCannotGrowItsSessionPastTheCap() {
        int applied = 0;
        for (long seq = 1; seq <= 1000; seq++) {
            Response r = set(7, seq, 1, "k" + seq);
            applied += r.equals(Response.OK) ? 1 : 0;
            assertThat(kv.sessionOutcomes(7)).isLessThanOrEqualTo(5);
        }
        assertThat(applied).isEqualTo(5);
        assertThat(kv.outcomeCount()).isEqualTo(5);
        assertThat(kv.size()).isEqualTo(5);
    }

    @Test
    void theGlobalBudgetRefusesFreshWritesButASessionHoldingNothingGetsThrough() {
        KvLimits limits = new KvLimits(16, 64, 1000, 10, 5, 6);
        KvStateMachine store = machine(limits);
        long[] i = {0};
        java.util.function.Function<Session, Response> send = s -> store.apply(++i[0], new KvCommand.Write(1, new Request.Set(s, b("k"), b("v"))));
        for (long seq = 1; seq <= 5; seq++) {
            send.apply(new Session(1, seq, 1));
        }
        assertThat(send.apply(new Session(2, 1, 1))).isEqualTo(Response.OK);
        assertThat(store.outcomeCount()).isEqualTo(6);
        Response refused = send.apply(new Session(2, 2, 1));
        assertThat(refused.code()).isEqualTo(Response.Code.UNAVAILABLE);
        assertThat(((Response.Failure) refused).message()).startsWith("the cluster holds 6 unacknowledged write outcomes")
                .contains("(--max-outcomes)").contains("write 2 of session 2 was not applied");
        // Duplicates are still answered at the budget.
        assertThat(send.apply(new Session(2, 1, 1).asRetry())).isEqualTo(Response.OK);
        // A new session, or one whose client acknowledged everything, may record one outcome.
        assertThat(send.apply(new Session(3, 1, 1))).isEqualTo(Response.OK);
        assertThat(send.apply(new Session(2, 2, 2))).isEqualTo(Response.OK);
        assertThat(store.outcomeCount()).isEqualTo(7);
        assertThat(send.apply(new Session(2, 3, 2)).code()).isEqualTo(Response.Code.UNAVAILABLE);
        // Client 1 acknowledges: the budget has room again.
        assertThat(send.apply(new Session(1, 6, 6))).isEqualTo(Response.OK);
        assertThat(store.outcomeCount()).isEqualTo(3);
        assertThat(send.apply(new Session(2, 3, 2))).isEqualTo(Response.OK);
    }

    @Test
    void forgottenSessionsGiveBackTheirOutcomes() {
        for (long seq = 1; seq <= 4; seq++) {
            set(7, seq, 1, "k");
        }
        write(2_001, new Request.Set(session(8, 1), b("x"), b("y"))); // client 7 expires
        assertThat(kv.outcomeCount()).isEqualTo(1);
        for (long client = 9; client <= 11; client++) {
            write(2_001, new Request.Set(session(client, 1), b("x"), b("y"))); // 3 sessions at most: client 8 goes
        }
        assertThat(kv.outcomeCount()).isEqualTo(3);
    }

    @Test
    void limitsFromTheLogDecideAtTheSameIndexWhateverEachNodeWasStartedWith() {
        // Two replicas: a state machine takes no flags of its node (whatever they were), only the log's limits count.
        KvStateMachine a = new KvStateMachine();
        KvStateMachine b = new KvStateMachine();
        KvCodec codec = new KvCodec();
        java.util.List<KvCommand> log = new java.util.ArrayList<>();
        for (long seq = 1; seq <= 4; seq++) {
            log.add(new KvCommand.Write(1, new Request.Set(new Session(7, seq, 1), b("k"), b("v" + seq))));
        }
        log.add(new KvCommand.Limits(new SessionLimits(60_000, 10, 5, 100)));
        for (long seq = 5; seq <= 8; seq++) {
            log.add(new KvCommand.Write(1, new Request.Set(new Session(7, seq, 1), b("k"), b("v" + seq))));
        }
        java.util.List<Response.Code> answersA = new java.util.ArrayList<>();
        java.util.List<Response.Code> answersB = new java.util.ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            KvCommand fromLog = codec.decode(codec.encode(log.get(i)));
            answersA.add(a.apply(i + 1, fromLog).code());
            answersB.add(b.apply(i + 1, fromLog).code());
        }
        assertThat(answersA).isEqualTo(answersB);
        // Defaults (10,000 per session) before index 5, then 5 per session: index 5 holds writes 1-4, so 5 applies and 6-8 are refused.
        assertThat(answersA).containsExactly(Response.Code.OK, Response.Code.OK, Response.Code.OK, Response.Code.OK, Response.Code.OK,
                Response.Code.OK, Response.Code.UNAVAILABLE, Response.Code.UNAVAILABLE, Response.Code.UNAVAILABLE);
        assertThat(a.sessionLimits()).isEqualTo(new SessionLimits(60_000, 10, 5, 100)).isEqualTo(b.sessionLimits());
        assertThat(a.sessionOutcomes(7)).isEqualTo(5).isEqualTo(b.sessionOutcomes(7));
    }

    @Test
    void lowerLimitsFromTheLogForgetSessionsBeyondTheNewCountButNeverDropAnOutcome() {
        for (long client = 1; client <= 3; client++) {
            for (long seq = 1; seq <= 4; seq++) {
                set(client, seq, 1, "k" + client);
            }
        }
        kv.apply(++index, new KvCommand.Limits(new SessionLimits(1000, 2, 2, 1000)));
        assertThat(write(1, new Request.Set(session(1, 1).asRetry(), b("k"), b("v"))).code()).isEqualTo(Response.Code.SESSION_EXPIRED);
        assertThat(kv.sessionOutcomes(3)).isEqualTo(4); // over the new cap of 2, yet kept
        assertThat(kv.outcomeCount()).isEqualTo(8);
        assertThat(set(3, 2, 1, "k3")).isEqualTo(Response.OK); // a duplicate
        assertThat(set(3, 5, 1, "k3").code()).isEqualTo(Response.Code.UNAVAILABLE);
        assertThat(set(3, 5, 4, "k3")).isEqualTo(Response.OK); // acknowledged down to 4 and 5
    }

    @Test
    void aSnapshotKeepsTheSessionTableItsTotalAndTheLimits() throws IOException {
        kv.apply(++index, new KvCommand.Limits(new SessionLimits(5000, 4, 3, 7)));
        for (long seq = 1; seq <= 4; seq++) {
            set(7, seq, 1, "k");
        }
        set(8, 1, 1, "x");
        KvStateMachine restored = new KvStateMachine(); // starts under the defaults: the snapshot's limits count
        restored.restore(new ByteArrayInputStream(snapshot(kv)));
        assertThat(restored.sessionLimits()).isEqualTo(new SessionLimits(5000, 4, 3, 7));
        assertThat(restored.outcomeCount()).isEqualTo(4);
        assertThat(restored.sessionOutcomes(7)).isEqualTo(3);
        assertThat(snapshot(restored)).isEqualTo(snapshot(kv));
        Request.Write refused = new Request.Set(new Session(7, 5, 1), b("x"), b("y")); // client 7 is at the cap of 3
        assertThat(restored.apply(100, new KvCommand.Write(1, refused)).code()).isEqualTo(Response.Code.UNAVAILABLE);
    }

    @Test
    void aVersion1SnapshotRestoresUnderTheInitialLimits() throws IOException {
        write(1, new Request.Set(session(7, 1), b("k"), b("v")));
        byte[] v2 = snapshot(kv);
        // Version 1 is version 2 without the 20 bytes of limits after the log time.
        byte[] v1 = new byte[v2.length - 20];
        java.nio.ByteBuffer.wrap(v1).putInt(1).put(v2, 4, 8).put(v2, 32, v2.length - 32);
        KvStateMachine restored = new KvStateMachine();
        restored.restore(new ByteArrayInputStream(v1));
        assertThat(restored.sessionLimits()).isEqualTo(SessionLimits.DEFAULTS);
        assertThat(restored.query(new Request.Get(b("k"), false))).isEqualTo(new Response.Value(b("v")));
        assertThat(restored.outcomeCount()).isEqualTo(1);
        assertThat(restored.apply(10, new KvCommand.Write(1, new Request.Set(session(7, 1).asRetry(), b("k"), b("w"))))).isEqualTo(Response.OK);
        assertThat(restored.query(new Request.Get(b("k"), false))).isEqualTo(new Response.Value(b("v")));
    }

    /**
     * Replicas fed the same log answer alike, whether they applied it all, or restored a snapshot
     * taken part way and replayed the rest: many clients, few acknowledgements, limits changing.
     */
    @Test
    void replicasAnswerAlikeFromTheLogOrFromASnapshotAndTheRest() throws IOException {
        java.util.Random random = new java.util.Random(42);
        java.util.List<KvCommand> log = new java.util.ArrayList<>();
        long[] nextSeq = new long[12];
        long[] acked = new long[12];
        java.util.Arrays.fill(nextSeq, 1);
        java.util.Arrays.fill(acked, 1);
        long time = 0;
        for (int i = 0; i < 3000; i++) {
            time += random.nextInt(40);
            if (random.nextInt(500) == 0) {
                log.add(new KvCommand.Limits(new SessionLimits(1 + random.nextInt(3000), 1 + random.nextInt(10),
                        1 + random.nextInt(20), 1 + random.nextInt(100))));
                continue;
            }
            int client = random.nextInt(12);
            long seq = random.nextInt(4) == 0 && nextSeq[client] > acked[client] // a retry, else a new write
                    ? acked[client] + random.nextInt((int) (nextSeq[client] - acked[client])) : nextSeq[client]++;
            if (random.nextInt(8) == 0) {
                acked[client] = Math.min(seq, acked[client] + random.nextInt(10));
            }
            Session session = new Session(client + 1, seq, Math.min(acked[client], seq), random.nextBoolean());
            log.add(new KvCommand.Write(time, new Request.Set(session, b("k" + random.nextInt(20)), b("v" + i))));
        }
        KvStateMachine whole = new KvStateMachine();
        KvStateMachine first = new KvStateMachine();
        java.util.List<Response> wholeAnswers = new java.util.ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            wholeAnswers.add(whole.apply(i + 1, log.get(i)));
            if (i < 1700) {
                first.apply(i + 1, log.get(i));
            }
        }
        KvStateMachine restored = new KvStateMachine();
        restored.restore(new ByteArrayInputStream(snapshot(first)));
        for (int i = 1700; i < log.size(); i++) {
            assertThat(restored.apply(i + 1, log.get(i))).as("answer at index %d", i + 1).isEqualTo(wholeAnswers.get(i));
        }
        assertThat(snapshot(restored)).isEqualTo(snapshot(whole));
        assertThat(restored.outcomeCount()).isEqualTo(whole.outcomeCount());
        assertThat(wholeAnswers).extracting(Response::code).contains(Response.Code.UNAVAILABLE, Response.Code.SESSION_EXPIRED);
    }

    private static byte[] snapshot(KvStateMachine machine) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        machine.snapshot().writeTo(out);
        return out.toByteArray();
    }
}
