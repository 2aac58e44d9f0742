package io.flotilla.core.sim;

/**
 * What a {@link Simulator} run did, summed over its seeds.
 *
 * @param operations      client operations invoked (commands and reads)
 * @param checked         operations that went to the linearizability checker (answered, or of unknown outcome)
 * @param undecided       seeds whose history was too large for the checker to decide (shorten the runs)
 * @param retries         commands sent again after an attempt's answer was lost
 * @param millis          wall-clock time the run took
 * @param details         every counter: faults injected, snapshots, elections, membership changes...
 */
public record SimulationReport(long firstSeed, int seeds, long steps, long virtualMillis, long operations, long checked,
                               long undecided, long retries, long millis, String details) {
    static SimulationReport of(long firstSeed, int seeds, SimStats total, long millis) {
        return new SimulationReport(firstSeed, seeds, total.steps, total.virtualTime, total.operations,
                total.operationsChecked, total.undecided, total.retries, millis, total.toString());
    }

    @Override
    public String toString() {
        return String.format("seeds %d..%d: %d steps, %d virtual s, %d operations (%d checked for linearizability, "
                        + "%d retries)%s, %d ms", firstSeed, firstSeed + seeds - 1, steps, virtualMillis / 1000, operations, checked,
                retries, undecided == 0 ? "" : ", " + undecided + " seeds undecided", millis);
    }
}
