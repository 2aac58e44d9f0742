package io.flotilla.core.sim;

import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import java.io.IOException;
import java.io.InputStream;

/** Wraps a node's state machine to report every command it applies to the {@link Invariants}. */
final class CheckedStateMachine<C, Q, R> implements StateMachine<C, Q, R> {
    private final int node;
    private final StateMachine<C, Q, R> delegate;
    private final Codec<C> codec;
    private final Invariants invariants;
    private final SimStorage log;

    CheckedStateMachine(int node, StateMachine<C, Q, R> delegate, Codec<C> codec, Invariants invariants, SimStorage log) {
        this.node = node;
        this.log = log;
        this.delegate = delegate;
        this.codec = codec;
        this.invariants = invariants;
    }

    @Override
    public R apply(long index, C command) {
        R result = delegate.apply(index, command);
        invariants.applied(node, index, codec.encode(command), result, log);
        return result;
    }

    @Override
    public R query(Q query) {
        return delegate.query(query);
    }

    @Override
    public Snapshot snapshot() {
        return delegate.snapshot();
    }

    @Override
    public void restore(InputStream in) throws IOException {
        delegate.restore(in);
    }
}
