package io.flotilla.core.check;

import java.util.Set;

/**
 * What {@link LinearizabilityChecker} concluded.
 *
 * @param operations the operations checked (failed ones excluded)
 * @param steps      search steps spent, over all partitions
 * @param offending  on failure, the ids of the operation that could not take effect in time after
 *                   the longest linearizable prefix found, and of the other operations open then
 * @param report     a readable account; on failure it names the partition, the longest
 *                   linearizable prefix and the offending operations
 */
public record CheckResult(Verdict verdict, int operations, int partitions, long steps, Set<Integer> offending,
                          String report) {
    public enum Verdict {
        LINEARIZABLE,
        NOT_LINEARIZABLE,
        /** The search ran out of its step budget in some partition before deciding it. */
        UNDECIDED
    }

    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }

    @Override
    public String toString() {
        return verdict + " (" + operations + " operations, " + partitions + " partitions, " + steps + " steps)\n" + report;
    }
}
