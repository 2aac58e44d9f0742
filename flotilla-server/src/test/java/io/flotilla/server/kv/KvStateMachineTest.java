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
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvStateMachineTest {
    private static final KvLimits LIMITS = new KvLimits(16, 64, 1000, 3, 5, 1000);
    private final KvStateMachine kv = new KvStateMachine(LIMITS);
    private long index;

    private static Bytes b(String s) {
        return Bytes.utf8(s);
    }

    private Response write(long time, Request write) {
        return kv.apply(++index, new KvCommand(time, write));
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
        assertThat(write(1, new Request.Set(session(1, 1), b("k"), b("v1")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("v1")));
        assertThat(write(1, new Request.Cas(session(1, 2), b("k"), Optional.of(b("other")), b("v2")))).isEqualTo(Response.CAS_MISMATCH);
        assertThat(write(1, new Request.Cas(session(1, 3), b("k"), Optional.empty(), b("v2")))).isEqualTo(Response.CAS_MISMATCH);
        assertThat(write(1, new Request.Cas(session(1, 4), b("k"), Optional.of(b("v1")), b("v2")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("v2")));
        assertThat(write(1, new Request.Delete(session(1, 5), b("k")))).isEqualTo(Response.OK);
        assertThat(write(1, new Request.Delete(session(1, 6), b("k")))).isEqualTo(Response.NOT_FOUND);
        assertThat(write(1, new Request.Cas(session(1, 7), b("k"), Optional.empty(), b("new")))).isEqualTo(Response.OK);
        assertThat(get("k")).isEqualTo(new Response.Value(b("new")));
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
        KvStateMachine restored = new KvStateMachine(LIMITS);
        restored.restore(new ByteArrayInputStream(snapshot(kv)));
        assertThat(restored.apply(10, new KvCommand(2_001, new Request.Set(session(7, 1).asRetry(), b("k"), b("b")))).code())
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
        KvStateMachine other = new KvStateMachine(LIMITS);
        long i = 0;
        for (String key : new String[] {"b", "a", "c"}) {
            write(1, new Request.Set(session(1, ++i), b(key), b("v" + key)));
        }
        i = 0;
        long j = 0;
        for (String key : new String[] {"c", "b", "a"}) {
            other.apply(++j, new KvCommand(1, new Request.Set(session(1, ++i), b(key), b("v" + key))));
        }
        // Same map, same sessions, different insertion order: the same bytes.
        assertThat(snapshot(kv)).isEqualTo(snapshot(other));

        KvStateMachine restored = new KvStateMachine(LIMITS);
        restored.restore(new ByteArrayInputStream(snapshot(kv)));
        assertThat(restored.query(new Request.Get(b("a"), false))).isEqualTo(new Response.Value(b("va")));
        assertThat(restored.size()).isEqualTo(3);
        // The sessions came along: a retry of seq 3 is answered, not applied.
        assertThat(restored.apply(10, new KvCommand(1, new Request.Set(session(1, 3), b("c"), b("changed"))))).isEqualTo(Response.OK);
        assertThat(restored.query(new Request.Get(b("c"), false))).isEqualTo(new Response.Value(b("vc")));
    }

    @Test
    void aCorruptSnapshotIsRefusedWithoutAHugeAllocation() throws IOException {
        byte[] snap = snapshot(kv);
        byte[] bad = java.util.Arrays.copyOf(snap, snap.length + 8);
        // Claim 2^31-1 keys then a key of 2 GiB.
        java.nio.ByteBuffer.wrap(bad).putInt(12, Integer.MAX_VALUE).putInt(16, Integer.MAX_VALUE);
        assertThatThrownBy(() -> new KvStateMachine(LIMITS).restore(new ByteArrayInputStream(bad)))
                .isInstanceOf(IOException.class).hasMessageContaining("limit");
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

    private static byte[] snapshot(KvStateMachine machine) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        machine.snapshot().writeTo(out);
        return out.toByteArray();
    }
}
