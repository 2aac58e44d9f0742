package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.client.wire.Request;
import io.flotilla.client.wire.Response;
import io.flotilla.client.wire.Session;
import io.flotilla.core.StateMachine;
import io.flotilla.core.sim.SimulationFailure;
import io.flotilla.core.sim.Simulator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The key-value store broken on purpose, to show that {@link KvSimulationTest} would catch it: each
 * must fail the simulation with a message that says what broke.
 */
class BrokenKvStoreTest {
    private static final int SEEDS = 30;
    private static final long STEPS = 5_000;

    @Test
    void aStoreThatAppliesRetriesAgainIsCaughtByTheLinearizabilityCheck() {
        // Every write gets a session of its own, derived from its log index (so every replica agrees):
        // a retry is never recognised, and applies a second time.
        Supplier<Broken> forgetsRetries = () -> new Broken() {
            @Override
            public Response apply(long index, KvCommand command) {
                if (command instanceof KvCommand.Write w) {
                    command = new KvCommand.Write(w.leaderTimeMillis(), w.write().withSession(new Session(1_000_000 + index, 1, 1)));
                }
                return store.apply(index, command);
            }
        };

        assertThatThrownBy(() -> run(forgetsRetries, "Linearizability"))
                .hasMessageContaining("Linearizability: the clients' history has no valid linearization")
                .hasMessageContaining("Not linearizable: partition");
    }

    @Test
    void aSnapshotThatDropsAKeyIsCaught() {
        Supplier<Broken> dropsAKey = () -> new Broken() {
            @Override
            public Snapshot snapshot() {
                Snapshot whole = store.snapshot();
                return out -> {
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    whole.writeTo(bytes);
                    dropFirstKey(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), new DataOutputStream(out));
                };
            }
        };

        // Caught when the snapshot is written: a new store restored from it writes other bytes back.
        assertThatThrownBy(() -> run(dropsAKey, "Snapshot round trip"))
                .isInstanceOf(SimulationFailure.class)
                .hasMessageMatching("(?s).*Snapshot round trip: node \\d+ committed a snapshot at index \\d+ \\(\\d+ bytes\\), "
                        + "but a state machine restored from it writes \\d+ different bytes.*");
    }

    @Test
    void aStoreThatExpiresSessionsByItsOwnClockIsCaught() {
        // Each replica reads the time from its own (skewed) clock rather than the leader's stamp in the log.
        int[] replicas = {0};
        Supplier<Broken> ownClock = () -> new Broken() {
            private final long skew = 40L * replicas[0]++;

            @Override
            public Response apply(long index, KvCommand command) {
                if (command instanceof KvCommand.Write w) {
                    command = new KvCommand.Write(w.leaderTimeMillis() + skew, w.write());
                }
                return store.apply(index, command);
            }
        };

        assertThatThrownBy(() -> run(ownClock, ""))
                .isInstanceOf(SimulationFailure.class)
                .hasMessageMatching("(?s).*(Deterministic apply: at index \\d+ node \\d+ got .* but node \\d+ got "
                        + "|Snapshot state: node \\d+ committed a snapshot at index \\d+ .* differs from that of a "
                        + "replica that applied the committed log up to there).*");
    }

    /** Runs seeds until one fails with {@code expected} in its message, and throws that failure. */
    private static void run(Supplier<Broken> store, String expected) {
        for (long seed = 1; seed <= SEEDS; seed++) {
            try {
                Simulator.of(() -> new KvWorkload(store), 1).withSeeds(seed, 1).withSteps(STEPS).run();
            } catch (SimulationFailure f) {
                if (f.getMessage().contains(expected)) {
                    throw f;
                }
            }
        }
    }

    /** Copies a {@link KvStateMachine} snapshot without its first key (the format of {@code snapshot()}). */
    private static void dropFirstKey(DataInputStream in, DataOutputStream out) throws IOException {
        out.writeInt(in.readInt()); // version
        out.writeLong(in.readLong()); // log time
        out.writeLong(in.readLong()); // session limits
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        int keys = in.readInt();
        out.writeInt(Math.max(0, keys - 1));
        if (keys > 0) {
            in.readNBytes(in.readInt()); // the first key and its value, dropped
            in.readNBytes(in.readInt());
        }
        in.transferTo(out); // the other keys, then the sessions
        out.flush();
    }

    /** The store, to break by overriding. */
    private abstract static class Broken implements StateMachine<KvCommand, Request.Read, Response> {
        final KvStateMachine store = new KvStateMachine(KvWorkload.SESSIONS);

        @Override
        public Response apply(long index, KvCommand command) {
            return store.apply(index, command);
        }

        @Override
        public Response query(Request.Read get) {
            return store.query(get);
        }

        @Override
        public Snapshot snapshot() {
            return store.snapshot();
        }

        @Override
        public void restore(InputStream in) throws IOException {
            store.restore(in);
        }
    }
}
