package io.flotilla.core.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
    private static final RegisterModel MODEL = new RegisterModel();
    private static final String K = "k";

    private final List<Operation<RegisterOp, RegisterResult>> history = new ArrayList<>();

    // ---- histories that are linearizable -----------------------------------------------------

    @Test
    void sequentialHistoryPasses() {
        write(K, "a", 0, 1);
        read(K, "a", 2, 3);
        cas(K, "a", "b", RegisterResult.OK, 4, 5);
        cas(K, "a", "c", RegisterResult.MISMATCH, 6, 7);
        read(K, "b", 8, 9);

        assertThat(check().verdict()).isEqualTo(CheckResult.Verdict.LINEARIZABLE);
    }

    @Test
    void concurrentOperationsMayTakeEffectInEitherOrder() {
        write(K, "a", 0, 10);
        write(K, "b", 1, 11);
        read(K, "a", 2, 12); // b, then a: the read saw the later one
        read(K, "a", 13, 14);

        assertThat(check().isLinearizable()).isTrue();
    }

    @Test
    void readConcurrentWithWriteMaySeeOldOrNewValue() {
        write(K, "a", 0, 1);
        write(K, "b", 10, 20);
        read(K, "a", 11, 12);
        read(K, "b", 13, 14);
        read(K, "b", 21, 22);

        assertThat(check().isLinearizable()).isTrue();
    }

    @Test
    void unknownWriteThatTookEffectPasses() {
        read(K, null, 0, 1);
        unknownWrite(K, "a", 2);
        read(K, null, 3, 4); // not yet
        read(K, "a", 100, 101); // now it has

        assertThat(check().isLinearizable()).isTrue();
    }

    @Test
    void unknownWriteThatNeverTookEffectPasses() {
        write(K, "a", 0, 1);
        unknownWrite(K, "b", 2);
        read(K, "a", 50, 51);
        read(K, "a", 100, 101);

        assertThat(check().isLinearizable()).isTrue();
    }

    @Test
    void unknownCasMayMatchOrNot() {
        write(K, "a", 0, 1);
        history.add(Operation.unknown(history.size(), 9, new RegisterOp.Cas(K, "a", "b"), 2));
        read(K, "b", 10, 11);

        assertThat(check().isLinearizable()).isTrue();
    }

    @Test
    void keysAreCheckedIndependently() {
        write("x", "1", 0, 10);
        write("y", "2", 0, 10);
        read("x", "1", 11, 12);
        read("y", "2", 11, 12);

        CheckResult result = check();

        assertThat(result.isLinearizable()).isTrue();
        assertThat(result.partitions()).isEqualTo(2);
    }

    // ---- histories that are not --------------------------------------------------------------

    @Test
    void staleReadFails() {
        write(K, "a", 0, 1);
        int newer = write(K, "b", 2, 3);
        int stale = read(K, "a", 4, 5);

        CheckResult result = check();

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
        assertThat(result.offending()).contains(stale);
        assertThat(result.report()).contains("#" + stale, "#" + newer, "partition " + K);
    }

    @Test
    void readGoingBackInTimeFails() {
        write(K, "a", 0, 1);
        write(K, "b", 2, 20); // concurrent with both reads
        read(K, "b", 3, 4);
        int stale = read(K, "a", 5, 6);

        CheckResult result = check();

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
        assertThat(result.offending()).contains(stale);
    }

    @Test
    void lostAcknowledgedWriteFails() {
        int lost = write(K, "a", 0, 1);
        int read = read(K, null, 2, 3);

        CheckResult result = check();

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
        assertThat(result.offending()).contains(read);
        assertThat(result.report()).contains("#" + lost);
    }

    @Test
    void readOfValueNeverWrittenFails() {
        write(K, "a", 0, 1);
        int bogus = read(K, "zzz", 2, 3);

        CheckResult result = check();

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
        assertThat(result.offending()).containsExactly(bogus);
    }

    @Test
    void readOfFailedWriteFails() {
        history.add(Operation.failed(history.size(), 1, new RegisterOp.Write(K, "a"), 0, 1));
        int read = read(K, "a", 2, 3);

        assertThat(check().offending()).containsExactly(read);
    }

    @Test
    void casAppliedTwiceFails() {
        write(K, "a", 0, 1);
        int first = cas(K, "a", "b", RegisterResult.OK, 2, 10);
        int second = cas(K, "a", "b", RegisterResult.OK, 3, 11); // a retry that took effect too
        read(K, "b", 12, 13);

        CheckResult result = check();

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
        assertThat(result.offending()).containsAnyOf(first, second);
        assertThat(result.report()).contains("#" + first, "#" + second);
    }

    @Test
    void unknownWriteSeenAndThenUnseenFails() {
        unknownWrite(K, "a", 0);
        read(K, "a", 10, 11);
        int goneAgain = read(K, null, 12, 13);

        assertThat(check().offending()).contains(goneAgain);
    }

    @Test
    void onlyTheBrokenKeyIsReported() {
        write("good", "1", 0, 1);
        read("good", "1", 2, 3);
        write("bad", "1", 0, 1);
        int stale = read("bad", null, 2, 3);

        CheckResult result = check();

        assertThat(result.offending()).containsExactly(stale);
        assertThat(result.report()).contains("partition bad").doesNotContain("partition good");
    }

    // ---- budget ------------------------------------------------------------------------------

    @Test
    void exhaustedBudgetIsUndecidedNotWrong() {
        for (int i = 0; i < 12; i++) {
            write(K, "v" + i, 0, 100); // all concurrent: many orders to try
        }
        read(K, "nope", 101, 102);

        CheckResult result = LinearizabilityChecker.check(MODEL, history, 50);

        assertThat(result.verdict()).isEqualTo(CheckResult.Verdict.UNDECIDED);
        assertThat(result.report()).contains("budget");
    }

    @Test
    void manyConcurrentWritesAreDecidedQuicklyThanksToMemoisation() {
        for (int i = 0; i < 14; i++) {
            write(K, "v" + i, 0, 100); // 14! orders, but only 2^14 * 14 configurations
        }
        read(K, "v11", 101, 102);
        CheckResult ok = check();
        read(K, "v3", 103, 104);
        CheckResult bad = check();

        assertThat(ok.isLinearizable()).isTrue();
        assertThat(bad.verdict()).isEqualTo(CheckResult.Verdict.NOT_LINEARIZABLE);
    }

    // ---- helpers -----------------------------------------------------------------------------

    private CheckResult check() {
        return LinearizabilityChecker.check(MODEL, history);
    }

    private int write(String key, String value, long invoked, long responded) {
        return add(new RegisterOp.Write(key, value), RegisterResult.OK, invoked, responded);
    }

    private int read(String key, String value, long invoked, long responded) {
        return add(new RegisterOp.Read(key), RegisterResult.value(value), invoked, responded);
    }

    private int cas(String key, String expected, String value, RegisterResult result, long invoked, long responded) {
        return add(new RegisterOp.Cas(key, expected, value), result, invoked, responded);
    }

    private void unknownWrite(String key, String value, long invoked) {
        history.add(Operation.unknown(history.size(), 9, new RegisterOp.Write(key, value), invoked));
    }

    private int add(RegisterOp op, RegisterResult result, long invoked, long responded) {
        int id = history.size();
        history.add(Operation.ok(id, id % 3, op, result, invoked, responded));
        return id;
    }
}
