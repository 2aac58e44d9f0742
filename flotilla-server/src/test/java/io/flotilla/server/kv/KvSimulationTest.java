package io.flotilla.server.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.flotilla.core.sim.SimulationReport;
import io.flotilla.core.sim.Simulator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The key-value store, sessions and all, under the seeded simulation: crashes, partitions, a lost
 * disk, snapshots and compaction, membership changes; retried writes must apply once and the
 * history must be linearizable to {@link KvModel}. {@code -Dsim.seeds=N} runs more seeds,
 * {@code -Dsim.seed=S} replays one (see {@link Simulator}).
 */
class KvSimulationTest {
    /** About 30 s on a busy two-core machine (120 seeds took 19 s). */
    private static final int DEFAULT_SEEDS = 200;
    private static final int MANY_KEYS_SEEDS = 120;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hung protocol
    void theStoreIsLinearizableAndAppliesRetriesOnceUnderFaults() {
        SimulationReport report = Simulator.of(KvWorkload::new, DEFAULT_SEEDS).run();

        assertThat(report.retries()).as("retries exercised").isPositive();
        assertThat(report.undecided()).as("seeds the checker could not decide").isZero();
    }

    /**
     * MSET, a DEL of several keys and MGET (the Redis port's) take effect at one point on all their
     * keys, retried or not: checked against the whole store as one register, so fewer seeds.
     */
    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void writesAndReadsOfManyKeysAreAtomic() {
        SimulationReport report = Simulator.of(KvWorkload::withManyKeys, MANY_KEYS_SEEDS).run();

        assertThat(report.retries()).as("retries exercised").isPositive();
        assertThat(report.undecided()).as("seeds the checker could not decide").isZero();
    }
}
