package io.flotilla.core.check;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether a concurrent history is linearizable with respect to a {@link Model}: whether
 * every operation can be given one instant between its invocation and its response such that the
 * operations, taken in that order, obey the model. This is the Wing &amp; Gong search with Lowe's
 * memoisation, as in Knossos and Porcupine (see {@link PartitionSearch}).
 *
 * <p>{@link Outcome#FAILED} operations are dropped; {@link Outcome#UNKNOWN} ones may take effect at
 * any time after their invocation or not at all. Each {@linkplain Model#partition partition} is
 * searched on its own, with its own step budget; a partition that exhausts it makes the verdict
 * {@link CheckResult.Verdict#UNDECIDED} instead of hanging the caller.
 */
public final class LinearizabilityChecker {
    /** Steps per partition: a few seconds of search at most. */
    public static final long DEFAULT_STEP_BUDGET = 2_000_000;
    private static final int MAX_REPORTED_OPERATIONS = 200;

    private LinearizabilityChecker() {
    }

    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history) {
        return check(model, history, DEFAULT_STEP_BUDGET);
    }

    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history, long stepBudget) {
        Map<Object, List<Operation<I, O>>> partitions = new LinkedHashMap<>();
        int checked = 0;
        for (Operation<I, O> op : history) {
            if (op.outcome() != Outcome.FAILED) {
                partitions.computeIfAbsent(model.partition(op.input()), k -> new ArrayList<>()).add(op);
                checked++;
            }
        }
        long steps = 0;
        StringBuilder report = new StringBuilder();
        Set<Integer> offending = new TreeSet<>();
        boolean undecided = false;
        boolean failed = false;
        for (Map.Entry<Object, List<Operation<I, O>>> p : partitions.entrySet()) {
            PartitionSearch<S, I, O> search = new PartitionSearch<>(model, p.getValue(), stepBudget);
            PartitionSearch.Result<I, O> r = search.run();
            steps += r.steps();
            switch (r.verdict()) {
                case LINEARIZABLE -> { }
                case UNDECIDED -> {
                    undecided = true;
                    report.append("Undecided: partition ").append(p.getKey()).append(" (").append(p.getValue().size())
                            .append(" operations) exhausted the budget of ").append(stepBudget).append(" steps.\n");
                }
                case NOT_LINEARIZABLE -> {
                    failed = true;
                    r.blocked().forEach(op -> offending.add(op.id()));
                    describeFailure(report, p.getKey(), p.getValue(), r);
                }
            }
        }
        CheckResult.Verdict verdict = failed ? CheckResult.Verdict.NOT_LINEARIZABLE
                : undecided ? CheckResult.Verdict.UNDECIDED : CheckResult.Verdict.LINEARIZABLE;
        if (verdict == CheckResult.Verdict.LINEARIZABLE) {
            report.append("Linearizable.\n");
        }
        return new CheckResult(verdict, checked, partitions.size(), steps, offending, report.toString());
    }

    private static <I, O> void describeFailure(StringBuilder out, Object partition, List<Operation<I, O>> ops,
                                               PartitionSearch.Result<I, O> r) {
        out.append("Not linearizable: partition ").append(partition).append(" (").append(ops.size()).append(" operations).\n");
        out.append("Longest linearizable prefix (").append(r.prefix().size()).append(" operations), in order:\n");
        appendOps(out, r.prefix());
        out.append("  leaving state ").append(r.stateAfterPrefix()).append('\n');
        if (!r.blocked().isEmpty()) {
            out.append("Then #").append(r.blocked().get(0).id())
                    .append(" must take effect by its response, but no order of the open operations allows it:\n");
            appendOps(out, r.blocked());
        }
        out.append("All operations of the partition, by invocation:\n");
        List<Operation<I, O>> byInvocation = new ArrayList<>(ops);
        byInvocation.sort((a, b) -> Long.compare(a.invokedAt(), b.invokedAt()));
        appendOps(out, byInvocation);
    }

    private static void appendOps(StringBuilder out, List<? extends Operation<?, ?>> ops) {
        int shown = Math.min(ops.size(), MAX_REPORTED_OPERATIONS);
        for (int i = 0; i < shown; i++) {
            out.append("  ").append(ops.get(i)).append('\n');
        }
        if (shown < ops.size()) {
            out.append("  ... and ").append(ops.size() - shown).append(" more\n");
        }
    }
}
