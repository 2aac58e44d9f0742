import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flotilla.core.StateMachine;
import io.flotilla.core.sim.SimulationFailure;
import io.flotilla.core.sim.Simulator;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A kit that cannot fail proves nothing: the README's counter, broken on purpose in the two ways
 * replicated state machines usually break, must be caught by {@link Simulator} with a message that
 * says what is wrong, on which seed, and how to replay it.
 */
class BrokenCounterTest {
    @Test
    void aCounterWhoseSnapshotMissesTheLastAddIsCaught() {
        Simulator<?, ?, ?, ?> kit = Simulator.of(() -> new CounterSimulationTest.CounterWorkload() {
            @Override
            public StateMachine<CounterExample.Add, String, Long> newStateMachine() {
                return new Broken() {
                    private long beforeLastAdd;

                    @Override
                    public Long apply(long index, CounterExample.Add add) {
                        long value = counter.apply(index, add);
                        beforeLastAdd = value - add.amount();
                        return value;
                    }

                    @Override
                    public Snapshot snapshot() {
                        long v = beforeLastAdd; // the bug: the snapshot misses the newest entry
                        return out -> new DataOutputStream(out).writeLong(v);
                    }
                };
            }
        }, 20).withSeeds(1, 20).withSteps(5_000);

        assertThatThrownBy(kit::run)
                .isInstanceOf(SimulationFailure.class)
                .hasMessageStartingWith("Simulation failed: seed ")
                // Caught when the snapshot is written: a new counter restored from it writes other bytes back.
                .hasMessageMatching("(?s).*Snapshot round trip: node \\d+ committed a snapshot at index \\d+ \\(8 bytes\\), "
                        + "but a state machine restored from it writes 8 different bytes.*")
                .hasMessageContaining("Replay: ./mvnw -pl flotilla-core test "
                        + "-Dtest=BrokenCounterTest#aCounterWhoseSnapshotMissesTheLastAddIsCaught -Dsim.seed=");
    }

    @Test
    void aCounterThatIsNotDeterministicIsCaught() {
        Simulator<?, ?, ?, ?> kit = Simulator.of(() -> new CounterSimulationTest.CounterWorkload() {
            @Override
            public StateMachine<CounterExample.Add, String, Long> newStateMachine() {
                Random ownRandom = new Random(); // the bug: each replica draws its own, so replicas drift apart
                return new Broken() {
                    @Override
                    public Long apply(long index, CounterExample.Add add) {
                        long amount = ownRandom.nextInt(20) == 0 ? add.amount() + 1 : add.amount();
                        return counter.apply(index, new CounterExample.Add(amount));
                    }
                };
            }
        }, 20).withSeeds(1, 20).withSteps(5_000);

        assertThatThrownBy(kit::run)
                .isInstanceOf(SimulationFailure.class)
                .hasMessageStartingWith("Simulation failed: seed ")
                // Caught when two replicas answer the same entry differently, or when a snapshot's state differs
                // from the committed log's, whichever comes first (this bug is random, so the seed cannot say).
                .hasMessageMatching("(?s).*(Deterministic apply: at index \\d+ node \\d+ got \\d+ but node \\d+ got \\d+"
                        + "|Snapshot state: node \\d+ committed a snapshot at index \\d+ .* differs from that of a "
                        + "replica that applied the committed log up to there).*")
                .hasMessageContaining("Replay: ");
    }

    /** The README's counter, to break by overriding. */
    private abstract static class Broken implements StateMachine<CounterExample.Add, String, Long> {
        final CounterExample.Counter counter = new CounterExample.Counter();

        @Override
        public Long query(String name) {
            return counter.query(name);
        }

        @Override
        public Snapshot snapshot() {
            return counter.snapshot();
        }

        @Override
        public void restore(InputStream in) throws IOException {
            counter.restore(in);
        }
    }
}
