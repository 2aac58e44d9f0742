package io.flotilla.core.check;

import java.util.Optional;

/**
 * A sequential specification of an object, for {@link LinearizabilityChecker}: what each operation
 * may return in each state, and the state it leaves behind.
 *
 * <p>States are compared with {@code equals}/{@code hashCode} (the checker memoises the
 * configurations it has explored), so they must be immutable values, records for instance.
 *
 * @param <S> states
 * @param <I> operation inputs
 * @param <O> operation outputs
 */
public interface Model<S, I, O> {
    /** The state before any operation. */
    S init();

    /**
     * The state after {@code input} took effect in {@code state} and returned {@code output}, or
     * empty if the specification forbids that output there. An {@code output} of {@code null} means
     * the result was never seen ({@link Outcome#UNKNOWN}): return the state the operation would
     * leave behind whatever it returned.
     */
    Optional<S> step(S state, I input, O output);

    /**
     * The independent part of the object {@code input} touches, such as a key; operations in
     * different partitions never affect each other, so each partition is checked on its own,
     * which keeps the search small. By default the whole history is one partition.
     */
    default Object partition(I input) {
        return "all";
    }
}
