import io.flotilla.core.Codec;
import io.flotilla.core.StateMachine;
import io.flotilla.core.check.Model;
import io.flotilla.core.sim.Simulator;
import io.flotilla.core.sim.Submission;
import io.flotilla.core.sim.Workload;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** CounterExample's state machine under the seeded simulation: faults, snapshots, and a linearizability check. */
class CounterSimulationTest {
    /** What a client does: add an amount through the log, or (amount 0) read the counter. */
    record Op(long add) {}

    /** The counter's sequential specification: an add returns the new total, a read the current one. */
    static final Model<Long, Op, Long> MODEL = new Model<>() {
        @Override public Long init() { return 0L; }
        @Override public Optional<Long> step(Long total, Op op, Long result) {   // result null: unknown outcome
            return result == null || result == total + op.add() ? Optional.of(total + op.add()) : Optional.empty();
        }
    };

    static class CounterWorkload implements Workload<Op, CounterExample.Add, String, Long> {
        @Override public StateMachine<CounterExample.Add, String, Long> newStateMachine() { return new CounterExample.Counter(); }
        @Override public Codec<CounterExample.Add> codec() { return CounterExample.CODEC; }
        @Override public Model<?, Op, Long> model() { return MODEL; }
        @Override public Op nextOperation(int client, SplittableRandom random) {
            return new Op(random.nextBoolean() ? random.nextLong(1, 1000) : 0);
        }
        @Override public Submission<CounterExample.Add, String> request(Op op, long now) {
            return op.add() == 0 ? new Submission.Read<>("value") : new Submission.Propose<>(new CounterExample.Add(op.add()));
        }
    }

    @Test
    void theCounterStaysLinearizableUnderFaults() {
        Simulator.of(CounterWorkload::new, 40).withSteps(5_000).run();   // seeds 1..40; -Dsim.seed=S replays one
    }
}
