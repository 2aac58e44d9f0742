package io.flotilla.core.sim;

import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.Model;
import java.util.SplittableRandom;

/**
 * The application under simulation, plugged into the harness: its state machine, what clients ask
 * of it, and the sequential model their history must be linearizable to. The harness knows
 * nothing else about it.
 *
 * @param <I> client operations, as the model sees them
 * @param <C> commands, proposed through the log
 * @param <Q> queries, served as linearizable reads
 * @param <R> results, which are also the model's outputs
 */
interface Workload<I, C, Q, R> {
    StateMachine<C, Q, R> newStateMachine();

    Codec<C> codec();

    Model<?, I, R> model();

    /** The next operation a client invokes. Values written should be unique, so reads say which write they saw. */
    I nextOperation(SplittableRandom random);

    /** How {@code operation} reaches the cluster. */
    Request<C, Q> request(I operation);

    /** A client operation as sent to a node: a command through the log, or a read. */
    sealed interface Request<C, Q> {
        record Propose<C, Q>(C command) implements Request<C, Q> {
        }

        record Read<C, Q>(Q query) implements Request<C, Q> {
        }
    }
}
