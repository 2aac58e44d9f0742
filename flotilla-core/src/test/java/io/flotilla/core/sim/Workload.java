package io.flotilla.core.sim;

import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.Model;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * An application under simulation, as {@link Simulator} sees it: its state machine and codec, what
 * its clients ask of it, and the sequential model their history must be linearizable to. The
 * simulation knows nothing else about it.
 *
 * <p>The simulation takes a fresh workload for every seed, and calls it from one thread only, so
 * an implementation may keep state (the values written so far, each client's session) in plain
 * fields. Draw every random choice from the {@code random} given: that is what makes a seed replay.
 *
 * @param <I> client operations, as the model sees them (the inputs of the history)
 * @param <C> commands, proposed through the log
 * @param <Q> queries, served as linearizable reads (ReadIndex)
 * @param <R> results, which are also the model's outputs
 */
public interface Workload<I, C, Q, R> {
    /** A new replica's state machine: one per node incarnation, plus one the harness feeds the committed log. */
    StateMachine<C, Q, R> newStateMachine();

    Codec<C> codec();

    Model<?, I, R> model();

    /**
     * The next operation {@code client} invokes (clients count from 0; each has one operation open at
     * a time). Written values should be unique, so that reads say which write they saw.
     */
    I nextOperation(int client, SplittableRandom random);

    /**
     * How {@code operation} reaches the cluster, sent at virtual time {@code now} (milliseconds; a
     * command that carries a leader's clock, as for log-time expiry, takes it from here).
     */
    Submission<C, Q> request(I operation, long now);

    /**
     * The same command again, after an attempt whose answer was lost (a timeout, a crash of the node
     * holding it, an answer dropped on the way): for an application whose clients retry, with what
     * makes the retry apply once (a session and sequence number, say). The history keeps one
     * operation, so the checker fails if a retry takes effect twice. Empty, the default: the client
     * gives up and the operation's outcome stays unknown.
     */
    default Optional<Submission<C, Q>> retry(I operation, long now) {
        return Optional.empty();
    }

    /**
     * Whether {@code result} leaves the command's outcome unknown (say, the session that would tell a
     * retry from the first attempt has expired), so that the checker treats it as possibly applied,
     * or not. By default every result is an outcome.
     */
    default boolean outcomeUnknown(I operation, R result) {
        return false;
    }
}
