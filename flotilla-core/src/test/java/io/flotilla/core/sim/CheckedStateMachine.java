package io.flotilla.core.sim;

import io.flotilla.core.Bytes;
import io.flotilla.core.Codec;
import io.flotilla.core.SnapshotMeta;
import io.flotilla.core.StateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Wraps a node's state machine to report every command it applies, and every snapshot it is
 * restored from, to the {@link Invariants}.
 */
final class CheckedStateMachine<C, Q, R> implements StateMachine<C, Q, R> {
    private final int node;
    private final StateMachine<C, Q, R> delegate;
    private final Codec<C> codec;
    private final Invariants invariants;
    private final SimStorage log;
    private final SimStats stats;

    CheckedStateMachine(int node, StateMachine<C, Q, R> delegate, Codec<C> codec, Invariants invariants, SimStorage log,
                        SimStats stats) {
        this.node = node;
        this.log = log;
        this.delegate = delegate;
        this.codec = codec;
        this.invariants = invariants;
        this.stats = stats;
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
        stats.snapshotsTaken++;
        return delegate.snapshot();
    }

    /**
     * Restores the delegate, then checks that it writes back exactly the bytes it was restored from (so
     * the restore lost nothing) and that they hold the committed state at the snapshot's index.
     */
    @Override
    public void restore(InputStream in) throws IOException {
        SnapshotMeta meta = log.latestSnapshot().orElseThrow(() -> new AssertionError("node " + node + " restores with no snapshot"));
        Bytes data = Bytes.wrap(in.readAllBytes());
        checkRoundTrip(delegate, data, "node " + node + " restored the snapshot at index " + meta.index());
        invariants.restored(node, meta, data);
    }

    /**
     * Restores {@code stateMachine} from {@code data} and checks that it writes the same bytes back:
     * a snapshot that loses something, or a restore that does, shows here. The harness also runs this
     * on a new state machine for every snapshot a node commits, so that a snapshot writer that drops
     * data is caught when it writes, not only when a node happens to restore from it.
     */
    static void checkRoundTrip(StateMachine<?, ?, ?> stateMachine, Bytes data, String what) {
        try {
            stateMachine.restore(new ByteArrayInputStream(data.unsafeArray()));
        } catch (IOException e) {
            throw new InvariantViolation("Snapshot round trip", what + " (" + data.length() + " bytes), but the state machine "
                    + "cannot read it back: " + e);
        }
        Bytes again = write(stateMachine.snapshot());
        if (!again.equals(data)) {
            throw new InvariantViolation("Snapshot round trip", what + " (" + data.length() + " bytes), but a state machine "
                    + "restored from it writes " + again.length() + " different bytes");
        }
    }

    static Bytes write(Snapshot snapshot) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            snapshot.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Bytes.wrap(out.toByteArray());
    }
}
